"""Evidence attachments for any owner row: check, store by SHA-256, list, and who may see them.

An owner is a row of a registered kind (`OwnerKind`): a spot check, a rectification notice (the
contractor's answer), a quarterly review (the contractor's comment), a correction request, an
appeal. Each kind says which contract its owner belongs to and whether the contractor may see
it; a new workflow registers its kind with `register_owner` and then calls `attach_all` /
`attachments_of` with its own rows:

    register_owner(OwnerKind(AttachmentOwner.APPEAL, Appeal, contract_id=lambda a: a.contract_id))
    attach_all(appeal, uploads, user)            # AttachmentRefused (Chinese) refuses them all
    attachments_of(appeal)

Files go to the uploads store under `attachments/<owner type>/<owner id>/<sha256>.<ext>` (a
spot check's under `attachments/<check id>/`, as they always were); the same file attached
twice to one owner is stored and listed once. Every file is checked before any is stored.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..adapters.files import FileStore, uploads_store
from ..domain.attachments import (
    AttachmentRefused,
    check_count,
    check_file,
    display_name,
)
from ..domain.vocabulary import AttachmentOwner
from .. import policy
from ..extensions import db
from ..models import (
    Attachment,
    Contract,
    QuarterlyReview,
    RectificationNotice,
    SpotCheck,
    User,
)
from ..policy import Action

# Roles that see every owner; a contractor sees its own contracts' owners its kind shows it.


@dataclass(frozen=True)
class Upload:
    """A file as received: the name the user gave it and its bytes (cut one byte past the limit)."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class AttachmentLimits:
    max_bytes: int
    max_files: int


@dataclass(frozen=True)
class OwnerKind:
    """A kind of row attachments may belong to.

    contract_id: the contract the owner belongs to (ownership for contractors).
    contractor_sees: whether the contractor of that contract may see this owner at all.
    may_attach: who may add files to it (default: anyone but an auditor who may see it).
    folder: the owner's folder in the store, below `attachments/`.
    """

    code: AttachmentOwner
    model: type
    contract_id: Callable[[Any], int]
    contractor_sees: Callable[[Any], bool] = lambda owner: True
    may_attach: Callable[[Any, User], bool] | None = None
    folder: Callable[[Any], str] | None = None

    def folder_of(self, owner) -> str:
        return self.folder(owner) if self.folder else f"{self.code.value}/{owner.id}"


_KINDS: dict[str, OwnerKind] = {}


def register_owner(kind: OwnerKind) -> OwnerKind:
    """Make rows of `kind.model` able to carry attachments (registering again replaces it)."""
    _KINDS[kind.code.value] = kind
    return kind


def kind_of(owner) -> OwnerKind:
    """The registered kind of an owner row (a programming error when there is none)."""
    for kind in _KINDS.values():
        if isinstance(owner, kind.model):
            return kind
    raise TypeError(f"{type(owner).__name__} rows cannot carry attachments: register an OwnerKind")


def limits() -> AttachmentLimits:
    """The app's limits (`ATTACHMENT_MAX_BYTES`, `ATTACHMENT_MAX_FILES`)."""
    config = current_app.config
    return AttachmentLimits(int(config["ATTACHMENT_MAX_BYTES"]), int(config["ATTACHMENT_MAX_FILES"]))


def attachments_of(owner) -> list[Attachment]:
    """The owner's attachments, in the order they were added."""
    kind = kind_of(owner)
    return list(db.session.execute(
        select(Attachment).where(Attachment.owner_type == kind.code.value, Attachment.owner_id == owner.id)
        .order_by(Attachment.id)).scalars())


def check_uploads(uploads: Sequence[Upload], present: Iterable[str] = ()) -> list:
    """Each upload's kind, in order; AttachmentRefused for the first bad file, or when the new
    ones (not among the `present` SHA-256s) would take the owner past the limit."""
    found = limits()
    kinds = [check_file(upload.filename, upload.content, found.max_bytes) for upload in uploads]
    present = set(present)
    added = {hashlib.sha256(upload.content).hexdigest() for upload in uploads} - present
    check_count(len(present), len(added), found.max_files)
    return kinds


