"""接口令牌: the signed-in user's device tokens for the REST API — made (shown once), listed, revoked."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ...extensions import db
from ...policy import Action
from ...services.field_app import FieldAppRefused, create_token, revoke_token, user_tokens
from ..access import permission_required
from ..forms_common import Form

bp = Blueprint("devices", __name__, url_prefix="/account/tokens")


class TokenForm(Form):
    name = StringField("设备名称", validators=[DataRequired(message="请填写设备名称"), Length(max=64)],
                       description="如：张敏的手机")


@bp.route("/", methods=["GET", "POST"])
@permission_required(Action.MANAGE_API_TOKENS)
def index():
    form = TokenForm()
    shown = None
    if form.validate_on_submit():
        try:
            token, shown = create_token(current_user, form.name.data)
        except FieldAppRefused as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            form.name.data = ""
            # Shown on this answer only (not redirected: the token is never stored to show again).
            return render_template("devices/index.html", form=TokenForm(formdata=None), shown=shown,
                                   shown_name=token.name, tokens=user_tokens(current_user))
    return render_template("devices/index.html", form=form, shown=None, tokens=user_tokens(current_user))


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@permission_required(Action.MANAGE_API_TOKENS)
def revoke(token_id: int):
    token = revoke_token(current_user, token_id)
    if token is None:
        abort(404)
    db.session.commit()
    flash(f"已撤销令牌「{token.name}」，使用它的设备需重新配置", "success")
    return redirect(url_for(".index"))
