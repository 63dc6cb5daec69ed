"""Chinese names of the fields an audit event records: the columns of every audited table and
the keys of the summaries `record_event` writes (imports, full views, exports, anchors).

`field_label(object_type, key)` is what the audit log page and its export show instead of the
stored key. The completion-record fields take their template headers (SPEC section 4), so a
field reads the same in the log as in the file the contractor filled in.
"""
from __future__ import annotations

from oversight.domain import self_care
from oversight.domain.completion_log import TEMPLATE_COLUMNS

_TEMPLATE_HEADERS = {column.key: column.header for columns in TEMPLATE_COLUMNS.values() for column in columns}

FIELD_LABELS: dict[str, str] = {
    **{key: header for key, header in _TEMPLATE_HEADERS.items() if key not in ("number",)},
    **self_care.ITEM_LABELS,
    # identity and bookkeeping
    "id": "编号", "number": "编号", "code": "编号", "name": "名称", "title": "标题", "kind": "类型",
    "status": "状态", "version": "版本", "revision": "版次", "sequence": "序号", "round": "轮次",
    "position": "抽中顺序", "year": "年度", "quarter": "季度", "county": "县（区）", "township": "乡镇（街道）",
    "village": "村（社区）", "category": "类别", "note": "备注", "text": "内容", "reason": "理由",
    "message": "提示信息", "error": "错误", "errors": "错误清单", "details": "详情", "summary": "摘要",
    "body": "正文", "link": "链接", "source": "来源", "purpose": "用途", "method": "方式", "values": "记录内容",
    "active": "在岗", "is_active_account": "账户启用", "created_at": "创建时间", "updated_at": "更新时间",
    # people and organisations
    "username": "用户名", "display_name": "姓名", "email": "电子邮箱", "phone": "电话", "role": "角色",
    "password_hash": "密码", "session_version": "会话版本", "last_login_address": "最近登录地址",
    "credit_code": "统一社会信用代码", "contact_person": "联系人", "contact_phone": "联系电话",
    "contractor_id": "承接机构", "user_id": "用户", "owner_id": "所属对象编号", "owner_type": "所属对象类型",
    "subject_id": "服务对象", "worker_id": "服务人员", "id_number": "身份证号", "population": "抽样总体",
    # contracts and assignments
    "contract_id": "合同", "procurement_method": "采购方式", "amount_fen": "金额（元）",
    "term_start": "合同起始日", "term_end": "合同终止日", "performance_share_bp": "履约保证比例",
    "sampling_rule": "抽样规则", "kpi_scheme_code": "考核方案", "service_type": "服务类型",
    "annual_target": "年度目标量", "visits_per_month": "每月服务次数", "assignment_id": "任务",
    "due_date": "完成期限", "required_visits": "要求服务次数", "completed_at": "完成时间",
    # uploads and records
    "batch_id": "上传批次", "filename": "文件名", "sha256": "SHA-256", "size_bytes": "文件大小（字节）",
    "stored_path": "存储位置", "uploaded_by_id": "上传人", "uploaded_at": "上传时间",
    "rows_total": "数据行数", "rows_processed": "已检查行数", "rows_accepted": "接收行数",
    "rows_skipped": "跳过的未填写行数", "rows_matched": "匹配行数", "error_count": "错误数",
    "error_report_path": "错误标注文件", "finished_at": "处理完成时间", "entered_by_id": "录入人",
    "worker": "导入进程", "heartbeat_at": "导入进程最近心跳", "attempts": "启动次数",
    "params": "提交的条件", "result": "处理结果",
    "excel_row": "Excel 行号", "duration_minutes": "服务时长（分钟）", "fails": "未达到项数",
    "per_capita_monthly_income_fen": "人均月收入（元）", "anomaly_flags": "异常标记", "flagged": "有异常标记",
    "content_type": "文件类型", "record_id": "服务记录", "previous_id": "上一版本", "supersedes_id": "取代版本",
    # standards and schemes
    "poverty_line_fen": "低保标准（元/人/月）", "care_allowance_tier1_fen": "护理补贴一档（元）",
    "care_allowance_tier2_fen": "护理补贴二档（元）", "care_allowance_tier3_fen": "护理补贴三档（元）",
    "holidays": "节假日", "spot_check_share_bp": "抽查比例", "spot_check_floor": "最少抽查份数",
    "callback_share_bp": "回访比例", "recheck_threshold_bp": "复查阈值", "recheck_min_checks": "定向复查的最少抽查数", "retrain_threshold_bp": "定向复查阈值",
    "definition": "方案内容", "scheme_id": "考核方案",
    # draws and checks
    "draw_id": "抽样", "draw_item_id": "抽中记录", "rule": "抽样规则", "plan": "抽样方案", "strata": "分层",
    "stratum": "层", "seed": "随机种子", "population_sha256": "总体指纹", "risk_weighted": "风险加权",
    "targeted_draw_id": "定向抽样", "spot_check_id": "抽查复检", "checker_id": "复检人", "checked_on": "复检日期",
    "passed": "复检通过", "comparison": "比对结果", "fields_compared": "比对字段", "fields_differing": "不一致字段",
    "evidence_sha256": "证据文件指纹", "assigned_to_id": "指派给", "started_at": "开始时间",
    # appeals, rectification, corrections
    "filed_at": "提出时间", "filed_by_id": "提出人", "decision": "决定", "decision_note": "决定说明",
    "decision_reason": "决定理由", "decided_at": "决定时间", "decided_by_id": "决定人",
    "final_passed": "最终结论通过", "recheck_ordered_at": "复查下达时间", "recheck_ordered_by_id": "复查下达人",
    "recheck_assigned_to_id": "复查人（指派）", "recheck_by_id": "复查人", "recheck_method": "复查方式",
    "recheck_on": "复查日期", "recheck_note": "复查说明", "recheck_passed": "复查通过",
    "recheck_comparison": "复查比对结果", "recheck_fields_compared": "复查比对字段",
    "recheck_fields_differing": "复查不一致字段", "recheck_values": "复查记录内容",
    "notice_id": "整改通知", "requirement": "整改要求", "deadline": "整改期限", "issued_at": "下发时间",
    "issued_by_id": "下发人", "response": "整改回复", "responded_at": "回复时间", "responded_by_id": "回复人",
    "closed_at": "关闭时间", "closed_by_id": "关闭人", "closing_note": "关闭说明", "outcome": "结果",
    "correction_id": "更正申请", "requested_at": "申请时间", "requested_by_id": "申请人",
    "full": "含完整个人信息",
    "approved_at": "批准时间", "approved_by_id": "批准人", "dismiss_reason": "驳回理由",
    "points_centi": "分值", "review_item_id": "考核加减分",
    # callbacks and complaints
    "callback_id": "电话回访", "operator_id": "回访人", "attempted_at": "拨打时间", "answered_by": "接听人",
    "service_confirmed": "确认接受服务", "satisfaction": "满意度", "attitude": "服务态度", "complaint": "投诉内容",
    "recorded_at": "记录时间", "recorded_by_id": "记录人",
    # reviews, evaluations, payments
    "review_id": "季度考核", "figures": "考核数据", "total_centi": "总分", "score_centi": "得分",
    "rating": "等级", "settlement": "结算意见", "locked": "已锁定", "computed_at": "计算时间",
    "computed_by_id": "计算人", "completed_volume": "完成服务量", "comment_deadline": "意见截止时间",
    "commented_at": "意见提出时间", "commented_by_id": "意见提出人", "contractor_comment": "承接机构意见",
    "contractor_position": "承接机构态度", "published_at": "公布时间", "settled_at": "结算时间",
    "settled_by_id": "结算人", "created_by_id": "创建人", "evidence_fingerprint": "数据指纹",
    "escalated_at": "上报时间", "escalation_handled_at": "上报处理时间", "escalation_handled_by_id": "上报处理人",
    "escalation_note": "上报说明", "revision_reason": "重新计算原因", "linked_fen": "挂钩金额（元）",
    "payable_fen": "应付金额（元）", "withheld_fen": "扣减金额（元）", "paid_on": "付款日期",
    # verification
    "import_id": "核对数据导入", "flags_known": "已知疑点数", "flags_raised": "新增疑点数",
    # jobs, notifications and the audit log itself
    "job_name": "定时任务", "period_key": "周期", "trigger": "触发方式", "process": "进程",
    "task_name": "后台任务", "task_id": "后台任务编号", "arguments": "任务参数", "failed_at": "失败时间",
    "dedup_key": "去重键", "read_at": "已读时间", "emailed_at": "邮件发送时间",
    "email_status": "邮件状态", "email_attempts": "邮件发送次数", "email_error": "邮件未发送原因",
    "email_to": "邮件收件地址", "email_claimed_at": "邮件开始发送时间",
    "action": "动作", "actor": "操作人", "object_type": "对象类型", "object_id": "对象编号", "changes": "变更",
    "occurred_at": "时间", "ip_address": "地址", "prev_hash": "前一哈希", "hash": "哈希", "key_id": "密钥编号",
    # summaries written by record_event
    "batch": "上传批次", "contract": "合同", "rows": "行数", "skipped_rows": "跳过的未填写行数",
    "flagged_rows": "有异常标记的行数", "completed_assignments": "完成的任务数", "assignment": "任务编号",
    "assignments": "任务数", "fields": "字段", "files": "文件数", "flags": "疑点数", "matched": "匹配行数",
    "already_flagged": "已有疑点数", "releases": "发布条目数", "personal_data": "含个人信息",
    "bundle_sha256": "审计包指纹", "zip_sha256": "压缩包指纹", "events": "事件数", "last_id": "至事件",
    "signature": "签名", "anchor_signature": "锚点签名", "old_key_id": "原密钥", "new_key_id": "新密钥",
    "legacy_events": "旧式事件数", "legacy_head": "旧式链头", "format": "格式", "filters": "筛选条件",
    "backup": "备份文件", "backup_sha256": "备份文件指纹", "replaced_events": "被替换的事件数",
    "replaced_last_id": "被替换的最后事件", "replaced_last_hash": "被替换的链头哈希",
    # procurement projects, bids and their evaluation
    "budget_line": "预算项目", "budget_fen": "预算金额（元）", "price_points_centi": "价格分值",
    "announced_on": "公告日期", "bid_opening_on": "开标日期", "awarded_on": "定标日期",
    "tie_decision": "评标委员会抽签结果", "tie_note": "抽签说明", "cancel_reason": "终止理由", "evaluation": "评审结果",
    "evaluated_at": "评审时间", "evaluated_by_id": "评审记录人", "project_id": "采购项目",
    "price_fen": "投标报价（元）", "valid": "有效投标", "invalid_reason": "无效投标理由", "awarded": "中标",
    "max_points_centi": "分值", "technical": "技术评分项", "past_performance": "按履约档案评分", "evaluator_id": "评委", "bid_id": "投标",
    "item_id": "评分项",
    # the demo seeds' summaries
    "scale": "规模", "today": "演示日期", "deleted": "清除的数据", "household": "家庭数", "person": "个人数",
    "by_status": "按状态",
    # payment schedule and 履约验收 (issue 15)
    "share_bp": "比例", "condition": "支付条件", "due_on": "约定日期", "held_reason": "暂扣原因",
    "held_at": "暂扣时间", "held_by_id": "暂扣人", "paid_fen": "支付金额（元）", "payment_id": "付款记录",
    "paid_by_id": "付款登记人", "conclusion": "验收结论", "opinion": "验收意见", "accepted_on": "验收日期",
    "concluded_at": "出具结论时间", "concluded_by_id": "出具结论人", "acceptance_id": "履约验收",
    "organisation": "单位", "installment": "付款分期",
    # the field app and the API (issue 12)
    "field_worker_id": "对应服务人员", "token_sha256": "令牌摘要", "prefix": "令牌开头", "last_used_at": "最近使用时间",
    "revoked_at": "撤销时间", "idempotency_key": "幂等键", "request_sha256": "请求内容指纹",
    "check_in_at": "签到时间", "check_out_at": "签退时间", "device_sent_at": "设备发送时间",
    "received_at": "服务器接收时间", "accuracy_m": "定位精度（米）", "no_signature_reason": "未签名原因",
    "media": "照片与签名", "media_id": "照片或签名", "visit_id": "移动端服务记录",
    "perceptual_hash": "感知哈希",
    # media audit (issue 12)
    "visit_media_id": "照片或签名", "verdict": "核验结论", "reviewer_id": "核验人", "reviewed_at": "核验时间",
    # areas (issue 14)
    "level": "层级", "parent_id": "上级区划", "county_id": "所属县（区）", "area_id": "管辖区域",
    "added": "新增", "renamed": "更名", "counties": "县（区）",
    "chains": "审计链", "root_hash": "根哈希",
    # township outlines (issue 12)
    "boundary": "边界", "outlined": "导入边界",
    # local standards (issue 14)
    "poverty_line_rural_fen": "农村低保标准（元/人/月）", "working_days": "调休上班日",
    "effective_from": "生效日期", "standard_id": "地方标准", "persons": "人数", "total_fen": "合计金额（元）",
    # re-assessment on a change of condition (issue 14)
    "reported_on": "报告日期", "reporter_kind": "报告人类别", "reporter_name": "报告人", "description": "变化情况",
    "stated_by_id": "确定人",
}

