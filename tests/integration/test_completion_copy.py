"""Completion records on PostgreSQL go in by one binary COPY per chunk (`adapters.bulk_sql`):
they are the records the executemany path stores for the same file (SQLite's path, which
PostgreSQL took before), and a failure during the COPY leaves no record and the batch failed."""
from __future__ import annotations

from datetime import date, datetime

import psycopg
import pytest
from sqlalchemy import select, update

from oversight.adapters.bulk_sql import RawInsert
from oversight.extensions import db
from oversight.models import Assignment, CompletionRecord, UploadBatch
from oversight.services import completion_import
from tests.completion_support import (  # noqa: F401  (world is a fixture)
    CARE,
    SELF_CARE,
    SURVEY,
    csv_bytes,
    database_state,
    good_row,
    upload,
    world,
)
from tests.conftest import POSTGRES_URL

on_postgresql = pytest.mark.skipif(not POSTGRES_URL, reason="COPY is PostgreSQL's; SQLite keeps executemany")

REMARK = '三组"老屋"\t后\\N 路口，门牌＃12'
SELF_CARE_LABELS = ("自主吃饭", "自主穿衣", "自主上下床", "自主如厕", "室内行走", "自主洗澡")


def rich_files(world) -> list[tuple[str, bytes, str]]:
    """A log of every service with NULLs, negative and fractional yuan, coordinates, a short
    (flagged) visit and Chinese text with a tab, a backslash and quotes."""
    survey = [
        good_row(world, SURVEY, 0, 结束时间="09:08", 备注=REMARK, **{
            "工资性收入(元)": "20000", "经营净收入(元)": "-1000.5", "转移净收入(元)": "5000.05",
            "房产数量": "1", "经度": "115.01234", "纬度": "25.87"}),
        good_row(world, SURVEY, 1, 开始时间="13:30", 结束时间="14:15"),
    ]
    assessment = [good_row(world, SELF_CARE, 0, **dict(zip(SELF_CARE_LABELS, "能否能×√能")),
                           评估结论="部分丧失生活自理能力")]
    care = [good_row(world, CARE, 0), good_row(world, CARE, 1, 对象签字确认="否", 服务日期="2025-05-20")]
    return [(SURVEY, csv_bytes(SURVEY, survey), "survey.csv"), (SELF_CARE, csv_bytes(SELF_CARE, assessment), "assess.csv"),
            (CARE, csv_bytes(CARE, care), "care.csv")]


def stored_records() -> list[dict]:
    """Every record's columns but its id, batch and time of entry, in file order."""
    table = CompletionRecord.__table__
    kept = [column for column in table.c if column.name not in ("id", "batch_id", "created_at")]
    rows = db.session.execute(select(*kept).order_by(table.c.id)).mappings().all()
    return [dict(row) for row in rows]


def import_all(world) -> list:
    batches = [upload(world, service, data, name).batch for service, data, name in rich_files(world)]
    assert [batch.status for batch in batches] == ["accepted"] * 3, [batch.message for batch in batches]
    return batches


def forget(batches) -> None:
    """Undo the imports so that the same files are accepted again: records deleted, assignments
    open, batches failed."""
    ids = [batch.id for batch in batches]
    db.session.execute(CompletionRecord.__table__.delete().where(CompletionRecord.__table__.c.batch_id.in_(ids)))
    db.session.execute(update(Assignment).values(status="assigned", completed_at=None))
    db.session.execute(update(UploadBatch).where(UploadBatch.id.in_(ids)).values(status="failed"))
    db.session.commit()


def test_the_stored_records_keep_every_value_as_written(world):
    import_all(world)
    survey, survey_second, assessment, care, care_unsigned = records = stored_records()
    assert (survey["service_date"], survey["start_time"], survey["end_time"], survey["duration_minutes"]) == (
        date(2025, 5, 1), "09:00", "09:08", 8)
    assert (survey["wage_income_fen"], survey["business_income_fen"], survey["transfer_income_fen"],
            survey["property_income_fen"], survey["other_income_fen"], survey["vehicle_count"]) == (
        2_000_000, -100_050, 500_005, None, None, None)
    assert (survey["longitude"], survey["latitude"], survey["remark"]) == (115.01234, 25.87, REMARK)
    assert survey["anomaly_flags"] == [{"code": "short_visit", "reason": "服务时长仅8分钟（少于10分钟）"}]
    assert (survey["flagged"], survey_second["flagged"], survey_second["anomaly_flags"]) == (True, False, [])
    assert (survey_second["start_time"], survey_second["longitude"], survey_second["remark"],
            survey_second["eating"]) == ("13:30", None, None, None)
    assert [assessment[key] for key in ("eating", "dressing", "transfer", "toileting", "walking", "bathing")] \
        == [True, False, True, False, True, True]
    assert (assessment["conclusion"], assessment["fails"], assessment["household_size"]) == ("部分丧失生活自理能力", 2, None)
    assert (care["care_items"], care["signed"], care_unsigned["signed"]) == ("日常看护、生活照料", True, False)
    assert {record["contract_id"] for record in records} == {world.contract.id}
    assert [record["excel_row"] for record in records] == [2, 3, 2, 2, 3]


