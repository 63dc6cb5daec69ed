"""The import's fast paths give what the one-value-at-a-time code gives: ID numbers checked in
numpy (`cells.valid_plain_id_numbers`), texts normalised by pandas' string methods
(`cells.normalise_all` with a registered Series form). Each is compared with the plain path on
generated values and on a whole generated log with many kinds of errors."""
from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
from stdnum.cn import ric

from oversight.adapters.tables import cells
from oversight.adapters.tables.cells import normalise_all, parse_id_numbers, parse_with
from oversight.adapters.tables.reading import read_table
from oversight.domain.completion_log import _code_key, _name_key, validate_log
from oversight.domain.identifiers import normalize_id_number, to_half_width
from tests.unit.test_completion_log import GOOD, RULES, context, csv_bytes, id_number

TODAY = dt.date(2024, 6, 30)
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def id_texts() -> list[str]:
    """Valid numbers and every way of missing: check character, birth dates (leap days, month
    and day bounds, 1879/1880, after today), lengths, letters, case, full width, spaces."""
    rng = random.Random(11643)
    births = ["19800101", "20000229", "19000229", "19960229", "19970229", "18800101", "18791231", "20240630",
              "20240701", "20991231", "19801301", "19800001", "19800100", "19800132", "19800431", "19800430",
              "00000101", "19801231"]
    texts = []
    for birth in births:
        for serial in (1, 37, 999):
            good = with_check(f"360721{birth}{serial:03d}")
            wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
            texts += [good, wrong, good.lower(), " " + good + " ", good[:9] + " " + good[9:], good.translate(FULL_WIDTH),
                      good[:-1], good + "1", good[:5] + "A" + good[6:]]
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        texts.append(body + rng.choice("0123456789Xx"))
    for _ in range(500):
        birth = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(45_000))
        texts.append(with_check(f"{rng.randrange(110000, 660000)}{birth:%Y%m%d}{rng.randrange(1000):03d}"))
    texts += ["", "X" * 18, "１" * 18, "11010519491231002X", "11010519491231002x"]
    return texts


def test_numpy_checked_id_numbers_are_those_normalize_id_number_accepts_with_the_same_reasons():
    texts = pd.Series(id_texts(), index=range(2, 2 + len(id_texts())), dtype=object)
    fast = parse_id_numbers(texts, today=TODAY)
    plain = parse_with(texts, lambda text: normalize_id_number(text, today=TODAY))
    assert fast.values.tolist() == plain.values.tolist()
    assert fast.errors.to_dict() == plain.errors.to_dict()
    assert 200 < fast.values.notna().sum() < len(texts) - 500  # both kinds, many of each
    assert "身份证号中的出生日期无效" in set(fast.errors)
    assert "身份证号校验位错误" in set(fast.errors)


@pytest.mark.parametrize("normalise", [to_half_width, str.strip, _code_key])
def test_series_forms_normalise_as_the_function_does(normalise):
    values = ["  ab c ", "ＪＤ００１", "jd\u3000001", "a\tb\nc", "\u00a0x\u2003", "ｶﾀｶﾅ", "Ⅻ", "ﬁ", "阿依古丽·买买提", "",
              " ", "x\x1cy", "straße", "ǅ", "①"]
    assert normalise_all(pd.Series(values).to_numpy(), normalise) == [normalise(value) for value in values]


def test_non_string_cells_keep_the_one_by_one_path():
    values = pd.Series(["12", 3.0, 7], dtype=object).to_numpy()
    assert normalise_all(values, to_half_width) == ["12", "3.0", "7"]


def generated_log() -> list[dict]:
    """Household-survey rows: good ones, each survey rule broken, rules broken together, and
    full-width, spaced or lower-case spellings of the codes and names."""
    rng = random.Random(20240630)
    changes = [change for service, change, _, _ in RULES if service == "household_survey"]
    spelled = [{"任务编号": " ｊｄ００１ "}, {"服务人员工号": "w01"}, {"身份证号": " " + id_number(1).lower() + " "},
               {"服务对象姓名": "张 三"}, {"服务人员姓名": "赵六 "}, {"任务编号": "JD006", "服务对象姓名": "阿依古丽.买买提",
                                                           "身份证号": id_number(6)}]
    rows = []
    for serial in range(600):
        row = dict(GOOD["household_survey"], 开始时间=f"{8 + serial // 60 % 10:02d}:{serial % 60:02d}",
                   结束时间=f"{9 + serial // 60 % 10:02d}:{serial % 60:02d}")
        for change in rng.sample(changes + spelled, rng.choice([0, 0, 1, 1, 2, 3])):
            row.update(change)
        rows.append(row)
    return rows


def plain_paths(monkeypatch) -> None:
    monkeypatch.setattr(cells, "_SERIES_FORMS", {})
    monkeypatch.setattr(cells, "valid_plain_id_numbers", lambda texts, today: pd.Series(False, index=texts.index)
                        .to_numpy())


def test_a_generated_log_with_many_kinds_of_errors_gives_the_same_errors_either_way(monkeypatch):
    data = csv_bytes("household_survey", generated_log())
    fast = validate_log(read_table(data, "log.csv"), context("household_survey"))
    plain_paths(monkeypatch)
    plain = validate_log(read_table(data, "log.csv"), context("household_survey"))
    assert not fast.accepted and len(fast.errors) > 300
    assert len({error.reason for error in fast.errors}) > 25
    assert fast.errors == plain.errors and fast.unlisted == plain.unlisted


def test_a_good_log_spelled_every_way_gives_the_same_records_either_way(monkeypatch):
    rows = [dict(GOOD["household_survey"], 开始时间=f"{8 + n // 60:02d}:{n % 60:02d}",
                 结束时间=f"{9 + n // 60:02d}:{n % 60:02d}") for n in range(200)]
    for row, spelling in zip(rows, [{"任务编号": " ｊｄ００１ "}, {"服务人员工号": "w01"}, {"服务对象姓名": "张 三"},
                                    {"身份证号": " " + id_number(1).lower()}] * 50):
        row.update(spelling)
    rows.append(dict(GOOD["household_survey"], 任务编号="JD006", 服务对象姓名="阿依古丽・买买提", 身份证号=id_number(6)))
    data = csv_bytes("household_survey", rows)
    fast = validate_log(read_table(data, "log.csv"), context("household_survey"))
    plain_paths(monkeypatch)
    plain = validate_log(read_table(data, "log.csv"), context("household_survey"))
    assert fast.accepted, fast.errors[:3]
    pd.testing.assert_frame_equal(fast.records, plain.records)
    assert _name_key("阿依古丽・买买提") == _name_key("阿依古丽·买买提")
