from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..forms_common import Form
from ..attachments_common import attachments_field


class CorrectionForm(Form):
    """The reason and evidence; the record's correctable fields are added per service type."""

    reason = TextAreaField("更正原因", validators=[InputRequired(message="请写明更正原因"), Length(max=2000)],
                           description="说明哪里记错了、正确的值依据什么")
    attachments = attachments_field("佐证材料（照片、扫描件或 PDF）")


class ApproveForm(Form):
    note = TextAreaField("审核意见", validators=[Optional(), Length(max=2000)], description="可不填")


class RefuseForm(Form):
    note = TextAreaField("驳回理由", validators=[InputRequired(message="请写明驳回理由"), Length(max=2000)])
