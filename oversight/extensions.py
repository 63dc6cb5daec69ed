"""Flask extensions, created unbound and initialised in the app factory."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that Alembic migrations work the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects keep their loaded values after commit, so that the audit log sees every change's
# "before" even when an object is changed again after a commit.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: only the log-in form is throttled (web/auth/throttle.py). Storage, strategy
# and key prefix come from the RATELIMIT_* settings.
limiter = Limiter(key_func=get_remote_address)


def migration_includes(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic leaves alone the job-store table that APScheduler (the scheduler before the task
    queue) left in older databases."""
    return not (type_ == "table" and name == "apscheduler_jobs")
