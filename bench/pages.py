"""Page latency under concurrent users, against gunicorn on loopback, on the bench database.

    .venv/bin/python bench/pages.py --db sqlite
    .venv/bin/python bench/pages.py --db postgresql --users 1,4,8 --seconds 20

Needs the bench database (`bench/history.py build --db …`). Starts
`gunicorn -w 2 -b 127.0.0.1:PORT 'app:create_app()'` on it, then runs a second process, the
load driver in this file (`drive`): per page and per concurrency level it starts that many
threads, each a user with a session of its own (CSRF token from /login, then the log-in
POST, cookies kept), requesting the page back to back (no think time) for a warm-up and then
`--seconds`; every answer must be 200 and is read in full. It prints per page: requests, req/s,
median, p95 and max latency as the client saw them, and the server's own median (the request log).
Only 127.0.0.1 is ever contacted; gunicorn is stopped at the end, whatever happens.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.history import KINDS, OUT, ROOT, bench_app, bench_env, exists, load_average  # noqa: E402

HOST = "127.0.0.1"
LOGIN_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TIMEOUT = 30


# --- the load driver (the second process) ----------------------------------------------------------

class Session:
    """One user's connection and cookies."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            # The server closed the kept-alive connection (gunicorn's sync workers do): reconnect.
            self.connection.close()
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, data

    def log_in(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/login")
        token = LOGIN_TOKEN.search(page.decode())
        if status != 200 or token is None:
            raise RuntimeError(f"no log-in form (HTTP {status})")
        status, _ = self.request("POST", "/login", urlencode(
            {"csrf_token": token.group(1), "username": username, "password": password}))
        if status != 302:
            raise RuntimeError(f"log-in of {username} refused (HTTP {status})")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def drive(port: int, path: str, username: str, users: int, warmup: float, seconds: float,
          max_requests: int) -> dict:
    """`users` threads request `path` back to back; latencies of the measured window only."""
    sessions = [Session(port) for _ in range(users)]
    for session in sessions:
        session.log_in(username, f"demo-{username}")
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    started = time.perf_counter()
    measure_from, stop_at = started + warmup, started + warmup + seconds

    def user(session: Session) -> None:
        while True:
            begin = time.perf_counter()
            if begin >= stop_at:
                return
            status, _ = session.request("GET", path)
            end = time.perf_counter()
            with lock:
                if status != 200:
                    errors.append(f"HTTP {status}")
                elif begin >= measure_from:
                    latencies.append(end - begin)
                if len(latencies) >= max_requests:
                    return

    threads = [threading.Thread(target=user, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    window = min(time.perf_counter(), stop_at) - measure_from
    if not latencies:
        return {"requests": 0, "errors": len(errors), "error": errors[:1]}
    return {
        "requests": len(latencies), "errors": len(errors), "rps": len(latencies) / window,
        "median_ms": statistics.median(latencies) * 1000, "p95_ms": _percentile(latencies, 0.95) * 1000,
        "max_ms": max(latencies) * 1000,
    }


# --- the bench (the first process) ----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def targets(kind: str) -> list[tuple[str, str, str]]:
    """(label, path, username) of every page measured, found in the bench database."""
    from sqlalchemy import func, select

    from oversight.domain.periods import quarter_of
    from oversight.extensions import db
    from oversight.models import Area, Assignment, Contract, QuarterlyReview, SamplingDraw, Subject

    today = date.today()
    with bench_app(kind).app_context():
        current = list(db.session.execute(select(Contract).where(
            Contract.term_start <= today, Contract.term_end >= today).order_by(Contract.code)).scalars())
        care = next(c for c in current if "care_visit" in c.service_types)
        last = str(quarter_of(today).previous())
        review = db.session.execute(select(QuarterlyReview).where(
            QuarterlyReview.contract_id == care.id, QuarterlyReview.quarter == last)
            .order_by(QuarterlyReview.revision.desc())).scalars().first()
        draw = db.session.execute(select(SamplingDraw).where(
            SamplingDraw.contract_id == care.id, SamplingDraw.quarter == last, SamplingDraw.purpose == "spot_check",
            SamplingDraw.service_type == "care_visit")).scalar_one()
        # The busiest township of 赣县区, whose supervisor filters by it (another county's township
        # would list nothing to that supervisor).
        township = db.session.execute(
            select(Subject.township).join(Assignment, Assignment.subject_id == Subject.id)
            .where(Subject.county_id == care.county_id)
            .group_by(Subject.township).order_by(func.count().desc()).limit(1)).scalar_one()
        total = db.session.execute(select(func.count()).select_from(Assignment)).scalar_one()
        draw_label = (f"draw #{draw.id} ({care.code} {last} care, n {len(draw.items)} of {len(draw.population)})")
        review_label = f"review #{review.id} ({care.code} {last})"
        zhanggong = db.session.execute(select(Area.id).where(Area.code == "360702")).scalar_one()
        oldest = db.session.execute(select(Contract).where(Contract.county_id == care.county_id)
                                    .order_by(Contract.term_start, Contract.code)).scalars().first()
    filters = {
        "none": {},
        "overdue": {"status": "overdue"},
        "contract+service+month": {"contract": care.id, "service_type": "care_visit", "due_month": f"{today:%Y-%m}"},
        "township+completed": {"township": township, "status": "completed"},
    }
    # 赣县区's supervisor and contractor (county users), the city's supervisor (three counties).
    found = [("dashboard (supervisor)", "/dashboard", "supervisor"),
             ("dashboard (contractor)", "/dashboard", "renhe"),
             ("city dashboard (city supervisor)", "/dashboard/city", "city-supervisor"),
             ("dashboard (city supervisor, 3 counties)", "/dashboard", "city-supervisor"),
             ("dashboard (city supervisor, ?county=章贡区)", f"/dashboard?county={zhanggong}", "city-supervisor"),
             ("dashboard (章贡区 supervisor)", "/dashboard", "zg-supervisor"),
             ("assignments: none (章贡区 supervisor)", "/assignments/", "zg-supervisor")]
    found += [(f"assignments: {name}", "/assignments/" + (f"?{urlencode(query)}" if query else ""), "supervisor")
              for name, query in filters.items()]
    found += [(review_label, f"/reviews/{review.id}", "supervisor"), (draw_label, f"/draws/{draw.id}", "supervisor")]
    # The records list, newest visit first: of every county, of one, of a contract of ten years ago.
    found += [("records (city supervisor, 3 counties)", "/records/", "city-supervisor"),
              ("records (supervisor)", "/records/", "supervisor"),
              (f"records, contract {oldest.code} (supervisor)", f"/records/?contract={oldest.id}", "supervisor")]
    print(f"  {total:,} assignments; township filter {township}")
    return found


def start_server(kind: str, port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"{HOST}:{port}", "--timeout", "60", "app:create_app()"],
        cwd=ROOT, env=bench_env(kind), stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}); see {log_path}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                pass
            status, _ = Session(port).request("GET", "/login")
            if status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def server_medians(log_path: Path, since: int) -> dict[str, float]:
    """Median server-side duration per path, from the request log lines after byte `since`."""
    durations: dict[str, list[float]] = {}
    with log_path.open() as log:
        log.seek(since)
        for line in log:
            if '"request"' in line:
                entry = json.loads(line)
                if entry.get("method") == "GET" and entry.get("status") == 200:
                    durations.setdefault(entry["path"], []).append(entry["duration_ms"])
    return {path: statistics.median(values) for path, values in durations.items()}


def run(kind: str, levels: list[int], warmup: float, seconds: float, max_requests: int, only: str | None) -> None:
    if not exists(kind):
        sys.exit(f"No {kind} bench database: run bench/history.py build --db {kind} first")
    print(f"Pages on {kind}, load average {load_average()}")
    pages = [page for page in targets(kind) if only is None or only in page[0]]
    port = free_port()
    log_path = OUT / f"gunicorn-{kind}.log"
    server = start_server(kind, port, log_path)
    results = []
    try:
        for users in levels:
            for label, path, username in pages:
                since = log_path.stat().st_size
                loads = load_average()
                finished = subprocess.run(
                    [sys.executable, __file__, "drive", "--port", str(port), "--path", path, "--username", username,
                     "--users", str(users), "--warmup", str(warmup), "--seconds", str(seconds),
                     "--max-requests", str(max_requests)],
                    capture_output=True, text=True, timeout=warmup + seconds + 120)
                if finished.returncode:
                    raise RuntimeError(f"load driver failed on {path}: {finished.stderr[-2000:]}")
                result = json.loads(finished.stdout)
                time.sleep(0.5)  # let the last request lines reach the log
                result.update(label=label, path=path, users=users, load=loads,
                              server_median_ms=server_medians(log_path, since).get(path.split("?")[0]))
                results.append(result)
                print(_line(result), flush=True)
    finally:
        stop_server(server)
    print(f"Done, load average {load_average()}")
    (OUT / f"pages-{kind}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))


def _line(result: dict) -> str:
    if not result["requests"]:
        return f"  {result['label']:<62} users {result['users']:>2}: no answer ({result.get('error')})"
    server = result["server_median_ms"]
    return (f"  {result['label']:<62} users {result['users']:>2}: {result['requests']:>5} req "
            f"{result['rps']:6.1f}/s  median {result['median_ms']:6.1f} ms  p95 {result['p95_ms']:6.1f} ms  "
            f"max {result['max_ms']:6.0f} ms  server median {server if server is None else f'{server:.1f}'} ms"
            f"{'  ERRORS ' + str(result['errors']) if result['errors'] else ''}  [load {result['load']}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    driver = sub.add_parser("drive", help="(internal) the load driver process")
    driver.add_argument("--port", type=int, required=True)
    driver.add_argument("--path", required=True)
    driver.add_argument("--username", required=True)
    driver.add_argument("--users", type=int, required=True)
    driver.add_argument("--warmup", type=float, required=True)
    driver.add_argument("--seconds", type=float, required=True)
    driver.add_argument("--max-requests", type=int, required=True)
    parser.add_argument("--db", choices=KINDS, default="sqlite")
    parser.add_argument("--users", default="1,4", help="concurrency levels, comma-separated")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--seconds", type=float, default=15, help="measured time per page and level")
    parser.add_argument("--max-requests", type=int, default=5000, help="stop a page's run after this many")
    parser.add_argument("--only", default=None, help="only the pages whose label contains this text")
    args = parser.parse_args()
    if args.command == "drive":
        print(json.dumps(drive(args.port, args.path, args.username, args.users, args.warmup, args.seconds,
                               args.max_requests)))
        return
    run(args.db, [int(level) for level in args.users.split(",")], args.warmup, args.seconds, args.max_requests,
        args.only)


if __name__ == "__main__":
    main()
