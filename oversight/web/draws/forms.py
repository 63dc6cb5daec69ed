from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..forms_common import Form
from ...domain.periods import InvalidQuarter, Quarter
from ...domain.vocabulary import DrawPurpose, MediaVerdict, ServiceType
from ...services.draws import SEED_MAX_LENGTH
from ...services.media_audit import REASON_MAX_LENGTH


class DrawForm(Form):
    purpose = SelectField("用途", choices=DrawPurpose.choices())
    quarter = StringField("季度", validators=[InputRequired(message="请填写季度")], description="如 2025Q3；只能抽取已结束的季度")
    contract_id = SelectField("合同", coerce=int, description="不选则抽取服务期与该季度重叠的全部合同")
    service_type = SelectField("服务", choices=[("", "全部服务")] + ServiceType.choices())
    risk_weighted = BooleanField("风险加权（异常标记记录单独分层、提高抽取比例）")
    seed = StringField("随机种子", validators=[Optional(), Length(max=SEED_MAX_LENGTH)],
                       description="留空则自动生成随机种子；种子与总体哈希都会记录并写入审计日志")

    def validate_quarter(self, field):
        try:
            field.data = str(Quarter.parse(field.data))
        except InvalidQuarter as error:
            raise ValidationError(str(error)) from None


class AssignForm(Form):
    assignee_id = SelectField("分派给", coerce=int)


class MediaReviewForm(Form):
    verdict = RadioField("核验结论", choices=MediaVerdict.choices(), validators=[InputRequired(message="请选择核验结论")])
    reason = StringField("理由", validators=[Optional(), Length(max=REASON_MAX_LENGTH)], description="存疑时必填")
