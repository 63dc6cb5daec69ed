from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms_common import Form
from ...domain.vocabulary import ProcurementMethod, SamplingRuleKind
from ..validators import YuanField

# Far above any county's year, and within every database's integers.
_MAX_COUNT = 1_000_000
_COUNT = NumberRange(min=0, max=_MAX_COUNT, message=f"请填写0到{_MAX_COUNT}之间的整数")


class ContractForm(Form):
    code = StringField("合同编号", validators=[DataRequired(message="请填写合同编号"), Length(max=64)])
    title = StringField("合同名称", validators=[DataRequired(message="请填写合同名称"), Length(max=200)])
    contractor_id = SelectField("承接机构", coerce=int)
    procurement_method = SelectField("采购方式", choices=ProcurementMethod.choices())
    amount_fen = YuanField("合同金额（元）", validators=[InputRequired(message="请填写合同金额")])
    term_start = DateField("服务期起", validators=[InputRequired(message="请填写起始日期")])
    term_end = DateField("服务期止", validators=[InputRequired(message="请填写终止日期")])
    performance_share = DecimalField("绩效挂钩比例（%）", places=2, default=30,
                                     validators=[InputRequired(), NumberRange(min=0, max=100)])
    sampling_kind = SelectField("抽查规则", choices=SamplingRuleKind.choices())
    sampling_share = DecimalField("抽查比例（%）", places=2, default=5, validators=[Optional(), NumberRange(min=0.1, max=100)],
                                  description="比例抽样时使用")
    sampling_floor = IntegerField("最少抽查数", default=5, validators=[Optional(), NumberRange(min=1, max=_MAX_COUNT, message=f"请填写1到{_MAX_COUNT}之间的整数")])
    sampling_aql = StringField("AQL", default="2.5", description="GB/T 2828.1 抽样时使用，如 2.5")
    household_survey_target = IntegerField("家计调查 年度目标（户）", default=0, validators=[Optional(), _COUNT])
    self_care_assessment_target = IntegerField("自理能力评估 年度目标（人）", default=0, validators=[Optional(), _COUNT])
    care_visit_target = IntegerField("照料护理 年度目标（人）", default=0, validators=[Optional(), _COUNT])
    care_visits_per_month = IntegerField("照料护理 每人每月上门次数", default=2, validators=[Optional(), NumberRange(min=1, max=31)])
