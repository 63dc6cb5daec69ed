"""Every fixed set of codes the system stores or reports, each with its Chinese label (SPEC 1–6).

A code is what the database holds and the code compares against; the label is what a person
reads. Members are `StrEnum`s, so `ReviewStatus.DRAFT == "draft"` and stored rows need no
conversion; `ReviewStatus("draft").label` is "草稿". Some sets are Chinese words already (call
outcomes, check methods): their label is the code itself.

Pages, exports and reports show `label_of(Vocabulary, code)`; none of them shows a code.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum


class Labelled(StrEnum):
    """A stored code with its Chinese label: `MEMBER = "code", "标签"` (or just `"中文"`)."""

    label: str

    def __new__(cls, value: str, label: str | None = None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = value if label is None else label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """{code: label} in declaration order, e.g. for a form's choices."""
        return {member.value: member.label for member in cls}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return list(cls.labels().items())

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)


def label_of(vocabulary: type[Labelled], code: str) -> str:
    """The label of a stored code; a code the vocabulary does not know is a bug, not a label."""
    return vocabulary(code).label


def vocabularies() -> list[type[Labelled]]:
    """Every vocabulary of this module."""
    return Labelled.__subclasses__()


class Role(Labelled):
    ADMIN = "admin", "系统管理员"
    SUPERVISOR = "supervisor", "监管人员"
    CONTRACTOR = "contractor", "承接机构人员"
    AUDITOR = "auditor", "审计人员"
    FIELD_WORKER = "field_worker", "服务人员（外勤）"


class ServiceType(Labelled):
    HOUSEHOLD_SURVEY = "household_survey", "家计调查"
    SELF_CARE_ASSESSMENT = "self_care_assessment", "自理能力评估"
    CARE_VISIT = "care_visit", "照料护理"


class SubjectKind(Labelled):
    HOUSEHOLD = "household", "家庭"
    PERSON = "person", "个人"


# A household is surveyed; a person is assessed and cared for.
SUBJECT_KIND_FOR_SERVICE: Mapping[ServiceType, SubjectKind] = {
    ServiceType.HOUSEHOLD_SURVEY: SubjectKind.HOUSEHOLD,
    ServiceType.SELF_CARE_ASSESSMENT: SubjectKind.PERSON,
    ServiceType.CARE_VISIT: SubjectKind.PERSON,
}


class SubjectCategory(Labelled):
    MINIMUM_LIVING = "低保"
    EXTREME_POVERTY = "特困"
    NEAR_MINIMUM_LIVING = "低保边缘"
    EXPENDITURE_HARDSHIP = "支出型困难"


class ProcurementMethod(Labelled):
    OPEN_TENDER = "公开招标"
    COMPETITIVE_CONSULTATION = "竞争性磋商"
    COMPETITIVE_NEGOTIATION = "竞争性谈判"
    SINGLE_SOURCE = "单一来源"
    REQUEST_FOR_QUOTATION = "询价"


class AssignmentStatus(Labelled):
    ASSIGNED = "assigned", "已派发"
    COMPLETED = "completed", "已完成"
    OVERDUE = "overdue", "已逾期"
    CANCELLED = "cancelled", "已取消"


# Assignments that still wait for their records.
OPEN_ASSIGNMENT_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.OVERDUE)


class BatchStatus(Labelled):
    """pending → processing → accepted | rejected | failed (unreadable file or crash)."""

    PENDING = "pending", "排队中"
    PROCESSING = "processing", "处理中"
    ACCEPTED = "accepted", "已接收"
    REJECTED = "rejected", "已拒收"
    FAILED = "failed", "失败"


