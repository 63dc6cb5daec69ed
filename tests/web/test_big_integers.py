"""Integers in paths and query strings beyond the database's range answer 404, never a 500, for
every route of the url_map, as every role. Ids are INTEGER: 32 bits on PostgreSQL, 64 on SQLite."""
from __future__ import annotations

import re

import pytest

from oversight.web.params import ID_MAX

from tests.conftest import Client

TOO_BIG = 9999999999999999999999
_PLACEHOLDER = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
ROLES = ("admin", "supervisor", "contractor", "auditor", None)


def _path(rule, number: int) -> str:
    def fill(match):
        converter, args = match.group("converter"), match.group("args")
        if converter == "int":
            return str(number)
        if converter == "any":
            return args.split(",")[0].strip().strip("'\"")
        return "x"

    return _PLACEHOLDER.sub(fill, rule.rule)


def _rules(app, with_int: bool):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        if ("<int:" in rule.rule) == with_int:
            yield rule


def _client(app, factory, client_for, role):
    if role is None:
        return Client(app)
    contractor = factory.contractor() if role == "contractor" else None
    return client_for(factory.user(role, contractor=contractor))


def _send(client: Client, method: str, url: str, role):
    if method == "GET":
        return client.get(url)
    return client.post(url, token_from="/dashboard" if role else "/login")


def _is_api(url: str) -> bool:
    """The REST API (tokens, not sessions): with a session alone it answers 401."""
    return url.split(" ")[-1].startswith("/api/")


def _answers_for_every_integer_path(client: Client, app, number: int, role) -> dict[str, int]:
    answers = {}
    for rule in _rules(app, with_int=True):
        for method in sorted(rule.methods & {"GET", "POST"}):
            url = _path(rule, number)
            answers[f"{method} {url}"] = _send(client, method, url, role).status_code
    return answers


@pytest.mark.parametrize("number", [ID_MAX + 1, 2**63, TOO_BIG])
@pytest.mark.parametrize("role", ROLES)
def test_every_integer_in_a_path_beyond_the_database_answers_404(app, factory, client_for, role, number):
    answers = _answers_for_every_integer_path(_client(app, factory, client_for, role), app, number, role)
    assert len(answers) > 60
    assert {url: code for url, code in answers.items() if code != 404} == {}


@pytest.mark.parametrize("role", ROLES)
def test_the_largest_database_integer_in_a_path_finds_nothing_and_fails_nothing(app, factory, client_for, role):
    answers = _answers_for_every_integer_path(_client(app, factory, client_for, role), app, ID_MAX, role)
    # Not found, not allowed for the role, or (anonymous) sent to log in — the API, which reads
    # bearer tokens and never the session, answers 401 —: never a 500.
    assert {url: code for url, code in answers.items()
            if code not in (302, 303, 403, 404) and not (code == 401 and _is_api(url))} == {}


@pytest.mark.parametrize("role", ROLES)
def test_huge_integer_query_parameters_answer_404_or_are_ignored(app, factory, client_for, role):
    client = _client(app, factory, client_for, role)
    huge = {name: ID_MAX + 1 for name in ("contract", "assignment", "batch", "base", "year", "draw", "review")}
    failures = {}
    for rule in _rules(app, with_int=False):
        if "GET" not in rule.methods or "<" in rule.rule:
            continue
        paged = client._request("get", rule.rule, query_string={"page": TOO_BIG}).status_code
        filtered = client._request("get", rule.rule, query_string=huge).status_code
        allowed = (200, 302, 403, 404, 401) if _is_api(rule.rule) else (200, 302, 403, 404)
        if paged not in allowed or filtered not in allowed:
            failures[rule.rule] = (paged, filtered)
    assert failures == {}


def test_a_huge_page_of_a_list_is_404_and_a_negative_one_the_first(app, factory, client_for):
    client = client_for(factory.user("admin"))
    for url in ("/assignments/", "/audit/", "/subjects/", "/uploads/", "/records/", "/reviews/", "/draws/",
                "/callbacks/complaints/", "/spot-checks/notices/", "/evaluations/"):
        assert client.get(f"{url}?page={TOO_BIG}").status_code == 404, url
        assert client.get(f"{url}?page=-3").status_code == 200, url