def attach_all(owner, uploads: Sequence[Upload], user: User | None, store: FileStore | None = None) -> list[Attachment]:
    """Check every file, then store each under its SHA-256 and record it for `owner`; the
    caller commits. A file the owner already has is not stored or listed again (its existing
    row is returned). Refuses with AttachmentRefused (nothing stored) or FileStoreError."""
    kind = kind_of(owner)
    if user is not None and not may_attach(owner, user):
        raise AttachmentRefused("无权为该项上传附件")
    if not uploads:
        return []
    if owner.id is None:
        db.session.flush()
    present = {attachment.sha256: attachment for attachment in attachments_of(owner)}
    kinds = check_uploads(uploads, present)
    store = store or uploads_store()
    saved: list[Attachment] = []
    for upload, file_kind in zip(uploads, kinds):
        digest = hashlib.sha256(upload.content).hexdigest()
        if digest not in present:
            key = store.put_content(f"attachments/{kind.folder_of(owner)}", upload.content,
                                    f".{file_kind.extension}")
            present[digest] = Attachment(
                owner_type=kind.code.value, owner_id=owner.id, filename=display_name(upload.filename),
                content_type=file_kind.content_type, size_bytes=len(upload.content), sha256=digest,
                stored_path=key, uploaded_by_id=user.id if user is not None else None)
            db.session.add(present[digest])
        saved.append(present[digest])
    saved = list(dict.fromkeys(saved))
    db.session.flush()
    if "attachments" in type(owner).__mapper__.relationships:
        db.session.expire(owner, ["attachments"])
    return saved


def attach(owner, upload: Upload, user: User | None, store: FileStore | None = None) -> Attachment:
    """One file for `owner` (see `attach_all`)."""
    return attach_all(owner, [upload], user, store)[0]


def owner_of(attachment: Attachment):
    """The row an attachment belongs to, or None when its kind is unknown here or the row is gone."""
    kind = _KINDS.get(attachment.owner_type)
    return None if kind is None else db.session.get(kind.model, attachment.owner_id)


def may_see(owner, user: User) -> bool:
    """Bureau staff and auditors see every owner; a contractor its own contracts' owners that
    their kind shows to contractors; nobody else any."""
    if not policy.is_contractor(user):
        return policy.role_of(user) is not None
    kind = kind_of(owner)
    contract = db.session.get(Contract, kind.contract_id(owner))
    return contract is not None and policy.owns(user, contract.contractor_id) and kind.contractor_sees(owner)


def may_attach(owner, user: User) -> bool:
    """Whether `user` may add files to `owner` (auditors never may)."""
    kind = kind_of(owner)
    if kind.may_attach is not None:
        return kind.may_attach(owner, user)
    return not policy.read_only(user) and may_see(owner, user)


def visible_attachment(attachment_id: int, user: User) -> Attachment | None:
    """The attachment when `user` may see its owner, else None (the page answers 404)."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        return None
    owner = owner_of(attachment)
    return attachment if owner is not None and may_see(owner, user) else None


def listed_attachments(owners: Iterable) -> dict[tuple[str, int], list[Attachment]]:
    """(owner type, owner id) → attachments, for many owners in one query."""
    keys = [(kind_of(owner).code.value, owner.id) for owner in owners]
    found: dict[tuple[str, int], list[Attachment]] = {key: [] for key in keys}
    for code in {code for code, _ in keys}:
        ids = [owner_id for kind, owner_id in keys if kind == code]
        for attachment in db.session.execute(select(Attachment).where(
                Attachment.owner_type == code, Attachment.owner_id.in_(ids)).order_by(Attachment.id)).scalars():
            found[(code, attachment.owner_id)].append(attachment)
    return found


# --- the owners of the bureau's own workflows ---------------------------------------------------

register_owner(OwnerKind(
    AttachmentOwner.SPOT_CHECK, SpotCheck, contract_id=lambda check: check.contract_id,
    # The re-check's photos are the bureau's evidence: contractors see the notice, not the check.
    contractor_sees=lambda check: False,
    may_attach=lambda check, user: policy.may(user, Action.RECORD_SPOT_CHECKS),
    folder=lambda check: str(check.id),
))
register_owner(OwnerKind(
    AttachmentOwner.RECTIFICATION_NOTICE, RectificationNotice, contract_id=lambda notice: notice.contract_id,
    may_attach=lambda notice, user: policy.may(user, Action.RESPOND_TO_NOTICES, notice) and may_see(notice, user),
))
register_owner(OwnerKind(
    AttachmentOwner.QUARTERLY_REVIEW, QuarterlyReview, contract_id=lambda review: review.contract_id,
    contractor_sees=lambda review: review.status not in policy.REVIEW_STATUSES_HIDDEN_FROM_CONTRACTORS,
    may_attach=lambda review, user: policy.may(user, Action.COMMENT_ON_REVIEWS) and may_see(review, user),
))