class AnomalyFlag(Labelled):
    """Red flags on an accepted completion record (stored in `CompletionRecord.anomaly_flags`)."""

    SHORT_VISIT = "short_visit", "服务时长过短"
    ODD_HOURS = "odd_hours", "服务时间过早或过晚"
    OVERLAP = "overlap", "同一服务人员服务时间重叠"
    BUSY_DAY = "busy_day", "单日服务次数过多"
    FAR_FROM_TOWNSHIP = "far_from_township", "坐标远离对象所在乡镇"
    FAST_TRAVEL = "fast_travel", "两次服务之间移动过快"
    IDENTICAL_ANSWERS = "identical_answers", "不同家庭调查数据完全相同"
    ELIGIBLE_ABOVE_LINE = "eligible_above_line", "结论为符合但人均收入不低于低保标准"
    INELIGIBLE_BELOW_LINE = "ineligible_below_line", "结论为不符合但人均收入远低于低保标准"
    CONCLUSION_CHANGED = "conclusion_changed", "评估结论与上次不同"
    UNSIGNED = "unsigned", "服务对象未签字确认"
    # Visits recorded in the app (issue 12).
    DEVICE_CLOCK = "device_clock", "设备时间与服务器接收时间相差过大"
    OUTSIDE_WINDOW = "outside_window", "签到时间不在服务时段内"
    REUSED_PHOTO = "reused_photo", "同一照片在多次服务中使用"
    SIMILAR_PHOTO = "similar_photo", "照片与其他服务的照片几乎相同"
    DOUBTFUL_MEDIA = "doubtful_media", "影像核验存疑"


class SamplingRuleKind(Labelled):
    SHARE = "share", "比例抽样（含下限）"
    ISO2859 = "iso2859", "GB/T 2828.1 一次抽样"
    HYPERGEOMETRIC = "hypergeometric", "孤立批超几何抽样"


class DrawPurpose(Labelled):
    SPOT_CHECK = "spot_check", "抽查复检"
    CALLBACK = "callback", "电话回访"
    MEDIA_AUDIT = "media_audit", "影像核验"  # photos and signatures of app visits (issue 12)


class Stratum(Labelled):
    """The strata of a draw, in their reporting order."""

    TARGETED = "targeted", "定向抽查"
    FLAGGED = "flagged", "异常加权"
    RANDOM = "random", "随机抽查"


class CheckMethod(Labelled):
    HOME_VISIT = "入户复核"
    NEIGHBOUR_VISIT = "邻里走访"
    PHONE = "电话核实"


class NoticeStatus(Labelled):
    """open → responded → closed; overdue is not a status but derived from the deadline."""

    OPEN = "open", "待整改"
    RESPONDED = "responded", "已回复"
    CLOSED = "closed", "已关闭"


class NoticeOutcome(Labelled):
    ACCEPTED = "accepted", "整改合格"
    NOT_ACCEPTED = "not_accepted", "整改不合格"
    WITHDRAWN = "withdrawn", "申诉改判，撤销"


class LotVerdict(Labelled):
    """A spot-check draw's lot decision."""

    ACCEPTED = "accepted", "批接收"
    REJECTED = "rejected", "批不接收"
    PENDING = "pending", "待复检完成"
    NONE = "none", "按比例抽样，不作批判定"


class WorkerFlag(Labelled):
    """What the check results ask for a worker past a field-error threshold."""

    RETRAIN = "retrain", "需再培训"
    RECHECK = "recheck", "需定向复查"


class CallbackStatus(Labelled):
    """pending → answered | unreachable (three attempts without an answer) | refused."""

    PENDING = "pending", "待回访"
    ANSWERED = "answered", "已回访"
    UNREACHABLE = "unreachable", "无法联系"
    REFUSED = "refused", "拒访"


class CallOutcome(Labelled):
    """The result of one call of a callback."""

    CONNECTED = "接通"
    NO_ANSWER = "无人接听"
    NUMBER_UNUSED = "空号"
    REFUSED = "拒访"


class ComplaintSource(Labelled):
    CALLBACK = "callback", "电话回访"
    WALK_IN = "walk_in", "来访投诉"
    ERROR_RATE = "error_rate", "差错率超标"


class ComplaintStatus(Labelled):
    """open → targeted (its worker's records went into a draw) → closed."""

    OPEN = "open", "待纳入抽查"
    TARGETED = "targeted", "已纳入定向抽查"
    CLOSED = "closed", "已关闭"


