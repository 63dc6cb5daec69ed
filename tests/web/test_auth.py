from datetime import datetime, timedelta, UTC

import time_machine

from oversight.extensions import db

from tests.conftest import Client
from tests.factories import Factory


def _attempt(app, username, password):
    return Client(app).login(username, password)


def test_passwords_are_stored_hashed(factory):
    user = factory.user("admin")
    assert user.password_hash.startswith("$argon2")
    assert Factory.PASSWORD not in user.password_hash


def test_wrong_password_is_refused_with_a_generic_message(app, factory):
    user = factory.user("supervisor")
    response = _attempt(app, user.username, "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)


def _attempt_from(app, address, username, password):
    client = Client(app)
    client.http.environ_base["REMOTE_ADDR"] = address
    return client.login(username, password)


def test_five_wrong_passwords_hold_the_account_back_from_that_address_for_fifteen_minutes(app, factory):
    user = factory.user("supervisor")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            assert _attempt_from(app, "203.0.113.9", user.username, "wrong-password").status_code == 200
        # The right password does not help from there while the failures last…
        response = _attempt_from(app, "203.0.113.9", user.username, Factory.PASSWORD)
        assert response.status_code == 429 and "请在 15 分钟后重新登录" in response.get_data(as_text=True)
        # …but the account is not locked: its owner still gets in from elsewhere.
        assert _attempt_from(app, "198.51.100.4", user.username, Factory.PASSWORD).status_code == 302
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert _attempt_from(app, "203.0.113.9", user.username, Factory.PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert _attempt_from(app, "203.0.113.9", user.username, Factory.PASSWORD).status_code == 302


def test_a_successful_log_in_resets_the_failure_count(app, factory):
    user = factory.user("supervisor")
    for _ in range(4):
        _attempt(app, user.username, "wrong-password")
    assert _attempt(app, user.username, Factory.PASSWORD).status_code == 302
    for _ in range(4):
        _attempt(app, user.username, "wrong-password")
    assert _attempt(app, user.username, Factory.PASSWORD).status_code == 302


def test_pages_require_log_in(app):
    response = app.test_client().get("/assignments/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deactivated_users_cannot_log_in(app, factory):
    user = factory.user("supervisor")
    user.is_active_account = False
    db.session.commit()
    assert _attempt(app, user.username, Factory.PASSWORD).status_code == 200
