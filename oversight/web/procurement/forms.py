from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms_common import Form
from ...clock import county_today
from ...domain.vocabulary import ProcurementMethod
from ..attachments_common import attachments_field
from ..validators import CreditCode, Mobile, YuanField

_MAX_COUNT = 1_000_000
_COUNT = NumberRange(min=0, max=_MAX_COUNT, message=f"请填写0到{_MAX_COUNT}之间的整数")


class ProjectForm(Form):
    code = StringField("项目编号", validators=[DataRequired(message="请填写项目编号"), Length(max=64)])
    title = StringField("项目名称", validators=[DataRequired(message="请填写项目名称"), Length(max=200)])
    budget_line = StringField("预算项目", validators=[DataRequired(message="请填写预算项目"), Length(max=200)],
                              description="如：社会救助服务购买（2025年部门预算）")
    budget_fen = YuanField("预算金额（元）", validators=[InputRequired(message="请填写预算金额")])
    procurement_method = SelectField("采购方式", choices=ProcurementMethod.choices())
    price_points = DecimalField("价格分值", places=2, default=30,
                                validators=[InputRequired(message="请填写价格分值"), NumberRange(min=0, max=100)],
                                description="综合评分法中价格所占分值；服务项目一般为 10 至 30 分")
    term_start = DateField("合同服务期起", validators=[InputRequired(message="请填写起始日期")])
    term_end = DateField("合同服务期止", validators=[InputRequired(message="请填写终止日期")])
    performance_share = DecimalField("绩效挂钩比例（%）", places=2, default=30,
                                     validators=[InputRequired(), NumberRange(min=0, max=100)])
    household_survey_target = IntegerField("家计调查 年度目标（户）", default=0, validators=[Optional(), _COUNT])
    self_care_assessment_target = IntegerField("自理能力评估 年度目标（人）", default=0, validators=[Optional(), _COUNT])
    care_visit_target = IntegerField("照料护理 年度目标（人）", default=0, validators=[Optional(), _COUNT])
    care_visits_per_month = IntegerField("照料护理 每人每月上门次数", default=2,
                                         validators=[Optional(), NumberRange(min=1, max=31)])


class DayForm(Form):
    """A dated step: the announcement, the bid opening."""

    day = DateField("日期", validators=[InputRequired(message="请填写日期")])


class ItemForm(Form):
    name = StringField("评分项", validators=[DataRequired(message="请填写评分项名称"), Length(max=100)])
    max_points = DecimalField("分值", places=2, validators=[InputRequired(message="请填写分值"),
                                                           NumberRange(min=0.01, max=100, message="分值应在 0.01 至 100 之间")])
    technical = BooleanField("技术评分项（不勾选为商务评分项）", default=True)
    past_performance = BooleanField("按履约档案评分（评分表预填各投标人的历史履约得分）")


class EvaluatorForm(Form):
    name = StringField("评委姓名", validators=[DataRequired(message="请填写评委姓名"), Length(max=64)])


class BidForm(Form):
    contractor_id = SelectField("投标人（已登记的机构）", coerce=int)
    name = StringField("或新机构名称", validators=[Optional(), Length(max=128)],
                       description="投标人尚未登记时填写以下四项，保存时登记为承接机构")
    credit_code = StringField("新机构统一社会信用代码", validators=[Optional(), CreditCode()])
    contact_person = StringField("新机构联系人", validators=[Optional(), Length(max=64)])
    contact_phone = StringField("新机构联系电话", validators=[Optional(), Mobile()])
    price_fen = YuanField("投标报价（元）", validators=[InputRequired(message="请填写投标报价")])
    invalid = BooleanField("资格或符合性审查未通过（无效投标）")
    invalid_reason = StringField("无效理由", validators=[Optional(), Length(max=500)])


class SheetForm(Form):
    """One member's score sheet: its cells are named s-<bid id>-<item id> (read by the route)."""


class TieForm(Form):
    order = StringField("抽签结果（中签顺序）", validators=[DataRequired(message="请填写中签顺序")],
                        description="按中签顺序填写并列投标人的序号，用逗号分隔，如：2,1")
    note = TextAreaField("抽签经过", validators=[DataRequired(message="请写明抽签（或表决）的经过"), Length(max=2000)])


class CancelForm(Form):
    reason = TextAreaField("终止理由", validators=[DataRequired(message="请写明终止理由"), Length(max=2000)])


class DocumentsForm(Form):
    attachments = attachments_field("采购文件（招标文件、投标文件、评审报告等，PDF 或扫描件）")


class AwardForm(Form):
    contract_code = StringField("合同编号", validators=[DataRequired(message="请填写合同编号"), Length(max=64)])
    contract_title = StringField("合同名称", validators=[DataRequired(message="请填写合同名称"), Length(max=200)])
    day = DateField("定标日期", default=county_today, validators=[InputRequired(message="请填写定标日期")])