class ReviewStatus(Labelled):
    """draft → published → agreed | disputed → settled → approved (locked)."""

    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布，待承接方确认"
    AGREED = "agreed", "承接方同意"
    DISPUTED = "disputed", "承接方有异议"
    SETTLED = "settled", "已裁定"
    APPROVED = "approved", "已审定锁定"


class Position(Labelled):
    """The contractor's answer to a published review."""

    AGREE = "agree", "同意"
    DISAGREE = "disagree", "不同意"


class ScoreAction(Labelled):
    """What scoring a quarter did to one contract's review."""

    CREATED = "created", "已生成草稿"
    REFRESHED = "refreshed", "已重新计算草稿"
    KEPT = "kept", "保持不变"
    SKIPPED = "skipped", "未评分"
    PREVIEW = "preview", "预览，季度未结束，不可发布"


class EvaluationStatus(Labelled):
    """draft → published → agreed | disputed → settled → approved (locked), as a quarterly review."""

    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布，待承接方确认"
    AGREED = "agreed", "承接方同意"
    DISPUTED = "disputed", "承接方有异议"
    SETTLED = "settled", "已裁定"
    APPROVED = "approved", "已审定锁定"


class PaymentKind(Labelled):
    FIXED = "fixed", "固定部分"
    PERFORMANCE = "performance", "绩效挂钩部分"


class Cadence(Labelled):
    DAILY = "daily", "每日"
    MONTHLY = "monthly", "每月"
    QUARTERLY = "quarterly", "每季度末"
    YEARLY = "yearly", "每年末"


class JobTrigger(Labelled):
    SCHEDULE = "schedule", "定时"
    CATCH_UP = "catch_up", "补跑"
    MANUAL = "manual", "手动"


class JobOutcome(Labelled):
    RUNNING = "running", "运行中"
    SUCCEEDED = "succeeded", "成功"
    FAILED = "failed", "失败"


class JobCount(Labelled):
    """The counts a job's run reports in its summary; the label names what was counted."""

    ASSIGNMENTS_OVERDUE = "assignments_overdue", "标记逾期任务"
    NOTICES_OVERDUE = "notices_overdue", "逾期整改通知"
    NOTICES = "notices", "到期提醒"
    ASSIGNMENTS_ISSUED = "assignments_issued", "派发照料护理任务"
    SPOT_CHECK_DRAWS = "spot_check_draws", "抽查复检抽样"
    CALLBACK_DRAWS = "callback_draws", "电话回访抽样"
    REVIEWS_CREATED = "created", "已生成草稿"
    REVIEWS_REFRESHED = "refreshed", "重新计算考核草稿"
    REVIEWS_KEPT = "kept", "保持不变"
    REVIEWS_SKIPPED = "skipped", "无可评分数据的合同"
    EVALUATIONS_DRAFTED = "drafted", "年度评价草稿"
    EVALUATIONS_ALREADY_APPROVED = "already_approved", "已审定的年度评价"
    EVALUATIONS_WITHOUT_QUARTER = "no_approved_quarter", "无已审定季度的合同"
    ANCHORED_EVENTS = "anchored_events", "锚定的审计事件"
    EVALUATIONS_PUBLISHED = "kept_published", "保留已发布的年度评价"
    REVIEWS_PREVIEWED = "preview", "预览（季度未结束，未保存）"  # in runs stored before the job left it out


def describe_counts(summary: Mapping[str, object]) -> str:
    """A job run's summary as a sentence: "标记逾期任务 3，逾期整改通知 1"."""
    return "，".join(f"{label_of(JobCount, key)} {value}" for key, value in summary.items())


class AuditAction(Labelled):
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGIN_REFUSED_LOCKED = "login_refused_locked", "账号锁定，拒绝登录"
    LOGIN_REFUSED_INACTIVE = "login_refused_inactive", "账户已停用，拒绝登录"
    VIEW_PERSONAL_DATA = "view_personal_data", "查看个人信息"
    VIEW_FULL = "view_full", "导出完整个人信息"
    IMPORT = "import", "导入"
    ENTER = "enter", "录入"
    EXPORT = "export", "导出"
    SEED = "seed", "生成演示数据"
    RESET = "reset", "清空数据库"
    SEAL_LEGACY = "seal_legacy", "封存旧式审计事件"
    ROTATE_KEY = "rotate_key", "轮换审计密钥"
    RESTORE = "restore", "恢复数据库"
    ANCHOR = "anchor", "锚定审计日志"
    IMPORT_INTERRUPTED = "import_interrupted", "导入进程中断"
    JOB_INTERRUPTED = "job_interrupted", "后台任务进程中断"


