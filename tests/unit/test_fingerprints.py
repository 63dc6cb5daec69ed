"""Evidence fingerprints: canonical, order-free, sensitive to every row and field, and able to say what changed."""
import hashlib
import zlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum

import pytest

from oversight.domain.fingerprints import (
    FORMAT_1,
    Fingerprint,
    WrittenRows,
    SourceChange,
    canonical_json,
    changes,
    describe,
    fingerprint,
    source_fingerprint,
)

CALLS = [(101, True), (102, True), (103, False)]


def crc(text: str) -> str:
    """A row digest of format 2: the CRC-32 of the row's canonical JSON, 8 hex digits."""
    return f"{zlib.crc32(text.encode()):08x}"


def sha12(text: str) -> str:
    """A row digest of format 1: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]
SOURCES = {"authenticity": CALLS, "completion": [(1, True), (2, False)]}


def test_the_digest_is_sha256_over_the_canonical_rows():
    found = source_fingerprint([(2, "b", None), (1, Decimal("0.90"), date(2025, 8, 10))])
    expected = canonical_json([[1, "0.90", "2025-08-10"], [2, "b", None]])
    assert expected == '[[1,"0.90","2025-08-10"],[2,"b",null]]'
    assert found.digest == hashlib.sha256(expected.encode()).hexdigest()
    assert found.rows == {"1": crc('[1,"0.90","2025-08-10"]'), "2": crc('[2,"b",null]')}


class _Level(IntEnum):
    HIGH = 3


class _Status(StrEnum):
    CLOSED = "closed"


def test_every_kind_of_value_is_hashed_as_the_canonical_json_of_its_plain_form():
    """Rows are written to JSON without json.dumps for speed: the bytes must be json.dumps' own."""
    moment = datetime(2025, 8, 9, 16, 0, 0, 123, tzinfo=timezone(timedelta(hours=8)))
    row = (7, True, False, None, -5, 10**20, '引号"\\\t\n\u2028é', "", Decimal("-0.50"), date(2025, 8, 10), moment,
           datetime(2025, 8, 9, 16, 0), [3, "a", None, [True]], (1, date(2025, 1, 2)), _Level.HIGH, _Status.CLOSED)
    plain = [7, True, False, None, -5, 10**20, '引号"\\\t\n\u2028é', "", "-0.50", "2025-08-10",
             "2025-08-09T16:00:00.000123+08:00", "2025-08-09T16:00:00", [3, "a", None, [True]], [1, "2025-01-02"], 3,
             "closed"]
    found = source_fingerprint([row, ("q", "二")])
    text = canonical_json(plain)
    assert found.rows["7"] == crc(text) and source_fingerprint([row], FORMAT_1).rows["7"] == sha12(text)
    assert found.digest == hashlib.sha256(canonical_json([plain, ["q", "二"]]).encode()).hexdigest()


def test_row_and_source_order_do_not_matter():
    shuffled = {"completion": [(2, False), (1, True)], "authenticity": list(reversed(CALLS))}
    assert fingerprint(shuffled) == fingerprint(SOURCES)


@pytest.mark.parametrize("changed", [
    {**SOURCES, "authenticity": [(101, True), (102, False), (103, False)]},  # a field changed
    {**SOURCES, "authenticity": CALLS + [(104, False)]},  # a row added
    {**SOURCES, "authenticity": CALLS[:2]},  # a row removed
    {**SOURCES, "timeliness": []},  # a source added, even an empty one
    {"authenticity": CALLS, "timeliness": [(1, True), (2, False)]},  # the same rows under another indicator
    {**SOURCES, "completion": [(1, 1), (2, 0)]},  # 1 is not True
])
def test_any_change_changes_the_digest(changed):
    assert fingerprint(changed).digest != fingerprint(SOURCES).digest


def test_what_changed_is_named_per_source():
    before = fingerprint(SOURCES)
    after = fingerprint({**SOURCES, "authenticity": [(101, True), (102, False), (104, False)]})
    assert changes(before, before) == ()
    assert changes(before, after) == (SourceChange("authenticity", added=("104",), removed=("103",),
                                                   changed=("102",)),)
    assert changes(after, before) == (SourceChange("authenticity", added=("103",), removed=("104",),
                                                   changed=("102",)),)


def test_a_source_that_appears_or_goes_lists_all_its_rows():
    before = fingerprint({"completion": [(1, True)]})
    after = fingerprint({"completion": [(1, True)], "rectification": [(7, date(2025, 9, 1)), (12, None)]})
    assert changes(before, after) == (SourceChange("rectification", added=("7", "12")),)
    assert changes(after, before) == (SourceChange("rectification", removed=("7", "12")),)


def test_ids_are_listed_in_numeric_order_and_quarters_as_text():
    before = fingerprint({"q": [("2025Q1", 1), ("2025Q2", 1)], "ids": [(9, 1), (10, 1)]})
    after = fingerprint({"q": [("2025Q1", 2), ("2025Q2", 2)], "ids": [(9, 2), (10, 2), (100, 1)]})
    assert changes(before, after) == (SourceChange("ids", added=("100",), changed=("9", "10")),
                                      SourceChange("q", changed=("2025Q1", "2025Q2")))


def test_a_fingerprint_survives_its_json():
    found = fingerprint({**SOURCES, "timeliness": [(1, date(2025, 8, 10), datetime(2025, 8, 9, 16, 0))]})
    assert Fingerprint.from_json(found.to_json()) == found
    assert found.to_json()["format"] == 2
    with pytest.raises(ValueError):
        Fingerprint.from_json({**found.to_json(), "format": 99})


