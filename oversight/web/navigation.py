"""The top navigation: the home link and four groups of workflows (业务 / 考核 / 导出 / 系统), each
entry shown to the users the policy lets use it. A group left with one entry is shown as that entry."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for

from ..policy import Action, is_field_worker, may


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    action: Action | None = None  # None: every signed-in user
    anchor: str | None = None  # a section of the endpoint's page


@dataclass(frozen=True)
class NavGroup:
    label: str
    items: tuple[NavItem, ...]


HOME = NavItem("首页", "dashboard.index")
# A field worker's whole navigation: the visits given to it, its devices, its inbox.
FIELD_NAV = (NavItem("我的任务", "field.index"), NavItem("接口令牌", "devices.index"),
             NavItem("通知", "notifications.index"))

NAV_GROUPS: tuple[NavGroup, ...] = (
    NavGroup("业务", (
        NavItem("合同", "contracts.index"),
        NavItem("采购项目", "procurement.index", Action.READ_PROCUREMENT),
        NavItem("任务", "assignments.index"),
        NavItem("上传记录", "uploads.index"),
        NavItem("服务记录", "records.index"),
        NavItem("更正申请", "corrections.index"),
        NavItem("服务对象", "subjects.index", Action.READ_OVERSIGHT),
        NavItem("情况变化报告", "reassessment.index"),
        NavItem("承接机构", "contractors.index"),
        NavItem("批量导入", "imports.index", Action.IMPORT_REGISTERS),
    )),
    NavGroup("考核", (
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
        NavItem("履约验收", "acceptance.index"),
        NavItem("付款计划", "payments.index"),
    )),
    NavGroup("导出", (
        NavItem("季度考核表", "exports.index", anchor="review-sheets"),
        NavItem("年度评价报告", "exports.index", anchor="evaluation-reports"),
        NavItem("年度审计包与公开数据", "exports.index", Action.EXPORT_AUDIT_DATA, anchor="year-exports"),
        NavItem("特困人员护理补贴表", "exports.index", Action.EXPORT_CARE_ALLOWANCES, anchor="care-allowances"),
    )),
    NavGroup("系统", (
        NavItem("通知", "notifications.index"),
        NavItem("接口令牌", "devices.index", Action.MANAGE_API_TOKENS),
        NavItem("审计日志", "audit_log.index", Action.READ_AUDIT_LOG),
        NavItem("用户", "users.index", Action.MANAGE_USERS),
        NavItem("地方标准", "standards.index", Action.READ_STANDARDS),
        NavItem("行政区划", "areas.index", Action.MANAGE_AREAS),
        NavItem("定时任务", "operations.jobs", Action.RUN_JOBS),
    )),
)


def _blueprint(endpoint: str | None) -> str | None:
    return endpoint.split(".", 1)[0] if endpoint else None


def _entry(item: NavItem) -> dict:
    return {"label": item.label, "url": url_for(item.endpoint, _anchor=item.anchor),
            "current": item.anchor is None and request.endpoint == item.endpoint}


def nav_for(user) -> list[dict]:
    """The entries the user may use, with their URLs: links ({label, url, current}) and groups
    ({label, links, current}); a group is current when the page is one of its workflows."""
    if is_field_worker(user):
        return [_entry(item) for item in FIELD_NAV]
    entries: list[dict] = [_entry(HOME)]
    here = _blueprint(request.endpoint)
    for group in NAV_GROUPS:
        allowed = [item for item in group.items if item.action is None or may(user, item.action)]
        if len(allowed) == 1:
            entries.append(_entry(allowed[0]))
        elif allowed:
            entries.append({"label": group.label, "links": [_entry(item) for item in allowed],
                            "current": any(_blueprint(item.endpoint) == here for item in allowed)})
    return entries


def section_for(user, blueprint: str | None) -> dict | None:
    """The list page of the workflow `blueprint` ({label, url}) if the user may use it, for the
    error pages' "back to the list" link."""
    for item in (item for group in NAV_GROUPS for item in group.items):
        if (item.anchor is None and _blueprint(item.endpoint) == blueprint
                and (item.action is None or may(user, item.action))):
            return {"label": item.label, "url": url_for(item.endpoint)}
    return None
