"""User accounts: password hashing, log-in, and the session version that ends sessions."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..domain.vocabulary import AreaLevel
from ..models import Area, Contractor, FieldWorker, User
from .areas import home_county
from .audit import acting_as, record_event

MIN_PASSWORD_LENGTH = 8
WRONG_CREDENTIALS = "用户名或密码错误"
# Changing any of these ends the user's other sessions: what they may do, or who may sign in.
_SESSION_ENDING_COLUMNS = ("role", "is_active_account", "password_hash", "contractor_id", "field_worker_id",
                           "area_id")

_hasher = PasswordHasher()
_dummy_hash: str | None = None


def configure_hashing(params: dict | None) -> None:
    """Set argon2 cost parameters (tests lower them); existing hashes carry their own."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(**params) if params else PasswordHasher()
    _dummy_hash = None


class AccountError(ValueError):
    """Refused account operation; the message is Chinese, for the user."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    return _verify(user.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _hash_of_nobody() -> str:
    """A hash at the current cost that no password matches: an unknown user name costs the same
    argon2 work as a real one, so the answer's timing does not tell which names exist."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_hex(16))
    return _dummy_hash


def create_user(username: str, password: str, role: str, display_name: str,
                contractor_id: int | None = None, field_worker_id: int | None = None,
                area_id: int | None = None) -> User:
    """A new account; a field worker's is tied to one registered, active worker and belongs to
    that worker's contractor. A contractor's people are scoped to their contractor's county; the
    bureau's to `area_id` (a county, city or province), else to the install's county."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少{MIN_PASSWORD_LENGTH}位")
    if role == "contractor" and contractor_id is None:
        raise AccountError("承接机构人员必须属于一个承接机构")
    if role == "field_worker":
        worker = db.session.get(FieldWorker, field_worker_id) if field_worker_id else None
        if worker is None or not worker.active:
            raise AccountError("外勤服务人员账户必须对应一名已登记且在岗的服务人员")
        if db.session.execute(select(User.id).where(User.field_worker_id == worker.id)).first():
            raise AccountError(f"服务人员 {worker.worker_no} {worker.name} 已有账户")
        contractor_id = worker.contractor_id
    else:
        field_worker_id = None
    if role not in ("contractor", "field_worker"):
        contractor_id = None
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise AccountError("用户名已存在")
    area_id = user_area_id(contractor_id, area_id)
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name, contractor_id=contractor_id, field_worker_id=field_worker_id,
                area_id=area_id)
    db.session.add(user)
    db.session.flush()
    return user


def user_area_id(contractor_id: int | None, area_id: int | None) -> int:
    """The area an account is scoped to: its contractor's county, or `area_id` (a county, a city
    or a province), or the install's county."""
    if contractor_id is not None:
        contractor = db.session.get(Contractor, contractor_id)
        if contractor is None:
            raise AccountError("承接机构不存在")
        return contractor.county_id
    if area_id is None:
        return home_county().id
    area = db.session.get(Area, area_id)
    if area is None or area.level not in (AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY):
        raise AccountError("用户的管辖区域须为省、市或县（区）")
    return area.id


def find_user(username: str) -> User | None:
    return db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    message: str | None


def authenticate(username: str, password: str, address: str | None) -> LoginResult:
    """Check a password. Unknown names and wrong passwords cost the same hash and read the same;
    throttling of repeated failures is the web layer's (web/auth/throttle.py)."""
    user = find_user(username)
    if user is None:
        _verify(_hash_of_nobody(), password)
        record_event("login_failed", "User", None, {"username": username})
        return LoginResult(None, WRONG_CREDENTIALS)
    if not password_matches(user, password):
        record_event("login_failed", "User", user.id, {"username": username})
        return LoginResult(None, WRONG_CREDENTIALS)
    if not user.is_active:
        record_event("login_refused_inactive", "User", user.id, {})
        return LoginResult(None, "账户已停用，请联系系统管理员")
    with acting_as(user.id, user.username):
        user.last_login_address = address
        db.session.flush()  # the address change is the user's too, not the anonymous request's
        record_event("login", "User", user.id, {})
    return LoginResult(user, None)


def set_password(user: User, new_password: str) -> None:
    """A new hash; the session-version listener then ends the user's other sessions."""
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少{MIN_PASSWORD_LENGTH}位")
    user.password_hash = hash_password(new_password)


def end_sessions(user: User) -> None:
    """Every session of `user` signed in so far stops working at its next request."""
    user.session_version = (user.session_version or 0) + 1


def _end_sessions_on_account_changes(session: Session, _flush_context, _instances) -> None:
    for obj in session.dirty:
        if not isinstance(obj, User):
            continue
        state = inspect(obj)
        if state.attrs.session_version.history.has_changes():
            continue
        if any(state.attrs[key].history.has_changes() for key in _SESSION_ENDING_COLUMNS):
            end_sessions(obj)


def install_session_version_listener() -> None:
    """Role, activation, password and contractor changes end the user's sessions (idempotent)."""
    if not event.contains(Session, "before_flush", _end_sessions_on_account_changes):
        event.listen(Session, "before_flush", _end_sessions_on_account_changes)
