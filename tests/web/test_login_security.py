"""Log-in: where it may redirect, what it reveals about accounts, and how guessing is throttled."""
from __future__ import annotations

import os
import re
import secrets

import pytest
import redis

from oversight import create_app
from oversight.extensions import db
from oversight.models import User
from oversight.services import accounts

from tests.conftest import Client
from tests.factories import Factory

REDIS_URL = "redis://127.0.0.1:6379/0"


def _client(app, address="192.0.2.10") -> Client:
    client = Client(app)
    client.http.environ_base["REMOTE_ADDR"] = address
    return client


def _flash(response) -> str:
    match = re.search(r'<div class="flash danger" role="alert">([^<]*)</div>', response.get_data(as_text=True))
    return match.group(1) if match else ""


def _login_to(client: Client, next_target: str, username: str, password: str = Factory.PASSWORD):
    token = client.csrf_token("/login")
    return client._request("post", "/login", query_string={"next": next_target},
                           data={"username": username, "password": password, "csrf_token": token})


@pytest.mark.parametrize("target", [
    "/\t/evil.example/",          # ?next=/%09/evil.example/: browsers drop the tab
    "/\n/evil.example/",
    "//evil.example/",
    "/\\evil.example/",           # browsers read the backslash as a slash
    "\\\\evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/\x00/evil.example",
    "evil.example",
])
def test_log_in_never_redirects_off_the_site(app, factory, target):
    user = factory.user("supervisor")
    response = _login_to(_client(app), target, user.username)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_log_in_returns_to_a_page_of_this_site(app, factory):
    user = factory.user("supervisor")
    response = _login_to(_client(app), "/assignments/?status=overdue", user.username)
    assert response.headers["Location"] == "/assignments/?status=overdue"


class CountingHasher:
    """The real hasher, counting the passwords it verifies."""

    def __init__(self, hasher):
        self._hasher = hasher
        self.verified = 0

    def verify(self, password_hash, password):
        self.verified += 1
        return self._hasher.verify(password_hash, password)

    def hash(self, password):
        return self._hasher.hash(password)


def test_an_unknown_user_costs_a_password_hash_and_reads_like_a_wrong_password(app, factory, monkeypatch):
    user = factory.user("supervisor")
    counting = CountingHasher(accounts._hasher)
    monkeypatch.setattr(accounts, "_hasher", counting)

    wrong_password = _client(app).login(user.username, "wrong-password")
    assert counting.verified == 1
    unknown_user = _client(app).login("nobody-" + secrets.token_hex(4), "wrong-password")
    assert counting.verified == 2  # the unknown name was hashed against a dummy, as long as a real one
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert _flash(wrong_password) == _flash(unknown_user) == "用户名或密码错误"


def test_a_deactivated_account_with_a_wrong_password_reads_like_any_wrong_password(app, factory):
    user = factory.user("supervisor")
    user.is_active_account = False
    db.session.commit()
    assert _flash(_client(app).login(user.username, "wrong-password")) == "用户名或密码错误"
    right = _client(app).login(user.username, Factory.PASSWORD)
    assert right.status_code == 200 and _flash(right) == "账户已停用，请联系系统管理员"


def _fail(app, address, username, times):
    for _ in range(times):
        _client(app, address).login(username, "wrong-password")


def test_throttled_log_in_reads_the_same_whether_the_account_exists_or_not(app, factory):
    user = factory.user("admin")
    _fail(app, "192.0.2.20", user.username, 5)
    _fail(app, "192.0.2.20", "nobody-" + secrets.token_hex(4), 5)
    real = _client(app, "192.0.2.20").login(user.username, "wrong-password")
    unknown = _client(app, "192.0.2.20").login("nobody-" + secrets.token_hex(4), "x")
    _fail(app, "192.0.2.21", "ghost", 5)
    ghost = _client(app, "192.0.2.21").login("ghost", "x")
    assert real.status_code == ghost.status_code == 429
    assert real.get_data(as_text=True) == ghost.get_data(as_text=True)
    assert "登录尝试过多" in real.get_data(as_text=True)
    # Ten failures from .20 are below its per-address limit: another unknown name still answers 200.
    assert unknown.status_code == 200


def test_one_address_guessing_many_accounts_is_throttled(app, factory):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = "3 per 15 minutes"
    user = factory.user("supervisor")
    for name in ("anna", "bo", "chen"):
        _fail(app, "192.0.2.30", name, 1)
    assert _client(app, "192.0.2.30").login(user.username, Factory.PASSWORD).status_code == 429
    assert _client(app, "192.0.2.31").login(user.username, Factory.PASSWORD).status_code == 302


