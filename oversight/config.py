"""Settings and where they come from.

Every setting has its default here. A deployment overrides any of them, in this order (later
wins): the instance file `config.toml` in the instance folder, then the environment — each
setting as `OVERSIGHT_<NAME>` (values parsed as JSON when they parse, so `20`, `false` and
`{"time_cost": 3}` arrive typed), plus the historic `DATABASE_URL` and `SECRET_KEY` — then the
overrides passed to `create_app`. README's configuration table lists every setting.
"""
from __future__ import annotations

import os
import tomllib

from flask import Config as FlaskConfig

ENV_PREFIX = "OVERSIGHT"
INSTANCE_FILE = "config.toml"
# Unprefixed environment variables kept from the first deployments: name → setting.
ENV_ALIASES = {"DATABASE_URL": "DATABASE_URL", "SECRET_KEY": "SECRET_KEY"}


def normalize_database_url(url: str) -> str:
    """Accept the usual `postgres://` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Defaults:
    # Where things live; None means "derived from the instance folder" (see create_app).
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SECRET_KEY = None
    UPLOADS_DIR = None
    REPORTS_DIR = None
    # Where files are kept (adapters.files): "local" (UPLOADS_DIR, REPORTS_DIR) or "s3", a bucket of
    # any S3-compatible store (MinIO, a government cloud's OSS). Unset S3 credentials and region
    # fall back to boto3's own (environment, ~/.aws, instance role).
    FILE_STORE = "local"
    S3_ENDPOINT_URL = None
    S3_BUCKET = None
    S3_REGION = None
    S3_ACCESS_KEY_ID = None
    S3_SECRET_ACCESS_KEY = None
    S3_KEY_PREFIX = ""
    S3_ADDRESSING_STYLE = "auto"  # "path" for MinIO and most self-hosted stores; "virtual"; "auto"
    MAX_CONTENT_LENGTH = 200 * 1024 * 1024
    IMPORT_SYNC = False

    # The task queue (Huey, oversight/tasks.py): imports and the scheduled jobs run in
    # `flask run-worker` processes. None: SQLite storage in the instance folder (queue.sqlite);
    # `redis://host:6379/0`: Redis. Immediate: every task runs at once in the caller (tests).
    QUEUE_URL = None
    QUEUE_NAME = "oversight"
    QUEUE_IMMEDIATE = False
    QUEUE_WORKERS = 1
    TASK_RETRIES = 3
    TASK_RETRY_DELAY = 60
    # A batch whose worker showed no life for this long (or whose process is gone) is started
    # again, up to IMPORT_MAX_ATTEMPTS starts in all, then failed.
    IMPORT_LEASE_MINUTES = 10
    IMPORT_MAX_ATTEMPTS = 2
    # Tests only: seconds an import holds its records' transaction open before committing.
    IMPORT_TEST_PAUSE_SECONDS = 0
    # The same lease for page jobs (audit bundles, draws): a job whose worker showed no life for
    # this long (the worker beats every quarter of it) or whose process is gone is queued again,
    # up to PAGE_JOB_MAX_ATTEMPTS starts in all, then failed.
    PAGE_JOB_LEASE_MINUTES = 10
    PAGE_JOB_MAX_ATTEMPTS = 2
    # Tests only: seconds a page job holds its work (transaction, working file) open before committing.
    PAGE_JOB_TEST_PAUSE_SECONDS = 0
    # Per job, crontab fields replacing its time in oversight/jobs.py, e.g. {"remind_due": {"hour": 8}}.
    JOB_SCHEDULE = {}

    # Sessions. Production is the default: the cookie is sent over HTTPS only. The demo, served
    # over plain http on 127.0.0.1, turns it off (scripts/demo).
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 12 * 3600  # seconds from log-in until a new log-in is asked for
    SESSION_IDLE_MINUTES = 30
    WTF_CSRF_TIME_LIMIT = None
    # WTForms' own messages from its bundled catalogue in the forms' locale (zh: web.forms_common.Form),
    # not through Flask-Babel, which the app does not use.
    WTF_I18N_ENABLED = False
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed.
    TRUSTED_PROXIES = 0
    PREFERRED_URL_SCHEME = "http"

    # Log-in throttling (Flask-Limiter; failed attempts only, each expires after its window).
    # Unset: the task queue's Redis when QUEUE_URL is redis:// (so that every web process counts
    # log-in failures together), else memory:// (one process). If the storage cannot be reached,
    # each process counts in its own memory meanwhile (the fallback), so that log-in neither fails
    # nor goes unthrottled.
    RATELIMIT_STORAGE_URI = None
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_KEY_PREFIX = "oversight"
    LOGIN_FAILURES_PER_ADDRESS = "30 per 15 minutes"
    LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = "5 per 15 minutes"
    LOGIN_FAILURES_PER_ACCOUNT = "100 per hour"
    # The REST API (/api/v1): requests one token (or, without one, one address) may send.
    API_RATE_LIMIT = "600 per minute"
    API_WRITE_RATE_LIMIT = "120 per minute"
    # An app visit whose device clock, when sent, is further than this from the server's is flagged.
    # Requests to /api/v1 with a token that was refused (401) one address may send before every
    # request from it answers 429 (guessed tokens); the window moves, as the log-in throttle's.
    API_BAD_TOKENS_PER_ADDRESS = "30 per 15 minutes"
    APP_CLOCK_SKEW_MINUTES = 10
    # 影像核验 draws: this share of a quarter's app records with photos or a signature, at least
    # the floor (all when fewer); the rule is stored with each draw, so a change never alters one.
    MEDIA_AUDIT_SHARE_PERCENT = 10
    MEDIA_AUDIT_FLOOR = 5
    # The public notice (公示, no log-in): requests one address may make to its pages and PDFs.
    PUBLIC_REQUESTS_PER_ADDRESS = "60 per minute"
    PASSWORD_HASH_PARAMS = None

    # Lists.
    PAGE_SIZE = 50
    UPLOAD_ERRORS_PAGE_SIZE = 100
    REVIEW_RECORDS_PAGE_SIZE = 100
    IMPORT_ERRORS_SHOWN = 500

    # Uploads (completion logs, bulk sheets): with these, an import stays within
    # adapters.tables.reading.IMPORT_ADDRESS_SPACE_BOUND whatever the file (README, Upload limits).
    UPLOAD_MAX_ROWS = 100_000
    UPLOAD_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
    UPLOAD_MAX_ERRORS = 10_000
    # Evidence attachments (photos, scans, PDFs): bytes per file, files per owner.
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    ATTACHMENT_MAX_FILES = 10
    # Township outlines (GeoJSON, 行政区划 page and `flask load-area-outlines`): bytes per file.
    AREA_OUTLINE_MAX_BYTES = 20 * 1024 * 1024

    # The visit map's tiles (issue 12): empty, no tile layer (no request but the site's own). A
    # same-site path (`/tiles/{z}/{x}/{y}.png` behind the bureau's proxy) or an intranet URL; the
    # CSP's img-src admits that URL's origin only.
    MAP_TILE_URL = ""
    MAP_TILE_ATTRIBUTION = ""

    # Independent evidence (核对平台 results): a reported amount is flagged when it falls below the
    # data's figure by more than the larger of this percentage of the figure and this amount in
    # fen; a survey is compared with data checked within this many days of it.
    EVIDENCE_TOLERANCE_PERCENT = 10
    EVIDENCE_TOLERANCE_FLOOR_FEN = 50_000
    EVIDENCE_MATCH_DAYS = 180

    # The bureau, its reviews and its publications.
    REVIEW_COMMENT_DAYS = 14
    EVALUATION_COMMENT_DAYS = 14
    APPEAL_DAYS = 10  # working days (工作日) after a spot check is recorded in which the contractor may appeal
    # Rectification: a notice not accepted is reissued with a new deadline; past the last round
    # it escalates to the admins and proposes a deduction (points, negative) for the review.
    # Both deadlines are counted in working days by the county's holiday calendar.
    RECTIFICATION_NOTICE_DAYS = 15
    RECTIFICATION_REISSUE_DAYS = 15
    RECTIFICATION_MAX_ROUNDS = 2
    RECTIFICATION_DEDUCTION_POINTS = "-2"
    NOTICE_NUMBER_PREFIX = ""
    # The county of a one-county install (GB/T 2260 code and name), with its city and province
    # (issue 14): the migration puts an existing database's rows there, `seed-demo` builds it, and
    # `create-user` scopes a bureau user to it when no --area is given. Names left None for a
    # county other than 360704 stand as their codes until `load-areas` names them.
    COUNTY_CODE = "360704"
    COUNTY_NAME = "赣县区"
    CITY_NAME = None
    PROVINCE_NAME = None
    BUREAU_NAME = None
    BUREAU_CREDIT_CODE = None
    OCDS_OCID_PREFIX = "ocds-oversight"
    PUBLIC_BASE_URL = "http://localhost"

    # E-mail reminders (off while SMTP_HOST is unset).
    SMTP_HOST = None
    SMTP_PORT = 25
    SMTP_SENDER = "oversight@localhost"
    SMTP_USERNAME = None
    SMTP_PASSWORD = None
    SMTP_STARTTLS = False
    EMAIL_MAX_ATTEMPTS = 5  # tries of one notification's e-mail before it is marked failed
    EMAIL_DELIVERY_MINUTES = 5  # the worker sends the outbox every this many minutes (a divisor of 60)

    LOG_LEVEL = "INFO"

    # The audit chain's keys and anchors, outside the database (README, Audit log). None: files in
    # the instance folder (audit_keys.json, created 0600 on first use; audit_anchors.jsonl).
    AUDIT_KEY_FILE = None
    AUDIT_KEYS = None  # {"key id": "hex secret", ...} instead of the key file (a secrets manager)
    AUDIT_KEY_ID = None  # which of AUDIT_KEYS signs new events (needed when there are several)
    AUDIT_ANCHOR_FILE = None


def load_settings(config: FlaskConfig, overrides: dict | None = None) -> None:
    """Fill `config`: defaults < instance file < environment < `overrides`."""
    config.from_object(Defaults)
    config.from_file(INSTANCE_FILE, load=tomllib.load, silent=True, text=False)
    _take_database_url(config)
    for variable, setting in ENV_ALIASES.items():
        if os.environ.get(variable):
            config[setting] = os.environ[variable]
    _take_database_url(config)
    config.from_prefixed_env(ENV_PREFIX)
    _take_database_url(config)
    config.update(overrides or {})
    _take_database_url(config)


def _take_database_url(config: FlaskConfig) -> None:
    url = config.pop("DATABASE_URL", None)
    if url:
        config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(url)