class AuditObject(Labelled):
    """What an audit event is about: a model's class name, or a file or the database as a whole."""

    USER = "User", "用户"
    CONTRACTOR = "Contractor", "承接机构"
    FIELD_WORKER = "FieldWorker", "服务人员"
    CONTRACT = "Contract", "服务合同"
    SERVICE_LINE = "ServiceLine", "合同服务内容"
    SUBJECT = "Subject", "服务对象"
    ASSIGNMENT = "Assignment", "任务"
    UPLOAD_BATCH = "UploadBatch", "上传批次"
    COMPLETION_RECORD = "CompletionRecord", "服务记录"
    LOCAL_STANDARD = "LocalStandard", "地方标准"
    LOCAL_STANDARD_VERSION = "LocalStandardVersion", "地方标准版本"
    FINANCE_EXPORT = "FinanceExport", "特困人员护理补贴表"
    AREA = "Area", "行政区划"
    SAMPLING_DRAW = "SamplingDraw", "抽样"
    DRAW_ITEM = "DrawItem", "抽中记录"
    SPOT_CHECK = "SpotCheck", "抽查复检"
    ATTACHMENT = "Attachment", "附件"
    CORRECTION_REQUEST = "CorrectionRequest", "更正申请"
    COMPLETION_RECORD_VERSION = "CompletionRecordVersion", "服务记录版本"
    RECTIFICATION_NOTICE = "RectificationNotice", "整改通知"
    APPEAL = "Appeal", "抽查申诉"
    PROPOSED_DEDUCTION = "ProposedDeduction", "整改扣分建议"
    CALLBACK = "Callback", "电话回访"
    CALLBACK_ATTEMPT = "CallbackAttempt", "回访拨打"
    COMPLAINT = "Complaint", "投诉"
    KPI_SCHEME = "KpiScheme", "考核方案"
    QUARTERLY_REVIEW = "QuarterlyReview", "季度考核"
    REVIEW_MANUAL_ITEM = "ReviewManualItem", "考核加减分"
    ANNUAL_EVALUATION = "AnnualEvaluation", "年度评价"
    PAYMENT_RECORD = "PaymentRecord", "付款记录"
    JOB_RUN = "JobRun", "定时任务运行"
    TASK_FAILURE = "TaskFailure", "失败的后台任务"
    EXPORT_JOB = "ExportJob", "后台任务（审计包、抽样）"
    API_TOKEN = "ApiToken", "接口令牌"
    APP_VISIT = "AppVisit", "移动端服务记录"
    MEDIA_FILE = "MediaFile", "照片或签名"
    VISIT_MEDIA = "VisitMedia", "服务记录的照片或签名"
    MEDIA_REVIEW = "MediaReview", "影像核验结果"
    NOTIFICATION = "Notification", "通知"
    NOTIFICATION_PREFERENCE = "NotificationPreference", "通知设置"
    AUDIT_BUNDLE = "AuditBundle", "审计包"
    OCDS_PACKAGE = "OcdsPackage", "OCDS 公开数据"
    DATABASE = "Database", "数据库"
    DEMO = "Demo", "演示数据"
    VERIFICATION_IMPORT = "VerificationImport", "核对数据导入"
    EVIDENCE_FLAG = "EvidenceFlag", "核对疑点"
    AUDIT_LOG = "AuditLog", "审计日志"
    AUDIT_KEY = "AuditKey", "审计密钥"
    PROCUREMENT_PROJECT = "ProcurementProject", "采购项目"
    PROCUREMENT_LINE = "ProcurementLine", "采购服务内容"
    TENDER_BID = "TenderBid", "投标"
    TENDER_SCORING_ITEM = "TenderScoringItem", "评分项"
    TENDER_EVALUATOR = "TenderEvaluator", "评标委员会成员"
    TENDER_SCORE = "TenderScore", "评委评分"
    INSTALLMENT = "Installment", "付款分期"
    CONTRACT_ACCEPTANCE = "ContractAcceptance", "履约验收"
    ACCEPTANCE_MEMBER = "AcceptanceMember", "验收小组成员"
    CONTRACTOR_PROFILE = "ContractorProfile", "承接机构履约档案"
    CONDITION_REPORT = "ConditionReport", "情况变化报告"
    TIER_EFFECTIVE_DATE = "TierEffectiveDate", "护理档次生效日期"


