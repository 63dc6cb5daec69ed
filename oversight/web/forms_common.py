"""Forms more than one blueprint shows."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length


class CorrectForm(FlaskForm):
    """A correction of a locked review or evaluation: a new revision, with its reason."""

    reason = TextAreaField("更正原因", validators=[InputRequired(message="请写明更正原因"), Length(max=2000)])
