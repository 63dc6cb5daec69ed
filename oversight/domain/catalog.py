"""Fixed vocabularies of the domain (SPEC sections 1–2) with their Chinese labels."""
from __future__ import annotations

ROLES = {
    "admin": "系统管理员",
    "supervisor": "监管人员",
    "contractor": "承接机构人员",
    "auditor": "审计人员",
}

SERVICE_TYPES = {
    "household_survey": "家计调查",
    "self_care_assessment": "自理能力评估",
    "care_visit": "照料护理",
}

# A household is surveyed; a person is assessed and cared for.
SUBJECT_KIND_FOR_SERVICE = {
    "household_survey": "household",
    "self_care_assessment": "person",
    "care_visit": "person",
}

SUBJECT_KINDS = {"household": "家庭", "person": "个人"}

SUBJECT_CATEGORIES = ("低保", "特困", "低保边缘", "支出型困难")

PROCUREMENT_METHODS = ("公开招标", "竞争性磋商", "竞争性谈判", "单一来源", "询价")

ASSIGNMENT_STATUSES = {
    "assigned": "已派发",
    "completed": "已完成",
    "overdue": "已逾期",
    "cancelled": "已取消",
}

SAMPLING_RULE_KINDS = {
    "share": "比例抽样（含下限）",
    "iso2859": "GB/T 2828.1 一次抽样",
    "hypergeometric": "孤立批超几何抽样",
}
