"""Benchmark of the completion-log import against its floor, on SQLite or PostgreSQL.

    .venv/bin/python bench/import_log.py                      # 100,000 rows, CSV and .xlsx, SQLite
    .venv/bin/python bench/import_log.py --rows 1000000 --formats csv
    .venv/bin/python bench/import_log.py --db postgresql --formats csv

Builds its own county (a contractor, its workers, a household-survey contract with one open
assignment per row) and a valid log of N rows, then, each in a fresh process so that the peak
memory is the step's own:

- import: `completion_import.import_file`, what `flask import-log` runs and the upload page runs
  in its worker thread (read, every SPEC section 4 rule, anomaly flags, insert, assignments
  completed, audit);
- floor: the same file read by pandas (`read_csv`, or `read_excel` with calamine), and the same
  rows (those the import stored) inserted into the same table of a fresh copy of the database
  in one transaction: by one sqlite3 `executemany` on SQLite, by one binary `COPY` (psycopg's
  `write_row` of the fetched tuples) on PostgreSQL.

A fresh copy of the database is a file copy on SQLite and `CREATE DATABASE … TEMPLATE` on
PostgreSQL (databases `bench_import_*` on 127.0.0.1, dropped at the end). Imports and floors
alternate, so that both meet the same load on a shared machine. Prints seconds and rows/s of
each (median and fastest of --repeat runs), the import's peak memory (max RSS of its
process, which includes the app's libraries, about 200 MB) and the ratio import / floor of the
medians.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_PREFIX = "bench_import_"
TODAY = date(2025, 6, 30)
CONTRACT = "BENCH-2025-001"
SERVICE = "household_survey"
TOWNSHIPS = ("梅林镇", "王母渡镇", "江口镇", "田村镇", "南塘镇", "茅店镇", "吉埠镇", "五云镇")
SURNAMES = list("刘陈钟谢黄李曾罗赖温邱朱肖王张杨廖郭胡吴卢何林叶彭邓蓝魏赵徐周孙蔡邹袁曹")
# About 130,000 distinct names, as many as a county's caseload has.
GIVEN = list("福德贵生明华国荣发林祥根金水春才文光海平有忠茂辉庆兴昌伟强军斌建永长新如禄寿宝秀英兰珍凤梅芳娥桂香"
             "花莲玉琴妹招娣菊萍红霞丽燕云冬秋清敏浩宇俊杰鹏涛磊超凯鑫")
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def id_numbers(count: int) -> np.ndarray:
    """`count` distinct valid resident ID numbers (area 360721, birth dates from 1930)."""
    index = np.arange(count)
    births = pd.to_datetime("1930-01-01") + pd.to_timedelta(index // 900, unit="D")
    bodies = ("360721" + pd.Series(births.strftime("%Y%m%d")) + pd.Series(index % 900 + 100).astype(str))
    digits = np.frombuffer(bodies.str.cat().encode(), dtype=np.uint8).reshape(count, 17) - ord("0")
    checks = _ID_CHECK[(digits * _ID_WEIGHTS).sum(axis=1) % 11]
    return (bodies + pd.Series(checks)).to_numpy()


def names(count: int, rng: np.random.Generator) -> np.ndarray:
    surname = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), count)]
    given = np.array(GIVEN)[rng.integers(0, len(GIVEN), count)]
    second = np.where(rng.random(count) < 0.6, np.array(GIVEN)[rng.integers(0, len(GIVEN), count)], "")
    return np.char.add(np.char.add(surname, given), second)


def database_url(database: str) -> str:
    """The SQLAlchemy URL of a bench database: a SQLite file's path, or a PostgreSQL name."""
    if database.startswith(PG_PREFIX):
        return f"postgresql+psycopg://{PG_SERVER.split('://', 1)[1]}/{database}"
    return f"sqlite:///{database}"


