"""All models, imported here so that metadata and Alembic see every table."""
from .acceptance import AcceptanceMember, ContractAcceptance
from .appeals import Appeal, ProposedDeduction
from .area import Area
from .assignment import Assignment
from .attachment import Attachment
from .audit import AuditEvent
from .completion import CompletionRecord, UploadBatch
from .contract import Contract, ServiceLine
from .contractor import Contractor, FieldWorker
from .field_app import ApiToken, AppVisit, MediaFile, MediaReview, VisitMedia
from .correction import CompletionRecordVersion, CorrectionRequest
from .operations import ExportJob, JobRun, Notification, NotificationPreference, TaskFailure
from .oversight_checks import (
    Callback,
    CallbackAttempt,
    Complaint,
    DrawItem,
    RectificationNotice,
    SamplingDraw,
    SpotCheck,
)
from .procurement import (
    ProcurementLine,
    ProcurementProject,
    TenderBid,
    TenderEvaluator,
    TenderScore,
    TenderScoringItem,
)
from .payments import Installment
from .performance import AnnualEvaluation, KpiScheme, PaymentRecord, QuarterlyReview, ReviewManualItem
from .standard import LocalStandard, LocalStandardVersion
from .reassessment import ConditionReport, TierEffectiveDate
from .subject import Subject
from .user import User
from .verification import EvidenceFlag, VerificationImport

__all__ = [
    "AnnualEvaluation", "Assignment", "Attachment", "AuditEvent", "Callback", "CallbackAttempt", "Complaint",
    "CompletionRecord", "CompletionRecordVersion", "Contract", "CorrectionRequest", "Contractor", "DrawItem", "FieldWorker", "JobRun", "KpiScheme", "LocalStandard", "Notification", "NotificationPreference",
    "PaymentRecord", "QuarterlyReview", "RectificationNotice", "ReviewManualItem", "SamplingDraw", "ServiceLine",
    "SpotCheck", "Subject", "TaskFailure", "UploadBatch", "User",
    "EvidenceFlag", "ExportJob", "VerificationImport", "Appeal", "ProposedDeduction",
    "ProcurementLine", "ProcurementProject", "TenderBid", "TenderEvaluator", "TenderScore", "TenderScoringItem",
    "AcceptanceMember", "ContractAcceptance", "Installment",
    "ApiToken", "AppVisit", "MediaFile", "MediaReview", "VisitMedia",
    "Area", "LocalStandardVersion",
    "ConditionReport", "TierEffectiveDate",
]

from ..extensions import db as _db  # noqa: E402
from .row_security import install_policies as _install_policies  # noqa: E402

_install_policies(_db.metadata)  # every table above with a county_id column, on PostgreSQL
