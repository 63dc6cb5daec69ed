from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..forms_common import Form
from ...domain.vocabulary import AppealDecision
from ..attachments_common import attachments_field
from ..recheck_forms import RECHECK_FORMS


class AppealForm(Form):
    reason = TextAreaField("申诉理由", validators=[InputRequired(message="请写明申诉理由"), Length(max=4000)],
                           description="说明复检结论哪里有误，可提供的证明材料")
    attachments = attachments_field("证明材料（照片、扫描件或 PDF）")


class EvidenceForm(Form):
    attachments = attachments_field("补充材料（照片、扫描件或 PDF）")


class OrderRecheckForm(Form):
    assignee_id = SelectField("复核人员", coerce=int, description="原复检人不能复核")


class DecideForm(Form):
    decision = RadioField("裁决", choices=AppealDecision.choices(),
                          validators=[InputRequired(message="请选择维持或改判")])
    reason = TextAreaField("裁决理由", validators=[InputRequired(message="请写明裁决理由"), Length(max=4000)])


# The second re-check asks the same blind questions as the first; its photos go on the appeal
# (the evidence form), not on the original check.
APPEAL_RECHECK_FORMS = {service_type: type(f"Appeal{form.__name__}", (form,), {"attachments": None})
                        for service_type, form in RECHECK_FORMS.items()}
