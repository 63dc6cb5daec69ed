"""Helpers for the API tests: two contractors, each with a field-worker account, assignments
given to it or not, device tokens, and a visit body every rule accepts."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import time_machine
from PIL import Image

from oversight.extensions import db
from oversight.models import Assignment, Contract, FieldWorker, User
from oversight.services.accounts import create_user
from oversight.services.field_app import create_token
from tests.factories import Factory

# 10:30 on 10 June 2025 in the county (UTC+8): assignments issued now are due on 30 June.
NOW = datetime(2025, 6, 10, 2, 30, tzinfo=UTC)
CHECK_IN = "2025-06-10T09:00:00+08:00"
CHECK_OUT = "2025-06-10T09:40:00+08:00"
MEILIN = (115.001, 25.861)  # by 梅林镇's centre


@dataclass
class Side:
    """One contractor's people and things."""

    contract: Contract
    workers: list[FieldWorker]
    field_user: User
    contractor_user: User
    given: Assignment  # a household survey given to the field user's worker
    care: Assignment  # a care visit given to the field user's worker
    other: Assignment  # a survey given to no one
    field_token: str
    contractor_token: str


@dataclass
class Sides:
    ours: Side
    theirs: Side


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _side(factory: Factory) -> Side:
    contractor = factory.contractor(workers=2)
    contract = factory.contract(contractor, service_types=("household_survey", "care_visit"))
    workers = db.session.execute(db.select(FieldWorker).where(FieldWorker.contractor_id == contractor.id)
                                 .order_by(FieldWorker.worker_no)).scalars().all()
    field_user = create_user(f"fw{contract.id}", Factory.PASSWORD, "field_worker", "外勤", field_worker_id=workers[0].id)
    contractor_user = factory.user("contractor", contractor)
    given = factory.assignment(contract, service_type="household_survey")
    care = factory.assignment(contract, service_type="care_visit")
    other = factory.assignment(contract, service_type="household_survey")
    for assignment in (given, care):
        assignment.worker_id = workers[0].id
        assignment.due_date = NOW.date().replace(day=30)
    other.due_date = NOW.date().replace(day=30)
    _, field_token = create_token(field_user, "外勤手机")
    _, contractor_token = create_token(contractor_user, "机构电脑")
    db.session.commit()
    return Side(contract, list(workers), field_user, contractor_user, given, care, other, field_token, contractor_token)


@pytest.fixture
def sides(app, factory, clock) -> Sides:
    return Sides(_side(factory), _side(factory))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def survey_body(assignment: Assignment, **changes) -> dict:
    body = {
        "assignment_id": assignment.id, "check_in_at": CHECK_IN, "check_out_at": CHECK_OUT,
        "device_sent_at": "2025-06-10T10:29:00+08:00", "longitude": MEILIN[0], "latitude": MEILIN[1],
        "accuracy_m": 12.5,
        "fields": {"household_size": 3, "annual_income_fen": "24000", "financial_assets_fen": "5000",
                   "survey_conclusion": "需复核"},
        "no_signature_reason": "户主外出务工，家属不识字",
    }
    body.update(changes)
    return body


def picture(colour: tuple[int, int, int] = (200, 30, 30), size=(64, 48), stripe: int = 0) -> bytes:
    """A small PNG: a coloured field with a lighter band (at `stripe` rows from the top)."""
    image = Image.new("RGB", size, colour)
    for x in range(size[0]):
        for y in range(stripe, min(stripe + 10, size[1])):
            image.putpixel((x, y), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
