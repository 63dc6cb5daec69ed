"""Bulk sheets of subjects and assignments: validated whole, accepted whole or refused whole.

The same row-level rules as completion logs (SPEC section 4): every refused cell is reported
with its Excel row, its header, the value and a reason in Chinese.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ..adapters.tables.cells import CellError, ErrorCollector, match_columns, parse_choices, parse_dates
from ..adapters.tables.cells import parse_id_numbers, parse_integers, parse_mobiles, parse_text
from .duplicates import duplicate_key
from .vocabulary import SUBJECT_KIND_FOR_SERVICE, ServiceType, SubjectCategory, SubjectKind

SUBJECT_COLUMNS = ("类型", "姓名", "身份证号", "乡镇/街道", "村/社区", "类别", "联系电话", "家庭人口数")
SUBJECT_REQUIRED = ("类型", "姓名", "身份证号", "乡镇/街道", "村/社区", "类别")

ASSIGNMENT_COLUMNS = ("任务编号", "合同编号", "服务类型", "服务对象姓名", "身份证号", "截止日期", "备注")
ASSIGNMENT_REQUIRED = ("合同编号", "服务类型", "服务对象姓名", "身份证号", "截止日期")

_KIND_WORDS = {kind.label: kind.value for kind in SubjectKind} | {"户": "household", "人": "person"}
_SERVICE_WORDS = {service.label: service.value for service in ServiceType} | {service.value: service.value for service in ServiceType}


@dataclass(frozen=True)
class SheetValidation:
    """Typed rows (None when anything was refused) and the refused cells (the first
    `max_errors` of them; `unlisted` counts the others)."""

    rows: pd.DataFrame | None
    errors: list[CellError]
    unlisted: int = 0

    @classmethod
    def refused(cls, errors: ErrorCollector, max_errors: int | None) -> SheetValidation:
        listed = errors.errors(max_errors)
        return cls(None, listed, errors.count() - len(listed))


def _accessors(table: pd.DataFrame, found: dict[str, str]):
    """(column by expected name, blank when absent; header as the user spelled it)."""
    empty = pd.Series("", index=table.index, dtype=object)
    return (lambda name: table[found[name]] if name in found else empty), (lambda name: found.get(name, name))


def _duplicates(series: pd.Series) -> pd.Series:
    """Rows whose value already appeared on an earlier row (blank values never count)."""
    present = series.notna() & (series.astype(str) != "")
    return present & series.duplicated(keep="first")


def _first_row_of(series: pd.Series) -> dict:
    firsts = series[~series.duplicated(keep="first")]
    return dict(zip(firsts.to_numpy(), firsts.index))


def validate_subjects(table: pd.DataFrame, existing: set[tuple[str, str]], today: dt.date,
                      max_errors: int | None = None) -> SheetValidation:
    """Subjects sheet → rows [kind, name, id_number, township, village, category, phone, household_size].

    `existing` holds the (kind, id_number) pairs already registered.
    """
    found, header_errors = match_columns(table, SUBJECT_COLUMNS, SUBJECT_REQUIRED)
    if header_errors:
        return SheetValidation(None, header_errors)
    column, header = _accessors(table, found)
    errors = ErrorCollector(table)
    kind = errors.add_parsed(header("类型"), parse_choices(column("类型"), _KIND_WORDS,
                                                         shown=list(SubjectKind.labels().values())))
    name = errors.add_parsed(header("姓名"), parse_text(column("姓名"), max_length=64))
    id_number = errors.add_parsed(header("身份证号"), parse_id_numbers(column("身份证号"), today=today))
    township = errors.add_parsed(header("乡镇/街道"), parse_text(column("乡镇/街道"), max_length=32))
    village = errors.add_parsed(header("村/社区"), parse_text(column("村/社区"), max_length=64))
    category = errors.add_parsed(header("类别"), parse_choices(column("类别"), SubjectCategory.labels()))
    phone = errors.add_parsed(header("联系电话"), parse_mobiles(column("联系电话"), required=False))
    size = errors.add_parsed(header("家庭人口数"),
                             parse_integers(column("家庭人口数"), 1, 20, required=False))

    key = kind.astype(str) + ":" + id_number.astype(str)
    usable = kind.notna() & id_number.notna()
    firsts = _first_row_of(key[usable])
    errors.add_where(header("身份证号"), usable & _duplicates(key.where(usable)),
                     lambda rows: pd.Series([f"与第{firsts[key[r]]}行重复" for r in rows], index=rows))
    registered = pd.Series([(k, i) in existing for k, i in zip(kind, id_number)], index=table.index)
    errors.add_where(header("身份证号"), usable & registered, "该服务对象已登记")
    household_without_size = (kind == "household") & size.isna() & ~errors.bad(header("家庭人口数"))
    errors.add_where(header("家庭人口数"), household_without_size, "家庭类服务对象须填写家庭人口数")
    if errors:
        return SheetValidation.refused(errors, max_errors)
    rows = pd.DataFrame({
        "kind": kind, "name": name, "id_number": id_number, "township": township, "village": village,
        "category": category, "phone": phone, "household_size": size.astype(object).where(size.notna(), None),
    })
    return SheetValidation(rows, [])


def validate_assignments(table: pd.DataFrame, *, contracts: pd.DataFrame, subjects: pd.DataFrame,
                         taken_numbers: set[str], today: dt.date, max_errors: int | None = None,
                         open_assignments: pd.DataFrame | None = None) -> SheetValidation:
    """Assignments sheet → rows [number, contract_id, service_type, subject_id, due_date, note, required_visits].

    `contracts`: [code, contract_id, term_start, term_end, service_types (set), visits_per_month];
    `subjects`: [kind, id_number, subject_id, name]; `taken_numbers`: numbers already issued;
    `open_assignments`: [contract_id, subject_id, service_type, due_date, number] of the open
    assignments of these subjects, which a row may not repeat (`domain.duplicates`), nor may two
    rows repeat each other. A blank 任务编号 is left None for the caller to number.
    """
    found, header_errors = match_columns(table, ASSIGNMENT_COLUMNS, ASSIGNMENT_REQUIRED)
    if header_errors:
        return SheetValidation(None, header_errors)
    column, header = _accessors(table, found)
    errors = ErrorCollector(table)

    number = errors.add_parsed(header("任务编号"), parse_text(column("任务编号"), required=False, max_length=32))
    number = number.where(number.notna() & (number != ""), None)
    code = errors.add_parsed(header("合同编号"), parse_text(column("合同编号")))
    service = errors.add_parsed(header("服务类型"), parse_choices(column("服务类型"), _SERVICE_WORDS,
                                                              shown=list(ServiceType.labels().values())))
    name = errors.add_parsed(header("服务对象姓名"), parse_text(column("服务对象姓名")))
    id_number = errors.add_parsed(header("身份证号"), parse_id_numbers(column("身份证号"), today=today))
    due = errors.add_parsed(header("截止日期"), parse_dates(column("截止日期")))
    note = errors.add_parsed(header("备注"), parse_text(column("备注"), required=False, max_length=500))

    firsts = _first_row_of(number.dropna())
    errors.add_where(header("任务编号"), _duplicates(number),
                     lambda rows: pd.Series([f"与第{firsts[number[r]]}行的任务编号重复" for r in rows], index=rows))
    errors.add_where(header("任务编号"), number.isin(taken_numbers), "任务编号已存在")

    by_code = contracts.set_index("code")
    known_contract = code.isin(by_code.index)
    errors.add_where(header("合同编号"), code.notna() & ~known_contract, "合同编号不存在")
    contract = by_code.reindex(code.where(known_contract))
    contract.index = table.index
    covers = pd.Series([bool(st) and isinstance(types, (set, frozenset)) and st in types
                        for st, types in zip(service, contract["service_types"])], index=table.index)
    errors.add_where(header("服务类型"), known_contract & service.notna() & ~covers, "该合同不包含此项服务")
    outside_term = known_contract & due.notna() & (
        (due < contract["term_start"]) | (due > contract["term_end"]))
    errors.add_where(header("截止日期"), outside_term, "截止日期不在合同服务期内")

    kind = service.map({service.value: kind.value for service, kind in SUBJECT_KIND_FOR_SERVICE.items()})
    subject_index = subjects.set_index(["kind", "id_number"])
    lookup = pd.MultiIndex.from_arrays([kind.fillna(""), id_number.fillna("")])
    matched = subject_index.reindex(lookup)
    matched.index = table.index
    usable_subject = service.notna() & id_number.notna()
    missing_subject = usable_subject & matched["subject_id"].isna()
    errors.add_where(header("身份证号"), missing_subject, "未找到该身份证号的服务对象（家计调查对应家庭，评估与照料对应个人）")
    wrong_name = usable_subject & ~missing_subject & name.notna() & (matched["name"] != name)
    errors.add_where(header("服务对象姓名"), wrong_name,
                     lambda rows: pd.Series([f"与登记姓名「{matched['name'][r]}」不一致" for r in rows], index=rows))
    _refuse_repeated_work(errors, header("身份证号"), contract["contract_id"], matched["subject_id"], service, due,
                          open_assignments)
    if errors:
        return SheetValidation.refused(errors, max_errors)
    rows = pd.DataFrame({
        "number": number, "contract_id": contract["contract_id"].astype(int), "service_type": service,
        "subject_id": matched["subject_id"].astype(int), "due_date": due,
        "note": note.where(note.notna() & (note != ""), None),
        "required_visits": [int(v) if st == "care_visit" else 1
                            for st, v in zip(service, contract["visits_per_month"])],
    })
    return SheetValidation(rows, [])



def _refuse_repeated_work(errors: ErrorCollector, column: str, contract_id: pd.Series, subject_id: pd.Series,
                          service: pd.Series, due: pd.Series, open_assignments: pd.DataFrame | None) -> None:
    """A row repeating an open assignment, or an earlier row, of the same work is refused."""
    usable = contract_id.notna() & subject_id.notna() & service.notna() & due.notna()
    key = pd.Series([duplicate_key(int(c), int(s), st, d) if ok else None
                     for ok, c, s, st, d in zip(usable, contract_id, subject_id, service, due)],
                    index=contract_id.index, dtype=object)
    open_numbers: dict[str, tuple[str, dt.date]] = {}
    if open_assignments is not None:
        for row in open_assignments.sort_values(["due_date", "number"]).itertuples(index=False):
            open_numbers.setdefault(duplicate_key(row.contract_id, row.subject_id, row.service_type, row.due_date),
                                    (row.number, row.due_date))
    repeats_open = key.isin(list(open_numbers))
    errors.add_where(column, repeats_open, lambda rows: pd.Series(
        [f"该服务对象在本合同已有未完成的{ServiceType(service[r]).label}任务 {open_numbers[key[r]][0]}"
         f"（截止 {open_numbers[key[r]][1].isoformat()}），不能重复派发" for r in rows], index=rows))
    firsts = _first_row_of(key.dropna())
    errors.add_where(column, ~repeats_open & _duplicates(key), lambda rows: pd.Series(
        [f"与第{firsts[key[r]]}行重复派发：同一合同的同一服务对象同一服务只能有一项未完成任务" for r in rows],
        index=rows))
