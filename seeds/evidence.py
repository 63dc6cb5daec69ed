"""The demo's independent evidence: this month's 核对平台 results and death register, as the bureau
would receive them, imported by the supervisor through the same service as the page (issue 10.9).

Most rows agree with the surveys; a few do not — income or deposits well above what was reported,
a house or a business the survey left out, a member registered in another township — and two
people cared for died before their last logged visit. Each of those becomes an open flag for the
next spot-check draw.
"""
from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from sqlalchemy import select

from oversight.adapters.files import uploads_store
from oversight.domain.verification_files import headers
from oversight.extensions import db
from oversight.models import Assignment, CompletionRecord, Subject, User
from oversight.services.verification import import_verification

from .identities import People

SURVEYED = 14
_TOWNSHIP_ELSEWHERE = "赣州市章贡区沙石镇"


def _csv(kind: str, rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers(kind), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def economic_file(today: date, rng: random.Random, county_id: int | None = None) -> bytes:
    """Rows for a sample of the households surveyed in the last five months; a few contradict."""
    rows = db.session.execute(
        select(CompletionRecord, Subject).join(Assignment, CompletionRecord.assignment_id == Assignment.id)
        .join(Subject, Assignment.subject_id == Subject.id)
        .where(CompletionRecord.service_type == "household_survey",
               CompletionRecord.service_date >= today - timedelta(days=150),
               *([Subject.county_id == county_id] if county_id is not None else []))
        .order_by(CompletionRecord.id)).all()
    latest = {subject.id: (record, subject) for record, subject in rows}  # one survey per household
    chosen = rng.sample(sorted(latest.values(), key=lambda pair: pair[0].id), min(SURVEYED, len(latest)))
    people = People(rng)
    checked = today - timedelta(days=rng.randint(3, 10))
    lines = []
    for position, (record, subject) in enumerate(chosen):
        income, deposits = record.annual_income_fen or 0, record.financial_assets_fen or 0
        row = {"身份证号": subject.id_number, "姓名": subject.name, "申请人身份证号": "", "核对日期": checked.isoformat(),
               "户籍乡镇": subject.township, "机动车数量": record.vehicle_count or 0,
               "房产数量": record.property_count or 0, "工商登记数量": 0,
               "存款(元)": _yuan(deposits * rng.randint(80, 100) // 100),
               "年收入(元)": _yuan(income * rng.randint(97, 104) // 100)}
        if position == 0:
            row["年收入(元)"] = _yuan(income * 3 // 2 + 1_200_000)  # wages the survey left out
        elif position == 1:
            row["存款(元)"] = _yuan(deposits + 8_000_000)  # a fixed deposit of 80,000 yuan
        elif position == 2:
            row["房产数量"] = (record.property_count or 0) + 1
        elif position == 3:
            row["工商登记数量"] = 1
        lines.append(row)
        if position == 4:  # a son registered (and working) in another township
            male = True
            born = people.birth_date(today, 20, 35)
            lines.append({**row, "身份证号": people.id_number(born, male), "姓名": people.name(male, young=True),
                          "申请人身份证号": subject.id_number, "户籍乡镇": _TOWNSHIP_ELSEWHERE, "机动车数量": 0,
                          "房产数量": 0, "存款(元)": "0.00", "年收入(元)": "0.00"})
    return _csv("economic", lines)


def death_file(today: date, rng: random.Random, county_id: int | None = None) -> bytes:
    """Two people cared for who died before their last logged visit, one who died after it, and
    a death the county's registers hold of someone Oversight does not serve."""
    visits = db.session.execute(
        select(Subject, CompletionRecord.service_date).join(Assignment, Assignment.subject_id == Subject.id)
        .join(CompletionRecord, CompletionRecord.assignment_id == Assignment.id)
        .where(CompletionRecord.service_type == "care_visit",
               *([Subject.county_id == county_id] if county_id is not None else []))
        .order_by(Subject.id, CompletionRecord.service_date)).all()
    dates: dict[int, list[date]] = {}
    subjects = {}
    for subject, day in visits:
        dates.setdefault(subject.id, []).append(day)
        subjects[subject.id] = subject
    candidates = sorted(sid for sid, days in dates.items() if len(set(days)) >= 3)
    chosen = rng.sample(candidates, min(3, len(candidates)))
    lines = []
    for position, subject_id in enumerate(chosen):
        subject, days = subjects[subject_id], sorted(set(dates[subject_id]))
        died = days[-2] if position < 2 else min(days[-1] + timedelta(days=3), today)
        lines.append({"身份证号": subject.id_number, "姓名": subject.name, "死亡日期": died.isoformat(),
                      "数据来源": "殡葬火化记录" if position else "公安户籍注销"})
    people = People(rng)
    born = people.birth_date(today, 70, 90)
    lines.append({"身份证号": people.id_number(born, False), "姓名": people.name(False),
                  "死亡日期": (today - timedelta(days=20)).isoformat(), "数据来源": "公安户籍注销"})
    return _csv("death", lines)


def import_demo_evidence(supervisor: User, today: date, seed: int, county_id: int | None = None) -> None:
    """Import the two files as the supervisor (the caller sets the actor and the moment), of the
    subjects of `county_id` when given (a city's counties import their own)."""
    rng = random.Random(f"{seed}:evidence")
    store = uploads_store()
    for kind, data, name in (("economic", economic_file(today, rng, county_id), f"核对平台结果-{today:%Y%m}.csv"),
                             ("death", death_file(today, rng, county_id), f"死亡登记-{today:%Y%m}.csv")):
        outcome = import_verification(kind, data, name, supervisor, today, store)
        if not outcome.accepted:
            raise RuntimeError(f"demo {kind} file refused: {outcome.verification_import.message} {outcome.errors[:3]}")
