"""Configuration classes; values come from the environment, never from constants for secrets."""
from __future__ import annotations

import os


def normalize_database_url(url: str) -> str:
    """Accept the usual `postgres://` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 200 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PAGE_SIZE = 50
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    SCHEDULER_ENABLED = False
    # Uploads (completion logs, bulk sheets): with these, an import stays within
    # adapters.tables.reading.IMPORT_ADDRESS_SPACE_BOUND whatever the file (README, Upload limits).
    UPLOAD_MAX_ROWS = 100_000
    UPLOAD_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
    UPLOAD_MAX_ERRORS = 10_000

    def __init__(self) -> None:
        url = os.environ.get("DATABASE_URL")
        if url:
            self.SQLALCHEMY_DATABASE_URI = normalize_database_url(url)
        secret = os.environ.get("SECRET_KEY")
        if secret:
            self.SECRET_KEY = secret


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = True
