"""Every action, object and field the audit log records has a Chinese name: the codes written by
`record_event` (and the ORM listener) are read from the source (the app's and the demo seeds'),
so a new one without a label fails."""
from __future__ import annotations

import ast
from pathlib import Path

import oversight
import oversight.models  # noqa: F401  (registers every table)
from oversight.domain.field_labels import FIELD_LABELS, OBJECT_FIELD_LABELS, field_label
from oversight.domain.vocabulary import AuditAction, AuditObject
from oversight.extensions import db

ROOT = Path(oversight.__file__).parent.parent
SOURCES = (ROOT / "oversight", ROOT / "seeds")  # the demo seeds write events of their own
# The functions that write an event, and the positions of their action, object type and details.
WRITERS = {"record_event": (0, 1, 3), "_append": (2, 3, 5), "_insert": (4, 5, 7)}
# Functions that pass details on to record_event: where their own details come from.
DETAIL_PASSERS = {"anchor_audit_log": 1, "rebase_after": 1, "reveal_personal_data": None}


def _strings(node: ast.AST) -> set[str]:
    return {sub.value for sub in ast.walk(node) if isinstance(sub, ast.Constant) and isinstance(sub.value, str)}


def _assigned(function: ast.AST, name: str) -> set[str]:
    """The string constants assigned to `name` inside `function`, or given to it by a loop that
    unpacks tuples (`for (action, obj, changes) in pending`: the strings at that place of the
    function's tuple literals of that length)."""
    found = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found |= _strings(node.value)
        if isinstance(node, ast.For):
            for unpacked in (sub for sub in ast.walk(node.target) if isinstance(sub, ast.Tuple)):
                place = next((i for i, element in enumerate(unpacked.elts)
                              if isinstance(element, ast.Name) and element.id == name), None)
                if place is None:
                    continue
                found |= {literal.elts[place].value for literal in ast.walk(function)
                          if isinstance(literal, ast.Tuple) and literal is not unpacked
                          and len(literal.elts) == len(unpacked.elts)
                          and isinstance(literal.elts[place], ast.Constant) and isinstance(literal.elts[place].value, str)}
    return found


def _dict_keys(node: ast.AST | None) -> set[str]:
    if node is None:
        return set()
    return {key.value for sub in ast.walk(node) if isinstance(sub, ast.Dict)
            for key in sub.keys if isinstance(key, ast.Constant) and isinstance(key.value, str)}


def written() -> tuple[set[str], set[str], set[str]]:
    """(action codes, object types, detail keys) every event writer in the source passes."""
    actions, objects, keys = set(), set(), set()
    for path in (path for source in SOURCES for path in source.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for function in functions:
            for call in ast.walk(function):
                if not isinstance(call, ast.Call):
                    continue
                name = getattr(call.func, "id", getattr(call.func, "attr", None))
                if name in WRITERS:
                    action_at, object_at, details_at = WRITERS[name]
                    args = call.args
                    for position, into in ((action_at, actions), (object_at, objects)):
                        if len(args) > position:
                            arg = args[position]
                            if isinstance(arg, ast.Name):
                                params = {a.arg for a in function.args.args}
                                into |= set() if arg.id in params else _assigned(function, arg.id)
                            else:
                                into |= _strings(arg)
                    keys |= _dict_keys(args[details_at] if len(args) > details_at else None)
                    keys |= _dict_keys(next((k.value for k in call.keywords if k.arg == "changes"), None))
                if name in DETAIL_PASSERS:
                    position = DETAIL_PASSERS[name]
                    keys |= {k.arg for k in call.keywords if k.arg}
                    if position is not None and len(call.args) > position:
                        keys |= _dict_keys(call.args[position])
    return actions, objects, keys


def test_the_scan_finds_the_writers_it_is_meant_to():
    actions, objects, keys = written()
    # One of each way of passing an action: a literal, a conditional, a variable, the ORM listener.
    assert {"login", "view_full", "export", "view_personal_data", "restore", "reset", "create", "update",
            "delete", "seal_legacy"} <= actions
    assert {"User", "Subject", "CompletionRecord", "AuditLog", "Database"} <= objects
    assert {"batch", "skipped_rows", "purpose", "legacy_events", "method"} <= keys


def test_every_action_code_in_use_has_a_label():
    actions, _, _ = written()
    assert actions - set(AuditAction.codes()) == set()


def test_every_object_type_in_use_has_a_label():
    _, objects, _ = written()
    tables = {mapper.class_.__name__ for mapper in db.Model.registry.mappers}
    assert (objects | tables) - {"AuditEvent"} - set(AuditObject.codes()) == set()


def test_every_recorded_field_has_a_label():
    _, _, keys = written()
    columns = {attr.key for mapper in db.Model.registry.mappers for attr in mapper.column_attrs}
    assert (keys | columns) - set(FIELD_LABELS) == set()


def test_a_field_named_alike_on_several_objects_reads_as_that_objects_own():
    assert field_label("Assignment", "number") == "任务编号"
    assert field_label("RectificationNotice", "number") == "通知书编号"
    assert field_label("UploadBatch", "status") == "状态"
    assert all(object_type in AuditObject.codes() for object_type, _ in OBJECT_FIELD_LABELS)
