"""All models, imported here so that metadata and Alembic see every table."""
from .assignment import Assignment
from .audit import AuditEvent
from .contract import Contract, ServiceLine
from .contractor import Contractor, FieldWorker
from .standard import LocalStandard
from .subject import Subject
from .user import User

__all__ = [
    "Assignment",
    "AuditEvent",
    "Contract",
    "Contractor",
    "FieldWorker",
    "LocalStandard",
    "ServiceLine",
    "Subject",
    "User",
]
