from flask import Blueprint, abort
from flask_login import current_user, login_required

from ...domain.attachments import EXTENSIONS, KINDS, accepted_names, megabytes
from ...services.attachments import attachments_of, limits, visible_attachment
from ..attachments_common import send_attachment

bp = Blueprint("attachments", __name__, url_prefix="/attachments")


@bp.app_template_global("attachments_of")
def _attachments_of(owner) -> list:
    """The owner's attachments, for a page that has checked who may see the owner."""
    return attachments_of(owner)


@bp.app_template_global()
def attachment_accept() -> str:
    """The file input's `accept`: the extensions and content types taken."""
    return ",".join([f".{extension}" for extension in EXTENSIONS] + [kind.content_type for kind in KINDS])


@bp.app_template_global()
def attachment_hint() -> str:
    found = limits()
    return (f"可选，照片、扫描件或 PDF（{accepted_names()}），每个不超过 {megabytes(found.max_bytes)}，"
            f"每项最多 {found.max_files} 个")


@bp.route("/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    """The file, for whoever may see the row it belongs to (404 for anyone else)."""
    found = visible_attachment(attachment_id, current_user)
    if found is None:
        abort(404)
    return send_attachment(found)
