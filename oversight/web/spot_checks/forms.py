from wtforms import DateField, MultipleFileField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..forms_common import Form
from ...domain.vocabulary import NoticeOutcome
from ..attachments_common import attachments_field


class AttachmentForm(Form):
    attachments = MultipleFileField("补充照片或扫描件", validators=[InputRequired(message="请选择文件")])


class NoticeForm(Form):
    deadline = DateField("整改期限", validators=[InputRequired(message="请填写整改期限")])
    requirement = TextAreaField("整改要求", validators=[InputRequired(message="请填写整改要求"), Length(max=2000)])


class ResponseForm(Form):
    response = TextAreaField("整改情况", validators=[InputRequired(message="请填写整改情况"), Length(max=4000)])
    attachments = attachments_field("整改佐证材料（照片、扫描件或 PDF）")


class CloseForm(Form):
    outcome = SelectField("整改结论", choices=[(code, NoticeOutcome(code).label)
                                            for code in (NoticeOutcome.ACCEPTED, NoticeOutcome.NOT_ACCEPTED)])
    closing_note = TextAreaField("说明", validators=[Optional(), Length(max=2000)])
    reissue_deadline = DateField("重新整改期限", validators=[Optional()],
                                 description="不予认可时重新下发整改通知的期限；留空按默认天数；最后一轮不予认可则提请管理员处理")


class EscalationForm(Form):
    escalation_note = TextAreaField("处理意见", validators=[InputRequired(message="请写明处理意见"), Length(max=2000)])
