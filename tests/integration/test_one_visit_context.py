"""One app visit is checked against its own assignment, worker and the worker's day only
(`completion_import.OneVisit`, `narrow`): the same errors and the same anomaly flags as when the
whole contract is read."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from oversight.adapters.tables.cells import EXCEL_ROW
from oversight.domain.anomalies import anomaly_flags
from oversight.domain import self_care
from oversight.extensions import db
from oversight.services.completion_import import OneVisit, _anomaly_context, check_rows
from tests.completion_support import SELF_CARE, SURVEY, TODAY, good_row, world  # noqa: F401  (fixture)


def _table(row: dict) -> pd.DataFrame:
    return pd.DataFrame([row], index=pd.Index([2], name=EXCEL_ROW), dtype=object)


@pytest.fixture
def busy(world, factory):
    """Stored visits: the first worker on 1 May 09:30–10:00 (overlapping a 09:00–09:45 visit) and
    the second worker the same morning; a self-care subject assessed before with another conclusion."""
    w0, w1 = world.workers
    factory.record(world.assignments[SURVEY][1], worker=w0, service_date=date(2025, 5, 1), start_time="09:30",
                   end_time="10:00")
    factory.record(world.assignments[SURVEY][2], worker=w1, service_date=date(2025, 5, 1), start_time="09:00",
                   end_time="09:40")
    factory.record(world.assignments[SELF_CARE][0], worker=w0, service_date=date(2025, 3, 1),
                   conclusion=self_care.CONCLUSION_FULL)
    factory.record(world.assignments[SURVEY][0], worker=w1, service_date=date(2025, 4, 1))
    db.session.commit()
    return world


def _both(world, service_type: str, row: dict):
    index = next(i for i, a in enumerate(world.assignments[service_type]) if a.number == row["任务编号"])
    only = OneVisit(world.assignments[service_type][index].id, row["服务人员工号"])
    results = []
    for scope in (None, only):
        validation, ctx = check_rows(world.contract, service_type, _table(row), TODAY, skip_unstarted=False,
                                     only=scope)
        errors = [(e.row, e.column, e.reason) for e in validation.errors]
        flags = None
        if validation.accepted:
            context = _anomaly_context(world.contract, ctx, validation.records, narrow=scope is not None)
            flags = list(anomaly_flags(validation.records, context))
        results.append((validation.accepted, errors, flags))
    return results


@pytest.mark.parametrize("case", ["overlap", "conclusion", "stored", "worker", "other_worker_alone", "wrong_name"])
def test_one_visit_gives_what_the_whole_contract_gives(busy, case):
    world = busy
    w0, w1 = world.workers
    service_type, row = {
        "overlap": (SURVEY, good_row(world, SURVEY, 0, **{"服务日期": "2025-05-01", "服务人员工号": w0.worker_no,
                                                          "服务人员姓名": w0.name})),
        "conclusion": (SELF_CARE, good_row(world, SELF_CARE, 0, **{"评估结论": self_care.CONCLUSION_PARTIAL,
                                                                 "自主吃饭": "不能", "自主穿衣": "不能"})),
        "stored": (SURVEY, good_row(world, SURVEY, 0, **{"服务日期": "2025-04-01", "服务人员工号": w1.worker_no,
                                                         "服务人员姓名": w1.name})),
        "worker": (SURVEY, good_row(world, SURVEY, 0, **{"服务人员工号": "W9999"})),
        "other_worker_alone": (SURVEY, good_row(world, SURVEY, 1, **{"服务日期": "2025-05-02"})),
        "wrong_name": (SURVEY, good_row(world, SURVEY, 0, **{"服务对象姓名": "别人"})),
    }[case]
    whole, one = _both(world, service_type, row)
    assert one == whole
    if case == "overlap":
        assert whole[0] and any("overlap" in {code for code, _ in found} for found in whole[2] if found)
    if case == "conclusion":
        assert whole[0] and any("conclusion_changed" in {code for code, _ in found} for found in whole[2] if found)
    if case in ("stored", "worker", "wrong_name"):
        assert not whole[0] and whole[1]