# Where a key means something more particular on one kind of object.
OBJECT_FIELD_LABELS: dict[tuple[str, str], str] = {
    ("Assignment", "number"): "任务编号",
    ("RectificationNotice", "number"): "通知书编号",
    ("Contract", "code"): "合同编号",
    ("KpiScheme", "code"): "方案代码",
    ("Area", "code"): "区划代码",
    ("Contract", "title"): "合同名称",
    ("FieldWorker", "name"): "姓名",
    ("Subject", "name"): "姓名",
    ("Subject", "kind"): "对象类型",
    ("Subject", "category"): "救助类别",
    ("PaymentRecord", "kind"): "付款类型",
    ("EvidenceFlag", "kind"): "疑点类型",
    ("VerificationImport", "kind"): "核对文件类型",
    ("CompletionRecordVersion", "values"): "更正前的记录",
    ("SpotCheck", "values"): "复检记录内容",
    ("SpotCheck", "method"): "复检方式",
    ("SpotCheck", "note"): "复检说明",
    ("Complaint", "text"): "投诉内容",
    ("CallbackAttempt", "outcome"): "拨打结果",
    ("JobRun", "outcome"): "运行结果",
    ("UploadBatch", "outcome"): "中断后的处理",
    ("ExportJob", "outcome"): "中断后的处理",
    ("ExportJob", "worker"): "后台任务进程",
    ("ExportJob", "heartbeat_at"): "后台任务进程最近心跳",
    ("RectificationNotice", "outcome"): "整改结果",
    ("AuditLog", "reason"): "锚定原因",
    ("LocalStandard", "poverty_line_fen"): "城市低保标准（元/人/月）",
    ("LocalStandardVersion", "poverty_line_fen"): "城市低保标准（元/人/月）",
    ("LocalStandardVersion", "number"): "版本号",
    ("LocalStandardVersion", "reason"): "变更原因",
    ("LocalStandard", "holidays"): "法定节假日",
    ("LocalStandardVersion", "holidays"): "法定节假日",
    ("Notification", "kind"): "通知类别",
    ("NotificationPreference", "kind"): "通知类别",
    ("NotificationPreference", "email"): "发送邮件",
    ("ProcurementProject", "code"): "项目编号",
    ("ProcurementProject", "title"): "项目名称",
    ("ProcurementProject", "term_start"): "服务期起始日",
    ("ProcurementProject", "term_end"): "服务期终止日",
    ("TenderScore", "points_centi"): "评分",
    ("TenderEvaluator", "name"): "姓名",
    ("Installment", "kind"): "分期类型",
    ("Installment", "amount_fen"): "约定金额（元）",
    ("ContractAcceptance", "figures"): "验收数据",
    ("ContractAcceptance", "status"): "验收状态",
    ("AcceptanceMember", "name"): "姓名",
    ("AcceptanceMember", "role"): "验收小组角色",
    ("ApiToken", "name"): "设备名称",
    ("Assignment", "worker_id"): "指派的服务人员",
    ("Assignment", "reason"): "任务类型",
    ("TierEffectiveDate", "record_id"): "评估记录",
    ("TierEffectiveDate", "reason"): "说明",
}


def field_label(object_type: str, key: str) -> str:
    """The Chinese name of a field of an event about `object_type`; an unknown key reads as itself."""
    return OBJECT_FIELD_LABELS.get((object_type, key)) or FIELD_LABELS.get(key, key)
