"""The web layer's shape: blueprints share code only through `oversight/web/*.py` and services,
and only the policy decides what a role may do."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "oversight" / "web"
BLUEPRINTS = sorted(p.name for p in WEB.iterdir() if p.is_dir() and (p / "__init__.py").exists())
MODULES = sorted(path for name in BLUEPRINTS for path in (WEB / name).rglob("*.py"))


def _package_of(path: Path) -> list[str]:
    return ["oversight", *path.relative_to(ROOT / "oversight").with_suffix("").parts][:-1]


def _imported_modules(source: str, package: list[str]) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of everything a module of `package` imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.append((node.lineno, module))
            # `from .. import reviews` imports a package through its parent.
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _blueprint_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] == ["oversight", "web"] and len(parts) > 2 and parts[2] in BLUEPRINTS:
        return parts[2]
    return None


def test_there_are_blueprints_to_check():
    assert {"reviews", "evaluations", "exports", "subjects", "assignments"} <= set(BLUEPRINTS)
    assert len(MODULES) >= 2 * len(BLUEPRINTS) - 5


def test_the_import_reader_resolves_relative_and_absolute_imports():
    sample = ("from ..access import may\nfrom ...services import reviews\nfrom ..reviews.routes import bp\n"
              "from .. import evaluations\nimport oversight.web.subjects.routes\nfrom .forms import F\n")
    imported = _imported_modules(sample, ["oversight", "web", "exports"])
    assert {line: _blueprint_of(module) for line, module in imported if _blueprint_of(module)} == {
        3: "reviews", 4: "evaluations", 5: "subjects", 6: "exports"}
    assert (1, "oversight.web.access") in imported and (2, "oversight.services.reviews") in imported


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(WEB)))
def test_no_blueprint_imports_another_blueprint(path):
    own = path.relative_to(WEB).parts[0]
    crossings = [f"line {line}: {module}" for line, module in _imported_modules(path.read_text(encoding="utf-8"),
                                                                                 _package_of(path))
                 if _blueprint_of(module) not in (None, own)]
    assert crossings == [], f"{path.relative_to(ROOT)} imports another blueprint; move the shared code to " \
                            f"oversight/web/*.py or a service: {crossings}"


def _role_tests(tree: ast.AST) -> list[int]:
    """Lines that compare something's `.role`, or guard a route with role names."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Attribute) and side.attr == "role" for side in (node.left, *node.comparators)):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "roles_required":
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(WEB)))
def test_blueprints_ask_the_policy_instead_of_testing_roles(path):
    found = _role_tests(ast.parse(path.read_text(encoding="utf-8")))
    assert found == [], f"{path.relative_to(ROOT)} decides by role on lines {found}: use oversight.policy " \
                        "(permission_required, may)"


def test_the_role_test_finder_finds_role_tests():
    sample = "if current_user.role == 'admin': pass\n@roles_required('admin')\ndef f(): pass\n" \
             "ok = user.role_label == 'x'\nquery = select(User).order_by(User.role)\n"
    assert _role_tests(ast.parse(sample)) == [1, 2]


TEMPLATE_ROLE_TEST = re.compile(r"\.role\s*(==|!=|\bin\b|\bnot\s+in\b)")


def test_templates_ask_the_policy_instead_of_testing_roles():
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in sorted((ROOT / "templates").rglob("*.html"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if TEMPLATE_ROLE_TEST.search(line)]
    assert offenders == [], f"use may('action', record) instead: {offenders}"
    assert TEMPLATE_ROLE_TEST.search("{% if current_user.role in ('admin', 'supervisor') %}")
    assert not TEMPLATE_ROLE_TEST.search("{{ current_user.role|label(Role) }}")
