import json

from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..forms_common import Form
from ...domain.vocabulary import ServiceType
from ...models import Contract
from ..validators import IdNumber


class AssignmentForm(Form):
    contract_id = SelectField("合同", coerce=int)
    # Only the chosen contract's services are valid: `validate_service_type` says so in words.
    service_type = SelectField("服务", validate_choice=False,
                               render_kw={"data-labels": json.dumps(ServiceType.labels(), ensure_ascii=False)})
    subject_id_number = StringField("服务对象身份证号", validators=[InputRequired(message="请填写身份证号"), IdNumber()])
    due_date = DateField("截止日期", validators=[InputRequired(message="请填写截止日期")])
    number = StringField("任务编号", validators=[Optional(), Length(max=32)], description="留空则自动编号")
    note = StringField("备注", validators=[Optional(), Length(max=500)])

    def offer(self, contracts: list[Contract], chosen_id: int | None = None) -> None:
        """Contracts the user may issue to and, for the chosen one, only its own services
        (`service_choices.js` narrows the list as another contract is picked)."""
        self.contract_id.choices = [(c.id, f"{c.code} {c.title}", {"data-services": " ".join(c.service_types)})
                                    for c in contracts]
        self.services_of = {c.id: c.service_types for c in contracts}
        if not self.is_submitted() and chosen_id in self.services_of:
            self.contract_id.data = chosen_id
        chosen = self.contract_id.data if self.contract_id.data in self.services_of else (
            contracts[0].id if contracts else None)
        offered = set(self.services_of.get(chosen, ()))
        self.service_type.choices = [(code, label) for code, label in ServiceType.choices() if code in offered]

    def validate_service_type(self, field) -> None:
        if field.data not in self.services_of.get(self.contract_id.data, ()):
            raise ValidationError("该合同不包含所选服务")


class WorkerForm(Form):
    """指派服务人员: one of the contractor's active field workers, or none."""

    worker_id = SelectField("指派服务人员", coerce=int, validate_choice=True)

    def offer(self, choices: list[tuple[int, str]], current: int | None) -> None:
        self.worker_id.choices = [(0, "（不指派）"), *choices]
        if not self.is_submitted():
            self.worker_id.data = current or 0
