"""The field-worker app and the REST API (issue 12): device tokens, visits sent from a device,
and the photos and signatures they carry."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.vocabulary import MediaKind, MediaVerdict
from ..extensions import db
from .base import one_of, utcnow


class ApiToken(db.Model):
    """A per-device bearer token of a user: only its SHA-256 is kept; revoked, it answers 401."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))  # the device, as the user named it
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()  # noqa: F821


class MediaFile(db.Model):
    """A photo or signature a user sent, kept in the file store under its SHA-256."""

    __tablename__ = "media_files"
    __table_args__ = (UniqueConstraint("uploaded_by_id", "sha256"), one_of("kind", MediaKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    stored_path: Mapped[str] = mapped_column(String(500))
    # 64-bit difference hash (hex) of a photo, for near-identical photos; None when unreadable.
    perceptual_hash: Mapped[str | None] = mapped_column(String(16))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppVisit(db.Model):
    """One visit sent from a device: its check-in and check-out as the device told them, where,
    the record it made, and the idempotency key that makes a retry return the same visit."""

    __tablename__ = "app_visits"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    request_sha256: Mapped[str] = mapped_column(String(64))  # the body the key was first sent with
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("completion_records.id"), unique=True)
    # device times, stored as UTC; indexed for the near-identical photos of the last 180 days
    check_in_at: Mapped[datetime] = mapped_column(index=True)
    check_out_at: Mapped[datetime]
    device_sent_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    longitude: Mapped[float]
    latitude: Mapped[float]
    accuracy_m: Mapped[float | None]
    no_signature_reason: Mapped[str | None] = mapped_column(String(200))
    # [{"kind": "photo" | "signature", "sha256": …}] in the order sent.
    media: Mapped[list] = mapped_column(JSON, default=list)

    assignment: Mapped[Assignment] = relationship()  # noqa: F821
    record: Mapped[CompletionRecord] = relationship()  # noqa: F821


class VisitMedia(db.Model):
    """A photo or the signature of one app visit (one row per file and visit: a photo's reuse is
    found by its SHA-256)."""

    __tablename__ = "visit_media"
    __table_args__ = (UniqueConstraint("visit_id", "media_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("app_visits.id"), index=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_files.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))

    media: Mapped[MediaFile] = relationship()


class MediaReview(db.Model):
    """影像核验: a supervisor's verdict on one photo or signature of a record drawn for a media
    audit (real, or doubtful with a reason)."""

    __tablename__ = "media_reviews"
    __table_args__ = (UniqueConstraint("draw_item_id", "visit_media_id"), one_of("verdict", MediaVerdict))

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_item_id: Mapped[int] = mapped_column(ForeignKey("draw_items.id"), index=True)
    visit_media_id: Mapped[int] = mapped_column(ForeignKey("visit_media.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("completion_records.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit_media: Mapped[VisitMedia] = relationship()
    reviewer: Mapped[User] = relationship()  # noqa: F821
