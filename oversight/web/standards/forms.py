from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from ...domain.local_standards import DATES, MAX_REASON, TERMS
from ..forms_common import Form


class VersionForm(Form):
    """A new version of a year's standards: amounts in 元, shares in %, dates one per line.

    The fields are text: `domain.local_standards.parse_draft` reads and checks them, so that the
    page and the sheet import refuse the same things with the same words."""

    effective_from = StringField("生效日期", validators=[InputRequired(message="请填写生效日期")],
                                 description="本版本开始执行的日期，须在该年度内，如 2026-07-01")
    reason = TextAreaField("变更原因", validators=[InputRequired(message="请写明本次制定或调整的原因"),
                                                 Length(max=MAX_REASON, message=f"不能超过 {MAX_REASON} 字")],
                           description="制定或调整的依据，如文件文号")


for _term in TERMS:
    _field = TextAreaField if _term.kind == DATES else StringField
    _hint = "每行一个日期，连续日期可写作 2026-02-15~2026-02-23" if _term.kind == DATES else ""
    setattr(VersionForm, _term.key, _field(_term.label, description=_hint))
del _term, _field, _hint
