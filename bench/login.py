"""How long a failed log-in takes for a real user and for an unknown name, at production argon2 cost.

    .venv/bin/python bench/login.py [--attempts 30]

Serves the real app (SQLite in a temporary folder, argon2-cffi's default cost, throttle limits
raised so that nothing is refused) through Flask's test client, each attempt from its own
address, and prints the median and p90 milliseconds of each kind, and their difference. The
two should differ by no more than the noise: an unknown name is verified against a dummy hash.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oversight import create_app  # noqa: E402
from oversight.extensions import db  # noqa: E402
from oversight.services.accounts import create_user  # noqa: E402

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def attempt(app, address: str, username: str) -> float:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = _CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    started = time.perf_counter()
    response = client.post("/login", data={"username": username, "password": "not-the-password",
                                           "csrf_token": token})
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        unlimited = "1000000 per hour"
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "SECRET_KEY": "bench",
                          "UPLOADS_DIR": folder, "LOG_LEVEL": "WARNING", "LOGIN_FAILURES_PER_ADDRESS": unlimited,
                          "LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS": unlimited, "LOGIN_FAILURES_PER_ACCOUNT": unlimited})
        with app.app_context():
            db.create_all()
            create_user("real-user", "the-right-password", "supervisor", "测试")
            db.session.commit()
        timings = {"real user, wrong password": [], "unknown user": []}
        attempt(app, "10.9.0.1", "warm-up")
        for n in range(args.attempts):  # interleaved, so that machine load falls on both alike
            timings["real user, wrong password"].append(attempt(app, f"10.9.1.{n % 250}", "real-user"))
            timings["unknown user"].append(attempt(app, f"10.9.2.{n % 250}", f"nobody-{n}"))
        medians = {}
        for kind, values in timings.items():
            values.sort()
            medians[kind] = statistics.median(values)
            print(f"{kind:28s} median {medians[kind]:7.1f} ms   p90 {values[int(len(values) * 0.9) - 1]:7.1f} ms")
        print(f"{'difference of medians':28s} {abs(medians['real user, wrong password'] - medians['unknown user']):7.1f} ms")


if __name__ == "__main__":
    main()