def test_a_stranger_cannot_keep_the_admin_out_of_their_usual_address(app, factory):
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = "4 per hour"
    admin = factory.user("admin")
    assert _client(app, "10.1.1.1").login(admin.username, Factory.PASSWORD).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, admin.id).last_login_address == "10.1.1.1"
    for n in range(4):  # guesses from many addresses: each stays under its own limits
        _fail(app, f"198.51.100.{n}", admin.username, 1)
    # The account-wide limit now holds back every other address, even with the right password…
    assert _client(app, "198.51.100.200").login(admin.username, Factory.PASSWORD).status_code == 429
    # …but not the address the admin last signed in from.
    assert _client(app, "10.1.1.1").login(admin.username, Factory.PASSWORD).status_code == 302


def test_a_successful_log_in_clears_the_accounts_failures_but_not_the_addresss(app, factory):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = "6 per 15 minutes"
    user = factory.user("supervisor")
    _fail(app, "192.0.2.40", user.username, 4)
    assert _client(app, "192.0.2.40").login(user.username, Factory.PASSWORD).status_code == 302
    _fail(app, "192.0.2.40", "someone-else", 2)
    # Six failures from this address in the window, whatever the success in between.
    assert _client(app, "192.0.2.40").login(user.username, Factory.PASSWORD).status_code == 429


@pytest.fixture
def redis_apps(_schema, tmp_path):
    """Two app instances (as two gunicorn workers would be) sharing the Redis throttle storage."""
    connection = redis.Redis.from_url(REDIS_URL)
    connection.ping()  # Redis runs on every machine of this project and in CI: no skip
    config = {**_schema, "TESTING": True, "SECRET_KEY": "redis-test", "RATELIMIT_STORAGE_URI": REDIS_URL,
              "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
              "UPLOADS_DIR": str(tmp_path / "uploads")}
    first, second = create_app(config), create_app(config)
    yield first, second, connection
    connection.close()


def test_the_redis_storage_shares_failures_between_workers_and_lets_them_expire(redis_apps):
    first, second, connection = redis_apps
    name = "redis-guess-" + secrets.token_hex(6)
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    try:
        for worker in (first, second, first, second, first):
            assert _client(worker, address).login(name, "wrong").status_code == 200
        assert _client(second, address).login(name, "wrong").status_code == 429
        assert _client(first, address).login(name, "wrong").status_code == 429
        keys = list(connection.scan_iter(match=f"*{name}*"))
        assert keys, "the failures are kept in Redis"
        windows = {b"login-account-address": 15 * 60, b"login-account": 60 * 60}
        for key in keys:  # each bucket expires with its window
            scope = key.split(b"/")[3]
            assert 0 < connection.ttl(key) <= windows[scope]
        assert {key.split(b"/")[3] for key in keys} == set(windows)
    finally:
        for key in connection.scan_iter(match=f"*{name}*"):
            connection.delete(key)
        for key in connection.scan_iter(match=f"*{address}*"):
            connection.delete(key)


_DOWN_PROBE = """
import sys
from oversight import create_app
from oversight.extensions import db
from tests.conftest import Client
app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1],
                  "UPLOADS_DIR": sys.argv[1] + "-uploads", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
                  "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1}})
with app.app_context():
    db.create_all()
codes = []
for _ in range(6):
    client = Client(app)
    client.http.environ_base["REMOTE_ADDR"] = "192.0.2.77"
    codes.append(client.login("fallback-guess", "wrong").status_code)
print(codes)
"""


def test_the_throttle_uses_the_queues_redis_by_default_and_keeps_counting_when_it_is_down(_schema, tmp_path):
    import subprocess
    import sys

    from tests.process_support import ROOT

    base = {**_schema, "TESTING": True, "SECRET_KEY": "redis-test", "UPLOADS_DIR": str(tmp_path / "uploads")}
    assert create_app({**base, "QUEUE_URL": REDIS_URL}).config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    assert create_app(base).config["RATELIMIT_STORAGE_URI"] == "memory://"
    # Nothing listens on port 1: the failures are counted in the process's memory meanwhile, so
    # the log-in page neither breaks (a ConnectionError without the fallback) nor stops throttling.
    # In a process of its own: the limiter is one object per process, and keeps a fallback once set.
    probe = subprocess.run([sys.executable, "-c", _DOWN_PROBE, str(tmp_path / "down.sqlite")], cwd=ROOT,
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "OVERSIGHT_INSTANCE_PATH": str(tmp_path / "instance")})
    assert probe.stdout.strip().splitlines()[-1:] == ["[200, 200, 200, 200, 200, 429]"], probe.stderr[-2000:]