@on_postgresql
def test_copy_stores_what_executemany_stores_for_the_same_files(world, monkeypatch):
    batches = import_all(world)
    copied = stored_records()
    created = db.session.execute(select(CompletionRecord.created_at)).scalars().all()
    assert all(isinstance(value, datetime) for value in created)
    forget(batches)
    calls = []
    monkeypatch.setattr(RawInsert, "_copy", lambda insert, values: calls.append(1) or insert._execute_many(values))
    import_all(world)
    assert len(calls) == 3
    assert stored_records() == copied


@on_postgresql
def test_a_failure_in_the_middle_of_the_copy_leaves_no_record_and_fails_the_batch(world, monkeypatch):
    before = database_state()
    written = []
    real = psycopg.Copy.write_row

    def fail_at_the_second_row(copy, row):
        written.append(row)
        if len(written) == 2:
            raise RuntimeError("connection lost")
        return real(copy, row)

    monkeypatch.setattr(psycopg.Copy, "write_row", fail_at_the_second_row)
    result = upload(world, SURVEY, csv_bytes(SURVEY, [good_row(world, SURVEY, i) for i in range(3)]))
    assert len(written) == 2
    assert (result.batch.status, result.batch.message) == ("failed", completion_import.FAILED_MESSAGE)
    assert db.session.get(UploadBatch, result.batch.id, populate_existing=True).status == "failed"
    assert database_state() == before


@on_postgresql
def test_a_record_saved_meanwhile_fails_the_copy_and_the_batch_with_nothing_half_stored(world, factory, monkeypatch):
    """The server refuses the COPY (the unique visit key): raised as SQLAlchemy's IntegrityError.
    The record is saved after the stored visits were read for the checks and before the file's
    records are written (which starts as soon as the first piece is checked)."""
    real = completion_import.validate_log
    first = world.assignments[SURVEY][0]

    def saved_meanwhile(table, ctx, *args, **kwargs):
        with db.engine.begin() as other:  # another upload's transaction, committed first
            other.execute(CompletionRecord.__table__.insert().values(
                assignment_id=first.id, contract_id=world.contract.id, county_id=world.contract.county_id, service_type=SURVEY,
                service_date=date(2025, 5, 1), start_time="09:00", end_time="09:45", duration_minutes=45,
                worker_id=world.workers[0].id, anomaly_flags=[], flagged=False, created_at=datetime(2025, 5, 1)))
        return real(table, ctx, *args, **kwargs)

    monkeypatch.setattr(completion_import, "validate_log", saved_meanwhile)
    result = upload(world, SURVEY, csv_bytes(SURVEY, [good_row(world, SURVEY, i) for i in range(3)]))
    assert result.batch.status == "failed"
    assert result.batch.message == "保存时发现与同时上传的记录重复，未保存任何数据，请重新上传"
    assert db.session.execute(select(CompletionRecord.batch_id, CompletionRecord.assignment_id)).all() == [
        (None, first.id)]
    assert db.session.get(Assignment, first.id, populate_existing=True).status == "assigned"


@on_postgresql
@pytest.mark.parametrize("case", ["bad cell in a later piece", "row repeated across pieces"])
def test_pieces_written_while_the_file_is_checked_are_taken_back_when_it_is_refused(world, monkeypatch, case):
    """On PostgreSQL each checked piece is written at once (`_PieceWriter`); a refusal found in
    a later piece, or a row repeating one of an earlier piece (which the server refuses too),
    leaves nothing of the written pieces, and the refusal reads as on SQLite."""
    monkeypatch.setattr(completion_import, "READ_ROWS", 1)
    written = []
    real = RawInsert.run
    monkeypatch.setattr(RawInsert, "run", lambda insert, columns, size: written.append(size) or real(insert, columns, size))
    before = database_state()
    rows = [good_row(world, SURVEY, 0), good_row(world, SURVEY, 1)]
    rows.append(good_row(world, SURVEY, 2, 家庭人口数="很多") if case.startswith("bad") else rows[0])
    result = upload(world, SURVEY, csv_bytes(SURVEY, rows))
    # the bad cell's piece is not written; the repeated row is, and the server refuses it
    assert written == ([1, 1] if case.startswith("bad") else [1, 1, 1])
    assert result.batch.status == "rejected"
    expected = [(4, "家庭人口数", "应为1到20之间的整数")] if case.startswith("bad") else [
        (4, "任务编号", "与第2行重复（同一任务、服务日期和开始时间）")]
    assert [(e.row, e.column, e.reason) for e in result.errors] == expected
    assert database_state() == before
    assert [db.session.get(Assignment, a.id, populate_existing=True).status for a in world.assignments[SURVEY]] == [
        "assigned"] * 3
