"""200 visits with a photo each, synced from one device through the REST API: time per visit
(its photo's POST /api/v1/media and the visit's POST /api/v1/visits) and the server's memory.

    .venv/bin/python bench/api_visits.py [--visits 200] [--db sqlite|postgresql] [--contract-size 0]
                                        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

`--contract-size N` gives the contract N more household surveys, each already done by another
worker (one stored record each, on earlier days): a county-sized contract around the device's 200.

In-process (Flask's test client, no network), on a fresh database of one contractor with that many
household surveys given to one field worker; every photo is a distinct 640×480 JPEG (a few KB: flat
colours). Prints wall and CPU time per visit (median, p95, max) and the process's
peak resident memory before and after.
"""
from __future__ import annotations

import argparse
import io
import os
import resource
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from oversight import create_app  # noqa: E402
from oversight.clock import county_today  # noqa: E402
from oversight.extensions import db  # noqa: E402
from oversight.models import Assignment, CompletionRecord, Contractor, FieldWorker, Subject  # noqa: E402
from oversight.services.accounts import create_user  # noqa: E402
from oversight.services.areas import home_county  # noqa: E402
from oversight.services.field_app import create_token  # noqa: E402
from oversight.services.registry import save_contract  # noqa: E402


def _id_number(serial: int) -> str:
    body = f"360704{19500101 + serial % 28:08d}{serial % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def _photo(n: int) -> bytes:
    image = Image.new("RGB", (640, 480), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
    draw = ImageDraw.Draw(image)
    for k in range(12):
        draw.rectangle([(n * 13 + k * 47) % 600, (n * 7 + k * 31) % 440, (n * 13 + k * 47) % 600 + 40,
                        (n * 7 + k * 31) % 440 + 30], fill=((k * 19 + n) % 256, (k * 71) % 256, (n * 3) % 256))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def _padding_id_number(serial: int) -> str:
    """Distinct ID numbers for the padding (regions 360710…, a block of 7,000 each)."""
    body = f"3607{10 + serial // 7000:02d}{19500101 + serial % 28:08d}{serial % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def _padding(contract_id: int, contractor_id: int, count: int) -> None:
    """`count` more done surveys of the contract, by a second worker, a record each."""
    other = FieldWorker(contractor_id=contractor_id, worker_no="W0002", name="王芳")
    db.session.add(other)
    db.session.flush()
    today = county_today()
    start = db.session.execute(text("SELECT COALESCE(MAX(id), 0) FROM subjects")).scalar() + 1
    db.session.execute(insert(Subject), [
        {"id": start + n, "kind": "household", "name": f"存量{n}", "township": "梅林镇", "village": "梅林村",
         "category": "低保", "household_size": 3,
         "id_number": _padding_id_number(n)} for n in range(count)])
    first = db.session.execute(text("SELECT COALESCE(MAX(id), 0) FROM assignments")).scalar() + 1
    db.session.execute(insert(Assignment), [
        {"id": first + n, "number": f"RW-PAD-{n:07d}", "contract_id": contract_id, "subject_id": start + n,
         "service_type": "household_survey", "due_date": today, "status": "completed", "worker_id": other.id}
        for n in range(count)])
    db.session.execute(insert(CompletionRecord), [
        {"assignment_id": first + n, "contract_id": contract_id, "service_type": "household_survey",
         "source": "upload", "service_date": date.fromordinal(today.toordinal() - 1 - n % 300),
         "start_time": "09:00", "end_time": "09:40", "duration_minutes": 40, "worker_id": other.id,
         "longitude": 115.001, "latitude": 25.861, "household_size": 3, "annual_income_fen": 2_400_000,
         "financial_assets_fen": 500_000, "survey_conclusion": "需复核", "anomaly_flags": [], "flagged": False}
        for n in range(count)])


def _world(visits: int, padding: int = 0):
    contractor = Contractor(name="基准社工服务中心", credit_code="91360704MA35000000", contact_person="张敏",
                            contact_phone="13907970001", county_id=home_county().id)
    db.session.add(contractor)
    db.session.flush()
    worker = FieldWorker(contractor_id=contractor.id, worker_no="W0001", name="李娜")
    db.session.add(worker)
    today = county_today()
    contract = save_contract(None, lines={"household_survey": (visits * 2, 1)}, code="BENCH-001", title="基准合同",
                             contractor_id=contractor.id, procurement_method="公开招标", amount_fen=100_000_000,
                             term_start=date(today.year - 1, 1, 1), term_end=date(today.year + 1, 12, 31),
                             performance_share_bp=3000, sampling_rule={"kind": "share", "share": "0.05", "floor": 5})
    assignments = []
    for n in range(visits):
        subject = Subject(county_id=contract.county_id, kind="household", name=f"对象{n}", id_number=_id_number(n), township="梅林镇",
                          village="梅林村", category="低保", household_size=3)
        db.session.add(subject)
        db.session.flush()
        assignment = Assignment(number=f"RW-BENCH-{n:06d}", contract_id=contract.id, subject_id=subject.id,
                                service_type="household_survey", due_date=today, worker_id=worker.id)
        db.session.add(assignment)
        assignments.append(assignment)
    if padding:
        db.session.flush()
        _padding(contract.id, contractor.id, padding)
    user = create_user("bench-w1", "bench-password", "field_worker", "基准外勤", field_worker_id=worker.id)
    _, token = create_token(user, "基准手机")
    db.session.commit()
    return [a.id for a in assignments], token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=200)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--contract-size", type=int, default=0, help="more done assignments of the contract")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
    config = {"TESTING": True, "UPLOADS_DIR": str(folder / "uploads"), "AUDIT_ANCHOR_FILE": str(folder / "a.jsonl"),
              "AUDIT_KEY_FILE": str(folder / "keys.json"), "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024},
              "API_RATE_LIMIT": "1000000 per minute", "API_WRITE_RATE_LIMIT": "1000000 per minute"}
    schema = None
    if args.db == "sqlite":
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder / 'bench.sqlite'}"
    else:
        schema = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
        with create_engine(args.postgres).begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        config.update(SQLALCHEMY_DATABASE_URI=args.postgres,
                      SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={schema}"}})
    app = create_app(config)
    with app.app_context():
        db.create_all()
        ids, token = _world(args.visits, args.contract_size)
    photos = [_photo(n) for n in range(args.visits)]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    walls, cpus = [], []
    for n, assignment_id in enumerate(ids):
        start, cpu = time.perf_counter(), time.process_time()
        media = client.post("/api/v1/media", headers=headers, content_type="multipart/form-data",
                            data={"kind": "photo", "file": (io.BytesIO(photos[n]), "p.jpg")})
        assert media.status_code == 201, media.get_json()
        minute = 8 * 60 + n % 400
        body = {"assignment_id": assignment_id, "check_in_at": f"{county_today()}T{minute // 60:02d}:{minute % 60:02d}:00+08:00",
                "check_out_at": f"{county_today()}T{(minute + 30) // 60:02d}:{(minute + 30) % 60:02d}:00+08:00",
                "longitude": 115.001, "latitude": 25.861, "accuracy_m": 15,
                "fields": {"household_size": 3, "annual_income_fen": "24000", "financial_assets_fen": "5000",
                           "survey_conclusion": "需复核"},
                "photos": [media.get_json()["sha256"]], "no_signature_reason": "基准"}
        visit = client.post("/api/v1/visits", json=body, headers={**headers, "Idempotency-Key": f"bench-visit-{n:06d}"})
        assert visit.status_code == 201, visit.get_json()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def summary(values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
        return (f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                f"max {ordered[-1] * 1000:.0f} ms")

    print(f"{args.visits} visits with a photo each ({args.db}, contract +{args.contract_size} done, photos ~{sum(map(len, photos)) // len(photos) // 1024} KB)")
    print(f"  wall per visit (media + visit): {summary(walls)}")
    print(f"  CPU per visit:                  {summary(cpus)}")
    print(f"  peak resident memory: {rss_before / 1024:.0f} MB before, {rss_after / 1024:.0f} MB after")
    print(f"  load average: {os.getloadavg()}")
    if schema:
        with create_engine(args.postgres).begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
