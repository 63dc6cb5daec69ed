"""What a workflow's pages use to take and serve attachments (see services.attachments).

A form adds `attachments = attachments_field()`; its route passes `received(form.attachments.data)`
to the workflow's service (which calls `attach_all`); its template lists them with the
`attachment_list` macro of `_attachments.html` (`render_form` shows the field through
`attachment_field`, and sends the form as multipart).
"""
from __future__ import annotations

from wtforms import MultipleFileField
from wtforms.validators import Optional

from ..adapters.files import uploads_store
from ..models import Attachment
from ..services.attachments import Upload, limits
from .downloads import send_stored


def attachments_field(label: str = "附件（照片、扫描件或 PDF）") -> MultipleFileField:
    """An optional multi-file field; the page states the accepted types and limits."""
    return MultipleFileField(label, validators=[Optional()])


def received(files) -> list[Upload]:
    """The files of a form's field, each read no further than one byte past the size limit."""
    cap = limits().max_bytes + 1
    return [Upload(file.filename, file.read(cap)) for file in files or [] if file and file.filename]


def send_attachment(attachment: Attachment):
    """The stored file as a download, never shown inline nor sniffed into another type."""
    response = send_stored(uploads_store(), attachment.stored_path, mimetype=attachment.content_type,
                           download_name=attachment.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