class ImportKind(Labelled):
    SUBJECTS = "subjects", "服务对象"
    ASSIGNMENTS = "assignments", "任务"


def describe_sampling_rule(rule: Mapping[str, object]) -> str:
    """A contract's sampling rule as a sentence: "GB/T 2828.1 一次抽样，AQL 2.5"."""
    kind = SamplingRuleKind(rule["kind"])
    parts = [kind.label]
    if "share" in rule:
        parts.append(f"比例 {_percent(rule['share'])}")
    if rule.get("floor") is not None:
        parts.append(f"至少 {rule['floor']} 份")
    if "aql" in rule:
        parts.append(f"AQL {rule['aql']}")
    if "limiting_quality" in rule:
        parts.append(f"极限质量 {_percent(rule['limiting_quality'])}")
    if "consumer_risk" in rule:
        parts.append(f"使用方风险 {_percent(rule['consumer_risk'])}")
    return "，".join(parts)


def _percent(share: object) -> str:
    return f"{(Decimal(str(share)) * 100).normalize():f}%"


# --- Callbacks: who answered the phone (issue 10.4) ----------------------------------------


class CallAnswerer(Labelled):
    """Who answered a callback that got through; NULL on callbacks answered before it was asked (未记录)."""

    SELF = "self", "本人"
    FAMILY = "family", "家属"
    OTHER = "other", "其他"


# --- Independent evidence: verification data and the contradictions it shows (issue 10.9) ---


class VerificationKind(Labelled):
    """The files of other departments' data the bureau imports."""

    ECONOMIC = "economic", "家庭经济状况核对结果"
    DEATH = "death", "死亡登记"


class EvidenceFlagKind(Labelled):
    """A contradiction between a stored record and the imported verification data."""

    INCOME_UNDERREPORTED = "income_underreported", "上报收入低于核对数据"
    ASSETS_UNDERREPORTED = "assets_underreported", "上报金融资产低于核对存款"
    PROPERTY_UNDERREPORTED = "property_underreported", "上报房产少于核对数据"
    VEHICLES_UNDERREPORTED = "vehicles_underreported", "上报机动车少于核对数据"
    BUSINESS_UNREPORTED = "business_unreported", "有工商登记但未申报经营收入"
    REGISTERED_ELSEWHERE = "registered_elsewhere", "家庭成员户籍或所属家庭在别处"
    SERVICE_AFTER_DEATH = "service_after_death", "死亡日期后仍有服务记录"


class EvidenceFlagStatus(Labelled):
    """open → targeted (its record went into a spot-check draw's targeted stratum) → closed."""

    OPEN = "open", "待纳入抽查"
    TARGETED = "targeted", "已纳入定向抽查"
    CLOSED = "closed", "已关闭"


# --- evidence attachments ---------------------------------------------------------------------


class AttachmentOwner(Labelled):
    """What an attachment is evidence for (`Attachment.owner_type`); each kind's owner is one row."""

    SPOT_CHECK = "spot_check", "抽查复检"
    RECTIFICATION_NOTICE = "rectification_notice", "整改通知回复"
    QUARTERLY_REVIEW = "quarterly_review", "季度考核意见"
    CORRECTION_REQUEST = "correction_request", "更正申请"
    APPEAL = "appeal", "申诉"
    PROCUREMENT_PROJECT = "procurement_project", "采购项目文件"


