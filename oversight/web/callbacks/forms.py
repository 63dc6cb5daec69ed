from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..forms_common import Form
from ...domain.vocabulary import CallAnswerer, CallOutcome
from ...services.callbacks import ATTITUDES, SATISFACTION_LEVELS
from ..params import ID_MAX


class AttemptForm(Form):
    outcome = SelectField("拨打结果", choices=CallOutcome.choices())


PLEASE_CHOOSE = ("", "请选择")


class AnswerForm(Form):
    """Nothing is chosen in advance: the operator records what the recipient said."""

    answered_by = SelectField("接听人", choices=[PLEASE_CHOOSE, *CallAnswerer.choices()],
                              validators=[InputRequired(message="请选择接听人（本人、家属或其他）")])
    confirmed = SelectField("是否接受过该次服务（服务真实性）",
                            choices=[PLEASE_CHOOSE, ("1", "是，确认接受过服务"), ("0", "否，没有接受过服务")],
                            validators=[InputRequired(message="请选择服务对象是否确认接受过该次服务")])
    satisfaction = SelectField("满意度", choices=[PLEASE_CHOOSE, *((str(level), f"{label}（{level}）")
                                                               for level, label in SATISFACTION_LEVELS.items())],
                               validators=[InputRequired(message="请选择服务对象所说的满意度")])
    attitude = SelectField("服务人员态度", choices=[("", "未评价")] + [(a, a) for a in ATTITUDES])
    complaint = TextAreaField("投诉或意见", validators=[Optional(), Length(max=2000)],
                              description="填写投诉内容将生成投诉事项，被投诉人员的近期记录纳入下次抽查的定向分层")


class ComplaintForm(Form):
    contract_id = SelectField("合同", coerce=int)
    record_id = IntegerField("服务记录编号", validators=[Optional(), NumberRange(min=1, max=ID_MAX, message="没有这个服务记录编号，请核对后重填")], description="针对某条服务记录时填写")
    worker_no = StringField("服务人员工号", validators=[Optional(), Length(max=32)], description="针对某名服务人员时填写")
    text = TextAreaField("投诉内容", validators=[InputRequired(message="请填写投诉内容"), Length(max=2000)])
