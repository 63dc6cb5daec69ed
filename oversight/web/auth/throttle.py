"""Log-in throttling: failed attempts are counted per address, per account from one address, and
per account from anywhere but its usual address; each failure expires after its window.

No account is ever locked: a stranger guessing the admin's password from elsewhere fills only
their own buckets, while the admin still gets in from the address of their last log-in. The
buckets are keyed by the typed name whether or not such an account exists, so a throttled
answer reads the same for both.
"""
from __future__ import annotations

from flask import current_app, g, request

from ...extensions import limiter
from ...services.accounts import find_user

ACCOUNT_AND_ADDRESS_SCOPE = "login-account-address"
ACCOUNT_SCOPE = "login-account"
_USERNAME_LENGTH = 64  # the column's: longer input names no account, and is cut to bound the keys


def typed_username() -> str:
    return (request.form.get("username") or "").strip()[:_USERNAME_LENGTH]


def _account_and_address() -> str:
    name = typed_username()
    return f"{name}@{request.remote_addr}" if name else ""


def _from_usual_address() -> bool:
    user = find_user(typed_username())
    return user is not None and user.last_login_address == request.remote_addr


def _attempt_failed(_response) -> bool:
    return g.get("login_failed", False)


def _setting(name: str):
    return lambda: current_app.config[name]


def mark_failed() -> None:
    """Count this request against every bucket it was checked against."""
    g.login_failed = True


def forget_failures() -> None:
    """After a successful log-in the account's buckets start afresh; the address's does not,
    or one valid account would let its holder guess others' passwords without end."""
    for request_limit in limiter.current_limits:
        if request_limit.request_args[-1] in (ACCOUNT_AND_ADDRESS_SCOPE, ACCOUNT_SCOPE):
            limiter.limiter.clear(request_limit.limit, *request_limit.request_args)


def throttled(view):
    for limit in (
        limiter.shared_limit(_setting("LOGIN_FAILURES_PER_ADDRESS"), scope="login-address",
                             methods=["POST"], deduct_when=_attempt_failed),
        limiter.shared_limit(_setting("LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS"), scope=ACCOUNT_AND_ADDRESS_SCOPE,
                             key_func=_account_and_address, methods=["POST"], deduct_when=_attempt_failed),
        limiter.shared_limit(_setting("LOGIN_FAILURES_PER_ACCOUNT"), scope=ACCOUNT_SCOPE, key_func=typed_username,
                             exempt_when=_from_usual_address, methods=["POST"], deduct_when=_attempt_failed),
    ):
        view = limit(view)
    return view