# --- corrections of stored records (更正申请) ----------------------------------------------------


class CorrectionStatus(Labelled):
    """pending → approved (a new version of the record) | refused."""

    PENDING = "pending", "待审核"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "已驳回"


# --- the audit chain's anchors (issue 16.4) ---------------------------------------------------


class AnchorReason(Labelled):
    """Why an anchor of the audit chain was written."""

    DAILY = "daily", "每日定时锚定"
    MANUAL = "manual", "手动锚定"
    EXPORT = "export", "导出审计包"
    SEAL = "seal", "封存旧式审计事件"
    ROTATE = "rotate", "轮换审计密钥"
    RESTORE = "restore", "恢复数据库后重新锚定"
    RESET = "reset", "清空数据库后重新锚定"


# --- appeals, rectification rounds and proposed deductions (issue 10, points 7 and 8) ---------


class AppealStatus(Labelled):
    """filed → (recheck_ordered → rechecked) → decided."""

    FILED = "filed", "待裁决"
    RECHECK_ORDERED = "recheck_ordered", "已安排复核"
    RECHECKED = "rechecked", "复核完成，待裁决"
    DECIDED = "decided", "已裁决"


class AppealDecision(Labelled):
    """A different supervisor's decision on an appealed spot check."""

    UPHELD = "upheld", "维持原结论（不合格）"
    OVERTURNED = "overturned", "改判为合格"


class DeductionStatus(Labelled):
    """A deduction proposed by an escalated rectification notice: the supervisor confirms it when scoring."""

    PROPOSED = "proposed", "待确认"
    CONFIRMED = "confirmed", "已计入考核"
    DISMISSED = "dismissed", "不予扣分"


# --- notifications and their e-mails (issue 11) ------------------------------------------------


class NotificationKind(Labelled):
    """The workflow event a notification tells of; each user chooses which kinds also e-mail them."""

    NOTICE_ISSUED = "notice_issued", "整改通知下发"
    NOTICE_OVERDUE = "notice_overdue", "整改通知逾期"
    NOTICE_ESCALATED = "notice_escalated", "整改通知升级"
    REVIEW_PUBLISHED = "review_published", "考核结果发布（征求意见）"
    REVIEW_COMMENTED = "review_commented", "承接方对考核结果的意见"
    REVIEW_SETTLED = "review_settled", "考核异议裁定"
    SPOT_CHECK_RESULT = "spot_check_result", "抽查复检结果"
    CORRECTION_DECIDED = "correction_decided", "更正申请审核结果"
    APPEAL_DECIDED = "appeal_decided", "抽查申诉裁决"
    IMPORT_FINISHED = "import_finished", "上传记录处理完成"
    IMPORT_FAILED = "import_failed", "上传记录处理失败"
    DUE_SOON = "due_soon", "任务即将到期"
    REASSESSMENT_ASSIGNED = "reassessment_assigned", "情况变化复评任务派发"


class EmailStatus(Labelled):
    """A notification's e-mail: pending → sending → sent, back to pending after a failed attempt,
    failed after the last; skipped when nothing is to be sent."""

    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    SKIPPED = "skipped", "不发送"


# --- audit bundles built on the queue (issue 11) -----------------------------------------------


class ExportJobStatus(Labelled):
    """A page job (an audit bundle, a draw) on the queue: pending until a worker takes it
    (running, under its lease), then done, or failed after its last retry or interrupted start."""

    PENDING = "pending", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


# --- procurement projects to award (issue 15) ---------------------------------------------------


class TenderStatus(Labelled):
    """draft → announced → opened (bids opened, scoring) → evaluated → awarded; or cancelled."""

    DRAFT = "draft", "筹备中"
    ANNOUNCED = "announced", "已发布采购公告"
    OPENED = "opened", "已开标，评审中"
    EVALUATED = "evaluated", "已评审，待定标"
    AWARDED = "awarded", "已定标，合同已生成"
    CANCELLED = "cancelled", "已终止"


