"""How long `seed-demo` takes at each scale, on SQLite or PostgreSQL.

    .venv/bin/python bench/seed_demo.py                                  # small and county, SQLite
    .venv/bin/python bench/seed_demo.py --scales small,county,city --db postgresql

Each scale is seeded (as of a fixed day, seed 7, through the same services as `seed-demo`) on a
fresh database of its own: a SQLite file in a temporary folder, or a scratch schema on the local
PostgreSQL server (`--postgres-url`), dropped afterwards. Prints the seconds and what was made.
"""
from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from oversight import create_app  # noqa: E402
from oversight.extensions import db  # noqa: E402
from seeds.demo import SCALES, build_demo  # noqa: E402

TODAY = date(2026, 11, 25)
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def seed_once(scale: str, kind: str, folder: Path, postgres_url: str) -> tuple[float, dict]:
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/{scale}.sqlite", "SECRET_KEY": "bench",
              "UPLOADS_DIR": str(folder / scale / "uploads"), "LOG_LEVEL": "WARNING"}
    schema = None
    if kind == "postgresql":
        schema = f"bench_seed_{scale}_{secrets.token_hex(4)}"
        with create_engine(postgres_url).begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        config.update(SQLALCHEMY_DATABASE_URI=postgres_url,
                      SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={schema}"}})
    try:
        app = create_app(config)
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            summary = build_demo(scale, 7, TODAY)
            seconds = time.perf_counter() - started
            db.engine.dispose()
        return seconds, summary.counts
    finally:
        if schema is not None:
            with create_engine(postgres_url).begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="small,county", help=f"comma-separated, of {', '.join(SCALES)}")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    args = parser.parse_args()
    scales = [scale.strip() for scale in args.scales.split(",") if scale.strip()]
    unknown = [scale for scale in scales if scale not in SCALES]
    if unknown:
        parser.error(f"unknown scale {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="bench-seed-") as folder:
        for scale in scales:
            seconds, counts = seed_once(scale, args.db, Path(folder), args.postgres_url)
            print(f"seed-demo {scale} on {args.db}: {seconds:.1f} s, "
                  f"{counts['subjects_household']} households, {counts['subjects_person']} persons, "
                  f"{counts['assignments']} assignments, {counts['completion_records']} records, "
                  f"{counts['sampling_draws']} draws, {counts['spot_checks']} checks, "
                  f"{counts['callbacks']} callbacks, {counts['quarterly_reviews']} reviews", flush=True)


if __name__ == "__main__":
    main()
