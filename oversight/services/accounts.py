"""User accounts: password hashing, log-in with lock-out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..models.base import utcnow
from .audit import record_event

_hasher = PasswordHasher()


def configure_hashing(params: dict | None) -> None:
    """Set argon2 cost parameters (tests lower them); existing hashes carry their own."""
    global _hasher
    _hasher = PasswordHasher(**params) if params else PasswordHasher()
MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    """Refused account operation; the message is Chinese, for the user."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(username: str, password: str, role: str, display_name: str,
                contractor_id: int | None = None) -> User:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少{MIN_PASSWORD_LENGTH}位")
    if role == "contractor" and contractor_id is None:
        raise AccountError("承接机构人员必须属于一个承接机构")
    if role != "contractor":
        contractor_id = None
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise AccountError("用户名已存在")
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name, contractor_id=contractor_id)
    db.session.add(user)
    db.session.flush()
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    message: str | None


def authenticate(username: str, password: str, *, max_failures: int, lock_minutes: int) -> LoginResult:
    """Check a password, counting failures; the account locks after `max_failures` in a row."""
    generic = "用户名或密码错误"
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    now = utcnow()
    if user is None:
        record_event("login_failed", "User", None, {"username": username})
        return LoginResult(None, generic)
    if user.locked_until and user.locked_until > now:
        record_event("login_refused_locked", "User", user.id, {})
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return LoginResult(None, f"账户已被锁定，请{minutes}分钟后再试")
    if not user.is_active or not password_matches(user, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            return LoginResult(None, f"连续{max_failures}次密码错误，账户已锁定{lock_minutes}分钟")
        return LoginResult(None, generic)
    if user.failed_logins or user.locked_until:
        user.failed_logins = 0
        user.locked_until = None
    record_event("login", "User", user.id, {})
    return LoginResult(user, None)
