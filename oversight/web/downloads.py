"""Stored files sent as downloads, streamed from the file store (a disk or an S3 bucket)."""
from __future__ import annotations

from flask import abort, send_file

from ..adapters.files import FileStore


def send_stored(store: FileStore, key: str | None, **options):
    """The file under `key` as an attachment, read from the store as it is sent (404 when none)."""
    if not key:
        abort(404)
    try:
        stored = store.open(key)
    except (FileNotFoundError, IsADirectoryError, ValueError):  # none, a folder, or no key of the store
        abort(404)
    return send_file(stored, as_attachment=True, **options)