# Until bids are opened a project's details, items and committee may change; bids are taken
# from the announcement to the evaluation.
TENDER_STATUSES_OPEN_TO_SETUP = frozenset({TenderStatus.DRAFT, TenderStatus.ANNOUNCED})
TENDER_STATUSES_OPEN_TO_BIDS = frozenset({TenderStatus.ANNOUNCED, TenderStatus.OPENED})
# --- payment schedule and 履约验收 (issue 15) ---------------------------------------------------


class InstallmentKind(Labelled):
    """One installment of a contract's payment schedule."""

    ADVANCE = "advance", "预付款"
    PROGRESS = "progress", "进度款"
    PERFORMANCE = "performance", "履约绩效款"


class InstallmentCondition(Labelled):
    """What makes an installment payable: a day, the year's 履约验收, or the approved annual evaluation."""

    DATE = "date", "约定日期已到"
    ACCEPTANCE = "acceptance", "年度履约验收通过"
    EVALUATION = "evaluation", "年度绩效评价审定"


class InstallmentStatus(Labelled):
    """Derived from the condition, the payment and a hold (`domain/installments.py`), never stored."""

    PENDING = "pending", "未到期"
    PAYABLE = "payable", "可支付"
    PAID = "paid", "已支付"
    WITHHELD = "withheld", "暂扣"


class AcceptanceStatus(Labelled):
    DRAFT = "draft", "验收中"
    CONCLUDED = "concluded", "已出具验收结论"


class AcceptanceConclusion(Labelled):
    """The acceptance team's conclusion on a contract's year."""

    QUALIFIED = "qualified", "合格"
    BASICALLY_QUALIFIED = "basically_qualified", "基本合格"
    UNQUALIFIED = "unqualified", "不合格"


class AcceptanceRole(Labelled):
    """A member's place on the acceptance team (验收小组)."""

    LEADER = "leader", "组长"
    PURCHASER = "purchaser", "采购人代表"
    EXPERT = "expert", "专家"
    RECIPIENT = "recipient", "服务对象代表"
    OTHER = "other", "其他成员"


# --- field-worker app and REST API (issue 12) ---------------------------------------------------


class RecordSource(Labelled):
    """Where a completion record came from."""

    APP = "app", "移动端"
    UPLOAD = "upload", "上传文件"
    FORM = "form", "表单录入"


class MediaKind(Labelled):
    """A file sent with a visit recorded in the app."""

    PHOTO = "photo", "现场照片"
    SIGNATURE = "signature", "对象签名"


class ExportJobKind(Labelled):
    """What a page job (`export_jobs`) makes on the queue."""

    AUDIT_BUNDLE = "audit_bundle", "审计包"
    DRAW = "draw", "抽样"


# --- areas (issue 14) ---------------------------------------------------------------------------


class AreaLevel(Labelled):
    """A level of the administrative hierarchy (GB/T 2260 for the top three, 统计用区划代码 below)."""

    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县（区）"
    TOWNSHIP = "township", "乡镇（街道）"
    VILLAGE = "village", "村（社区）"


# --- re-assessment on a change of condition (issue 14) -------------------------------------------


class AssignmentReason(Labelled):
    """Why an assignment was issued, where it is not the contract's ordinary work (NULL)."""

    REASSESSMENT = "reassessment", "情况变化复评"


class ConditionReporter(Labelled):
    """Who reported a special-hardship person's change of condition (情况变化报告)."""

    CONTRACTOR_STAFF = "contractor_staff", "承接机构工作人员"
    FIELD_WORKER = "field_worker", "服务人员（经承接机构）"
    BUREAU = "bureau", "民政部门"
    TOWNSHIP = "township", "乡镇（街道）"
    VILLAGE_COMMITTEE = "village_committee", "村（居）委会"
    FAMILY = "family", "本人或家属"
    OTHER = "other", "其他"
# --- field app: media audit (issue 12) ----------------------------------------------------------


class MediaVerdict(Labelled):
    """A supervisor's verdict on one drawn photo or signature (影像核验)."""

    REAL = "real", "真实"
    DOUBTFUL = "doubtful", "存疑"