def _format_1(rows_by_source: dict) -> dict:
    """A fingerprint as format 1 stored it (written out here by its definition: row id → digest)."""
    sources = {}
    for key, rows in sorted(rows_by_source.items()):
        texts = {str(row[0]): canonical_json([value.isoformat() if isinstance(value, date) else value for value in row])
                 for row in sorted(rows)}
        sources[key] = {"digest": hashlib.sha256(("[" + ",".join(texts.values()) + "]").encode()).hexdigest(),
                        "rows": {row_id: sha12(text) for row_id, text in texts.items()}}
    digest = hashlib.sha256(canonical_json(
        {"format": 1, "sources": {key: source["digest"] for key, source in sources.items()}}).encode()).hexdigest()
    return {"format": 1, "digest": digest, "sources": sources}


def test_a_fingerprint_stored_in_format_1_still_reads_and_tells_what_changed():
    rows = {**SOURCES, "timeliness": [(1, date(2025, 8, 10), datetime(2025, 8, 9, 16, 0)), (2, date(2025, 8, 11), None)]}
    stored = Fingerprint.from_json(_format_1(rows))
    assert stored == fingerprint(rows, FORMAT_1) and stored.to_json() == _format_1(rows)
    # The SHA-256s are those of the newest format: what a stored fingerprint says keeps its meaning.
    newest = fingerprint(rows)
    assert newest.digest == stored.digest and changes(stored, newest) == ()
    assert {key: source.digest for key, source in newest.sources.items()} == {
        key: source.digest for key, source in stored.sources.items()}
    changed = {**rows, "completion": [(1, True), (2, True), (3, False)]}
    assert changes(stored, fingerprint(changed, FORMAT_1)) == (SourceChange("completion", added=("3",),
                                                                            changed=("2",)),)
    with pytest.raises(ValueError, match="format"):  # row digests of two formats never compared
        changes(stored, fingerprint(changed))


@pytest.mark.parametrize("rows, texts", [
    ([(3, None, "a"), (1, date(2025, 1, 2), "b"), (2, datetime(2025, 1, 2, 3, 4), "c")],
     ['[1,"2025-01-02","b"]', '[2,"2025-01-02T03:04:00","c"]', '[3,null,"a"]']),  # a column of mixed kinds
    ([(2, [(1, "a")]), (1, "x", True)], ['[1,"x",true]', '[2,[[1,"a"]]]']),  # rows of two lengths
    ([("b", 1), (10, 2), (9, 3)], ['[9,3]', '[10,2]', '["b",1]']),  # numbers first, then text
])
def test_rows_of_any_shape_hash_as_their_canonical_json(rows, texts):
    """Columns of one kind are written by C calls alone, the others value by value: the same bytes."""
    found = source_fingerprint(rows)
    assert found.digest == hashlib.sha256(("[" + ",".join(texts) + "]").encode()).hexdigest()
    assert list(found.rows.values()) == [crc(text) for text in texts]
    assert found.ids == tuple(text[1:].split(",")[0].strip('"') for text in texts)


@pytest.mark.parametrize("rows, error", [
    ([(1, True), (1, False)], ValueError),  # an id twice
    ([(1, True), ("1", False)], ValueError),  # the same id as text
    ([()], ValueError),
    ([(None, True)], TypeError),
    ([(True, 1)], TypeError),
    ([(1, 0.5)], TypeError),  # floats are not exact evidence
    ([(1, {"a": 1})], TypeError),
])
def test_rows_that_cannot_be_fingerprinted_are_refused(rows, error):
    with pytest.raises(error):
        source_fingerprint(rows)


def test_a_change_reads_in_chinese():
    change = SourceChange("authenticity", added=("104",), changed=tuple(str(i) for i in range(1, 8)))
    assert describe(change, "服务真实率", "完成记录#") == (
        "服务真实率：新增1条（完成记录#104）；内容变化7条（完成记录#1、完成记录#2、完成记录#3、完成记录#4、完成记录#5 等7条）")
    assert describe(SourceChange("payments"), "绩效挂钩部分付款") == "绩效挂钩部分付款：依据记录有变化"


def test_rows_given_as_their_canonical_json_fingerprint_as_the_rows_themselves():
    rows = [(7, date(2025, 7, 31), datetime(2025, 7, 10, 9, 6)), (3, date(2025, 7, 1), None),
            (5, date(2025, 8, 1), datetime(2025, 8, 1, 0, 0, 0, 120))]
    texts = [canonical_json([row_id, day.isoformat(), None if at is None else at.isoformat()])
             for row_id, day, at in rows]
    assert texts[2] == '[5,"2025-08-01","2025-08-01T00:00:00.000120"]'
    written = WrittenRows([row[0] for row in rows], texts)
    for row_format in (FORMAT_1, 2):
        assert source_fingerprint(written, row_format) == source_fingerprint(rows, row_format)
    assert fingerprint({"timeliness": written}) == fingerprint({"timeliness": rows})
    with pytest.raises(ValueError, match="2 row ids but 3 rows"):
        source_fingerprint(WrittenRows([7, 3], texts))
    with pytest.raises(ValueError, match="appears twice"):
        source_fingerprint(WrittenRows([7, 3, 7], texts))

