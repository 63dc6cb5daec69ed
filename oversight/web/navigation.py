"""The top navigation: one entry per workflow, shown to the roles that may use it."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: tuple[str, ...]


ALL_ROLES = ("admin", "supervisor", "contractor", "auditor")

NAV_ITEMS: list[NavItem] = [
    NavItem("首页", "dashboard.index", ALL_ROLES),
    NavItem("合同", "contracts.index", ALL_ROLES),
    NavItem("任务", "assignments.index", ALL_ROLES),
    NavItem("上传记录", "uploads.index", ALL_ROLES),
    NavItem("服务记录", "records.index", ALL_ROLES),
    NavItem("更正申请", "corrections.index", ALL_ROLES),
    NavItem("服务对象", "subjects.index", ("admin", "supervisor", "auditor")),
    NavItem("承接机构", "contractors.index", ALL_ROLES),
    NavItem("批量导入", "imports.index", ("admin", "supervisor")),
    NavItem("抽样", "draws.index", ("admin", "supervisor", "auditor")),
    NavItem("抽查复检", "spot_checks.index", ("admin", "supervisor", "auditor")),
    NavItem("整改通知", "spot_checks.notices", ALL_ROLES),
    NavItem("电话回访", "callbacks.index", ("admin", "supervisor", "auditor")),
    NavItem("核查结果", "check_results.index", ("admin", "supervisor", "auditor")),
    NavItem("季度考核", "reviews.index", ALL_ROLES),
    NavItem("年度评价", "evaluations.index", ALL_ROLES),
    NavItem("考核方案", "schemes.index", ("admin", "supervisor", "auditor")),
    NavItem("导出", "exports.index", ALL_ROLES),
    NavItem("审计日志", "audit_log.index", ("admin", "auditor")),
    NavItem("用户", "users.index", ("admin",)),
    NavItem("定时任务", "operations.jobs", ("admin",)),
    NavItem("通知", "operations.notifications", ALL_ROLES),
]


def nav_for(user) -> list[dict]:
    """The entries the user's role may see, with their URLs."""
    return [
        {"label": item.label, "url": url_for(item.endpoint)}
        for item in NAV_ITEMS
        if user.role in item.roles
    ]
