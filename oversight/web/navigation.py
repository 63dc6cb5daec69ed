"""The top navigation: one entry per workflow, shown to the users the policy lets use it."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from ..policy import Action, may


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    action: Action | None = None  # None: every signed-in user


NAV_ITEMS: list[NavItem] = [
    NavItem("首页", "dashboard.index"),
    NavItem("合同", "contracts.index"),
    NavItem("任务", "assignments.index"),
    NavItem("上传记录", "uploads.index"),
    NavItem("服务记录", "records.index"),
    NavItem("更正申请", "corrections.index"),
    NavItem("服务对象", "subjects.index", Action.READ_OVERSIGHT),
    NavItem("承接机构", "contractors.index"),
    NavItem("批量导入", "imports.index", Action.IMPORT_REGISTERS),
    NavItem("抽样", "draws.index", Action.READ_OVERSIGHT),
    NavItem("抽查复检", "spot_checks.index", Action.READ_OVERSIGHT),
    NavItem("整改通知", "spot_checks.notices"),
    NavItem("抽查申诉", "appeals.index"),
    NavItem("电话回访", "callbacks.index", Action.READ_OVERSIGHT),
    NavItem("核查结果", "check_results.index", Action.READ_OVERSIGHT),
    NavItem("核对比对", "verification.index", Action.READ_OVERSIGHT),
    NavItem("季度考核", "reviews.index"),
    NavItem("年度评价", "evaluations.index"),
    NavItem("考核方案", "schemes.index", Action.READ_OVERSIGHT),
    NavItem("导出", "exports.index"),
    NavItem("审计日志", "audit_log.index", Action.READ_AUDIT_LOG),
    NavItem("用户", "users.index", Action.MANAGE_USERS),
    NavItem("定时任务", "operations.jobs", Action.RUN_JOBS),
]


def nav_for(user) -> list[dict]:
    """The entries the user may use, with their URLs."""
    return [
        {"label": item.label, "url": url_for(item.endpoint)}
        for item in NAV_ITEMS
        if item.action is None or may(user, item.action)
    ]
