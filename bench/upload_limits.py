"""Peak memory of `flask import-log` on hostile files and on the largest files within the limits.

    .venv/bin/python bench/upload_limits.py                 # every case
    .venv/bin/python bench/upload_limits.py --only far_cell.xlsx,widest.csv

Builds a county with a household-survey contract of 100,000 open assignments (as
bench/import_log.py does), then runs each file through `tests/limited_cli.py import-log` (the
real CLI, default config) in a fresh process and prints its exit status, seconds, the peaks of
its address space (VmPeak) and resident memory (VmHWM), and the start of its message.

Cases: the hostile files of `tests/hostile_files.py`; a valid log of 100,000 rows as CSV and as
.xlsx (accepted); and the widest files the limits let through — 100,000 rows of the template's
columns plus SPARE_COLUMNS filled with distinct text up to the unpacked-size cap, as CSV and as
.xlsx (refused for their cells, so their 10,000 errors and marked copy are made too).
"""
from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_log import CONTRACT, SERVICE, build  # noqa: E402
from tests import hostile_files  # noqa: E402

ROWS = 100_000
NO_LIMIT = 64 << 30


def widest_cells(columns: int, budget: int, xml_per_cell: int) -> tuple[int, int]:
    """(columns, characters per cell) filling `budget` bytes with ROWS rows."""
    return columns, max(budget // (ROWS * columns) - xml_per_cell, 1)


def widest_csv(headers: list[str], budget: int) -> bytes:
    from oversight.adapters.tables.reading import SPARE_COLUMNS

    columns, width = widest_cells(len(headers) + SPARE_COLUMNS - 1, budget - (1 << 20), 1)
    head = ",".join(headers + [f"附加{n}" for n in range(columns - len(headers))])
    body = "".join(",".join(f"{row:0{width}d}"[-width:] for _ in range(columns)) + "\n" for row in range(ROWS))
    return (head + "\n" + body).encode()


def widest_xlsx(headers: list[str], budget: int) -> bytes:
    from oversight.adapters.tables.extent import column_letter
    from oversight.adapters.tables.reading import SPARE_COLUMNS

    columns, width = widest_cells(len(headers) + SPARE_COLUMNS - 1, budget - (2 << 20), 48)
    names = headers + [f"附加{n}" for n in range(columns - len(headers))]
    letters = [column_letter(position) for position in range(columns)]
    rows = [hostile_files.header_row(names)]
    for row in range(2, ROWS + 2):
        text = f"{row:0{width}d}"[-width:]
        rows.append(f'<row r="{row}">' + "".join(hostile_files.inline_cell(f"{letter}{row}", text)
                                                  for letter in letters) + "</row>")
    return hostile_files.workbook("".join(rows))


def cases(built: dict, headers: list[str], budget: int) -> dict:
    return {
        "far_cell.xlsx": lambda: hostile_files.far_cell_xlsx(headers),
        "zip_bomb.xlsx": lambda: hostile_files.zip_bomb_xlsx(headers, 2_460_000_000),
        "lying_zip.xlsx": lambda: hostile_files.lying_sizes(hostile_files.zip_bomb_xlsx(headers, 1 << 30),
                                                            "xl/worksheets/sheet1.xml"),
        "billion_laughs.xlsx": lambda: hostile_files.billion_laughs_xlsx(headers),
        "positionless.xlsx": lambda: hostile_files.positionless_wide_xlsx(headers),
        "amplifier.xlsx": lambda: hostile_files.shared_string_amplifier_xlsx(headers),
        "nul.csv": lambda: hostile_files.nul_csv(headers),
        "all_bad.csv": lambda: hostile_files.all_bad_csv(headers, ROWS),
        "valid.csv": lambda: Path(built["files"]["csv"]).read_bytes(),
        "valid.xlsx": lambda: Path(built["files"]["xlsx"]).read_bytes(),
        "widest.csv": lambda: widest_csv(headers, budget),
        "widest.xlsx": lambda: widest_xlsx(headers, budget),
    }


def run(workdir: Path, database: str, name: str, data: bytes, limit: int) -> dict:
    path = workdir / name
    path.write_bytes(data)
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench",
           "OVERSIGHT_INSTANCE_PATH": str(workdir / f"instance-{name}"), "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "limited_cli.py"), str(limit), "import-log", str(path),
                           "--contract", CONTRACT, "--service-type", SERVICE, "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    peaks = {key: int(value) / 1024 for key, value in re.findall(r"(VmPeak|VmHWM)=(\d+)", done.stderr)}
    message = re.search(r'"message": (null|"[^"]*")', done.stdout)
    return {"status": done.returncode, "seconds": seconds, "size_mb": len(data) / 2**20,
            "unpacked_mb": unpacked(data) / 2**20, **peaks,
            "message": message.group(1) if message else done.stderr.strip().splitlines()[-2:]}


def unpacked(data: bytes) -> int:
    if not data.startswith(b"PK"):
        return len(data)
    return sum(member.file_size for member in zipfile.ZipFile(io.BytesIO(data)).infolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--limit", type=int, default=NO_LIMIT, help="RLIMIT_AS of each run in bytes (default none)")
    args = parser.parse_args()
    from oversight.config import Defaults
    from oversight.domain.completion_log import TEMPLATE_COLUMNS

    headers = [column.header for column in TEMPLATE_COLUMNS[SERVICE]]
    workdir = Path(tempfile.mkdtemp(prefix="oversight-limits-"))
    try:
        built = build(workdir, ROWS, ["csv", "xlsx"])
        chosen = cases(built, headers, Defaults.UPLOAD_MAX_UNCOMPRESSED_BYTES)
        names = args.only.split(",") if args.only else list(chosen)
        print(f"{'file':20} {'exit':>4} {'size MB':>8} {'unpacked':>9} {'seconds':>8} {'VmPeak MB':>10} "
              f"{'VmHWM MB':>9}  message")
        for name in names:
            database = workdir / f"{name}.sqlite"
            shutil.copyfile(built["database"], database)
            result = run(workdir, str(database), name, chosen[name](), args.limit)
            print(f"{name:20} {result['status']:>4} {result['size_mb']:8.1f} {result['unpacked_mb']:9.1f} "
                  f"{result['seconds']:8.1f} {result.get('VmPeak', 0):10.0f} {result.get('VmHWM', 0):9.0f}  "
                  f"{str(result['message'])[:60]}")
            (workdir / name).unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