def _pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def fresh_copy(built: str, name: str, workdir: Path) -> str:
    """A copy of the built database, named `name` (a file in `workdir` on SQLite)."""
    if built.startswith(PG_PREFIX):
        database = PG_PREFIX + name.replace("-", "_")
        _pg_admin(f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}" TEMPLATE "{built}"')
        return database
    database = workdir / f"{name}.sqlite"
    shutil.copyfile(built, database)
    return str(database)


def server_cpu(database: str) -> float:
    """CPU seconds so far of the PostgreSQL backends connected to `database` (from /proc: the
    server runs on this machine); 0 on SQLite."""
    if not database.startswith(PG_PREFIX):
        return 0.0
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        pids = [pid for (pid,) in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()]
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def drop_pg_databases() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        names = connection.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                   (PG_PREFIX.replace("_", r"\_") + "%",)).fetchall()
        for (name,) in names:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def build(workdir: Path, rows: int, formats: list[str], kind: str) -> dict:
    """The database (schema and county) and the log files; returns their paths (the database's
    name on PostgreSQL)."""
    from oversight import create_app
    from oversight.domain.completion_log import TEMPLATE_COLUMNS
    from oversight.extensions import db
    from oversight.models import Assignment, Contractor, FieldWorker, Subject
    from oversight.services.completion_places import TOWNSHIP_CENTRES
    from oversight.services.registry import save_contract
    from oversight.services.areas import home_county

    rng = np.random.default_rng(20250630)
    database = str(workdir / "bench.sqlite")
    if kind == "postgresql":
        database = PG_PREFIX + "built"
        _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', f'CREATE DATABASE "{database}"')
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(database), "SECRET_KEY": "bench",
                      "UPLOADS_DIR": str(workdir / "uploads")})
    workers = max(50, rows // 400)
    with app.app_context():
        db.create_all()
        contractor = Contractor(name="基准测试社工服务中心", credit_code="91512081MA62K0260E",
                                contact_person="张敏", contact_phone="13907970001", county_id=home_county().id)
        db.session.add(contractor)
        db.session.flush()
        worker_nos = [f"G{n:05d}" for n in range(workers)]
        worker_names = names(workers, rng)
        db.session.execute(db.insert(FieldWorker), [
            {"contractor_id": contractor.id, "worker_no": no, "name": name}
            for no, name in zip(worker_nos, worker_names)])
        contract = save_contract(
            None, lines={SERVICE: (rows, 1)}, code=CONTRACT, title="基准测试合同", contractor_id=contractor.id,
            procurement_method="公开招标", amount_fen=100_000_000, term_start=date(2025, 1, 1),
            term_end=date(2025, 12, 31), performance_share_bp=3000,
            sampling_rule={"kind": "share", "share": "0.05", "floor": 5})
        ids, subject_names = id_numbers(rows), names(rows, rng)
        townships = np.array(TOWNSHIPS)[np.arange(rows) % len(TOWNSHIPS)]
        for start in range(0, rows, 50_000):
            stop = min(start + 50_000, rows)
            db.session.execute(db.insert(Subject), [
                {"county_id": contract.county_id, "kind": "household", "name": subject_names[i], "id_number": ids[i], "township": townships[i],
                 "village": "梅林村", "category": "低保", "household_size": 3} for i in range(start, stop)])
        first_subject = db.session.execute(db.select(db.func.min(Subject.id))).scalar_one()
        numbers = np.char.add("RW20250101-", np.char.zfill(np.arange(rows).astype(str), 7))
        for start in range(0, rows, 50_000):
            stop = min(start + 50_000, rows)
            db.session.execute(db.insert(Assignment), [
                {"number": numbers[i], "contract_id": contract.id, "county_id": contract.county_id,
                 "subject_id": first_subject + i,
                 "service_type": SERVICE, "due_date": date(2025, 12, 31), "status": "assigned",
                 "required_visits": 1} for i in range(start, stop)])
        db.session.commit()
        db.engine.dispose()

    index = np.arange(rows)
    worker = index % workers
    days = (index // workers) % 180
    slot = index // (workers * 180)
    start = 8 * 60 + slot * 75 + rng.integers(0, 10, rows)
    duration = np.where(rng.random(rows) < 0.01, 8, 20 + rng.integers(0, 40, rows))
    end = start + duration
    centre = np.array([TOWNSHIP_CENTRES[t] for t in TOWNSHIPS])[index % len(TOWNSHIPS)]
    far = np.where(rng.random(rows) < 0.005, 0.5, 0.0)
    income = rng.integers(0, 6_000_000, rows)  # fen
    wage = (income * rng.random(rows)).astype(np.int64)
    size = rng.integers(1, 7, rows)
    per_capita = income / 12 / size
    conclusion = np.where(per_capita < 60_000, "符合", np.where(per_capita < 90_000, "需复核", "不符合"))

    def yuan(fen):
        return pd.Series(fen // 100).astype(str) + "." + pd.Series(fen % 100).astype(str).str.zfill(2)

    def clock(minutes):
        return pd.Series(minutes // 60).astype(str).str.zfill(2) + ":" + pd.Series(minutes % 60).astype(str).str.zfill(2)

    service_dates = pd.Series(pd.to_datetime("2025-01-02") + pd.to_timedelta(days, unit="D")).dt.strftime("%Y-%m-%d")
    log = pd.DataFrame({
        "任务编号": numbers, "服务对象姓名": subject_names, "身份证号": ids, "服务日期": service_dates,
        "开始时间": clock(start), "结束时间": clock(end), "服务人员工号": np.array(worker_nos)[worker],
        "服务人员姓名": worker_names[worker],
        "经度": np.round(centre[:, 0] + rng.normal(0, 0.02, rows) + far, 5),
        "纬度": np.round(centre[:, 1] + rng.normal(0, 0.02, rows), 5),
        "家庭人口数": size, "家庭年收入(元)": yuan(income), "工资性收入(元)": yuan(wage),
        "经营净收入(元)": "", "财产净收入(元)": "", "转移净收入(元)": yuan(income - wage), "其他收入(元)": "",
        "家庭金融资产(元)": yuan(rng.integers(0, 5_000_000, rows)), "房产数量": rng.integers(0, 2, rows),
        "机动车数量": "", "调查结论": conclusion, "备注": "",
    })
    assert list(log.columns) == [column.header for column in TEMPLATE_COLUMNS[SERVICE]]
    files = {}
    if "csv" in formats:
        files["csv"] = workdir / "log.csv"
        log.to_csv(files["csv"], index=False, encoding="utf-8")
    if "xlsx" in formats:
        import xlsxwriter

        files["xlsx"] = workdir / "log.xlsx"
        book = xlsxwriter.Workbook(str(files["xlsx"]), {"constant_memory": True, "strings_to_numbers": False})
        sheet = book.add_worksheet("服务记录")
        sheet.write_row(0, 0, list(log.columns))
        for row, values in enumerate(log.astype(str).itertuples(index=False), start=1):
            sheet.write_row(row, 0, values)
        book.close()
    return {"database": database, "files": {kind: str(path) for kind, path in files.items()}}


def measure_import(database: str, path: str, uploads: str, rows: str) -> dict:
    from oversight import create_app
    from oversight.config import Defaults
    from oversight.extensions import db
    from oversight.models import Contract
    from oversight.services.completion_import import import_file

    # Past the default upload limits (100,000 rows) the benchmark raises them for its own file.
    beyond = {"UPLOAD_MAX_ROWS": int(rows), "UPLOAD_MAX_UNCOMPRESSED_BYTES": 8 << 30} \
        if int(rows) > Defaults.UPLOAD_MAX_ROWS else {}
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(database), "SECRET_KEY": "bench",
                      "UPLOADS_DIR": uploads, **beyond})
    with app.app_context():
        contract = db.session.execute(db.select(Contract).where(Contract.code == CONTRACT)).scalar_one()
        profile = None
        if os.environ.get("BENCH_PROFILE"):
            import cProfile

            profile = cProfile.Profile()
        server = server_cpu(database)
        began, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        result = import_file(contract, SERVICE, Path(path), None, TODAY)
        if profile:
            profile.disable()
            profile.dump_stats(os.environ["BENCH_PROFILE"])
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        server = server_cpu(database) - server
        outcome = result.as_json()
        flagged = db.session.execute(db.text("SELECT count(*) FROM completion_records WHERE flagged")).scalar()
        db.session.remove()
        db.engine.dispose()
    return {"seconds": seconds, "cpu_seconds": cpu, "server_cpu_seconds": server, "peak_mb": peak_mb(),
            "status": outcome["status"], "rows": outcome["rows"],
            "errors": outcome["errors"][:5], "message": outcome["message"], "flagged": flagged}


def _read(path: str, data: bytes) -> pd.DataFrame:
    if path.endswith(".csv"):
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    return pd.read_excel(io.BytesIO(data), engine="calamine", dtype=str, keep_default_na=False)


def measure_floor(path: str, built: str, imported: str, workdir: str, attempt: str) -> dict:
    """Read the file with pandas and insert the import's own rows into the same table of a fresh
    copy of the database in one transaction (one executemany on SQLite, one binary COPY on
    PostgreSQL)."""
    insert = _pg_floor_insert(imported) if built.startswith(PG_PREFIX) else _sqlite_floor_insert(imported)
    data = Path(path).read_bytes()
    database = fresh_copy(built, f"floor-{attempt}", Path(workdir))
    with insert.connect(database) as connection:
        server = server_cpu(database)
        began, cpu = time.perf_counter(), time.process_time()
        table = _read(path, data)
        read = time.perf_counter() - began
        insert(connection)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        server = server_cpu(database) - server
    assert len(table) == insert.rows
    return {"seconds": seconds, "cpu_seconds": cpu, "server_cpu_seconds": server, "read_seconds": read, "insert_seconds": seconds - read, "peak_mb": peak_mb(),
            "rows": insert.rows}


class _sqlite_floor_insert:
    """One executemany of the imported rows, committed."""

    def __init__(self, imported: str):
        source = sqlite3.connect(imported)
        cursor = source.execute("SELECT * FROM completion_records ORDER BY id")
        columns = [column[0] for column in cursor.description if column[0] != "id"]
        self.values = [row[1:] for row in cursor]
        source.close()
        self.rows = len(self.values)
        self.sql = f"INSERT INTO completion_records ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"

    @staticmethod
    def connect(database: str):
        return contextlib.closing(sqlite3.connect(database))

    def __call__(self, connection) -> None:
        with connection:
            connection.executemany(self.sql, self.values)


class _pg_floor_insert:
    """One binary COPY of the imported rows (JSON as its text), committed; their upload batch is
    copied beforehand, untimed (PostgreSQL checks the foreign key, sqlite3 does not)."""

    def __init__(self, imported: str):
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/{imported}") as source:
            with source.cursor().copy("COPY upload_batches TO STDOUT") as copy:
                self.batches = b"".join(bytes(block) for block in copy)
            cursor = source.execute("SELECT * FROM completion_records WHERE false")
            columns = [column.name for column in cursor.description if column.name != "id"]
            json_oid, text_oid = psycopg.adapters.types["json"].oid, psycopg.adapters.types["text"].oid
            self.types = [text_oid if column.type_code == json_oid else column.type_code
                          for column in cursor.description if column.name != "id"]
            selected = ", ".join(f"{name}::text" if oid == text_oid else name for name, oid in zip(columns, self.types))
            self.values = source.execute(f"SELECT {selected} FROM completion_records ORDER BY id").fetchall()
        self.rows = len(self.values)
        self.sql = f"COPY completion_records ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"

    def connect(self, database: str):
        import psycopg

        connection = psycopg.connect(f"{PG_SERVER}/{database}")
        with connection.transaction(), connection.cursor().copy("COPY upload_batches FROM STDIN") as copy:
            copy.write(self.batches)
        return connection

    def __call__(self, connection) -> None:
        with connection.transaction(), connection.cursor() as cursor, cursor.copy(self.sql) as copy:
            copy.set_types(self.types)
            for row in self.values:
                copy.write_row(row)


def _child(*args: str, profile: str | None = None) -> dict:
    extra = {"BENCH_PROFILE": profile} if profile else {}
    output = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **extra})
    if output.returncode:
        raise SystemExit(f"step {args[1]} failed:\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--formats", default="csv,xlsx", help="csv, xlsx or both (default csv,xlsx)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step, the median counts (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (printed)")
    parser.add_argument("--profile", metavar="DIR",
                        help="run each import under cProfile, stats in DIR/import-<format>-<run>.prof")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)  # internal: one measured step
    args = parser.parse_args()
    if args.step:
        kind, *rest = args.step
        result = {"build": lambda: build(Path(rest[0]), int(rest[1]), rest[2].split(","), rest[3]),
                  "import": lambda: measure_import(*rest), "floor": lambda: measure_floor(*rest)}[kind]()
        print(json.dumps(result, ensure_ascii=False))
        return

    formats = [kind.strip() for kind in args.formats.split(",") if kind.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="oversight-bench-"))
    try:
        began = time.perf_counter()
        built = _child("--step", "build", str(workdir), str(args.rows), ",".join(formats), args.db)
        print(f"data set: {args.rows:,} rows of household_survey on {args.db}, built in "
              f"{time.perf_counter() - began:.0f} s; each step in a fresh process, median of {args.repeat}")
        for kind, path in built["files"].items():
            runs, floors = [], []
            floor_dir = workdir / f"floor-{kind}"
            floor_dir.mkdir()
            for attempt in range(args.repeat):  # interleaved: both see the same load on a shared machine
                imported = fresh_copy(built["database"], f"import-{kind}-{attempt}", workdir)
                profile = str(Path(args.profile).resolve() / f"import-{kind}-{attempt}.prof") if args.profile else None
                runs.append(_child("--step", "import", imported, path,
                                   str(workdir / f"uploads-{kind}-{attempt}"), str(args.rows), profile=profile))
                if runs[-1]["status"] != "accepted" or runs[-1]["rows"] != args.rows:
                    raise SystemExit(f"import not accepted: {runs[-1]}")
                floors.append(_child("--step", "floor", path, built["database"], imported, str(floor_dir),
                                     str(attempt)))
            seconds = statistics.median(run["seconds"] for run in runs)
            floor = sorted(floors, key=lambda run: run["seconds"])[len(floors) // 2]
            size = Path(path).stat().st_size / 2**20
            print(f"\n{kind}: {size:.1f} MB, {args.rows:,} rows, {runs[0]['flagged']:,} records flagged")
            print(f"  import  {seconds:7.2f} s  {args.rows / seconds:>9,.0f} rows/s  "
                  f"(best {min(run['seconds'] for run in runs):.2f} s)  "
                  f"peak memory {max(run['peak_mb'] for run in runs):5.0f} MB")
            insert = "binary COPY" if args.db == "postgresql" else "executemany"
            print(f"  floor   {floor['seconds']:7.2f} s  {args.rows / floor['seconds']:>9,.0f} rows/s  "
                  f"(best {min(run['seconds'] for run in floors):.2f} s; pandas read {floor['read_seconds']:.2f} s "
                  f"+ {insert} {floor['insert_seconds']:.2f} s)")
            print(f"  ratio import/floor {seconds / floor['seconds']:.2f}")
            cpu = statistics.median(run["cpu_seconds"] + run["server_cpu_seconds"] for run in runs)
            floor_cpu = statistics.median(run["cpu_seconds"] + run["server_cpu_seconds"] for run in floors)
            server = statistics.median(run["server_cpu_seconds"] for run in runs)
            floor_server = statistics.median(run["server_cpu_seconds"] for run in floors)
            print(f"  CPU time (the process and, on PostgreSQL, its server backends): import {cpu:.2f} s "
                  f"(server {server:.2f} s), floor {floor_cpu:.2f} s (server {floor_server:.2f} s), "
                  f"ratio {cpu / floor_cpu:.2f}; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    finally:
        if args.db == "postgresql":
            drop_pg_databases()
        if args.keep:
            print(f"\nwork folder: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
