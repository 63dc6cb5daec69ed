"""影像核验 (issue 12): a supervisor's review of the photos and signatures of a verifiable sample
of app visits.

The sample is a draw of purpose `media_audit` (`services/draws.py`: seeded, its population frozen
in the row, re-computed by `verify_stored_draw` like every draw); each drawn record's photos and
signature are judged one by one: real, or doubtful with a reason. A doubtful one raises the
record's anomaly flag `doubtful_media` (影像核验存疑) — shown where the other flags are, and so
weighing in the next risk-weighted spot-check draw's flagged stratum.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..clock import utcnow
from ..domain.vocabulary import AnomalyFlag, MediaVerdict, label_of
from ..extensions import db
from ..models import AppVisit, CompletionRecord, DrawItem, MediaReview, User, VisitMedia
from .draws import MEDIA_AUDIT

REASON_MAX_LENGTH = 500


class MediaAuditError(ValueError):
    """A refused review; the message is Chinese, for the user."""


@dataclass(frozen=True)
class DrawnMedia:
    """One photo or signature of a drawn record, with its review if made."""

    item: DrawItem
    media: VisitMedia
    review: MediaReview | None


def drawn_media(draw_id: int) -> list[DrawnMedia]:
    """Every photo and signature of a media audit's drawn records, in draw order then as sent."""
    rows = db.session.execute(
        select(DrawItem, VisitMedia)
        .join(AppVisit, AppVisit.record_id == DrawItem.record_id)
        .join(VisitMedia, VisitMedia.visit_id == AppVisit.id)
        .where(DrawItem.draw_id == draw_id).order_by(DrawItem.position, VisitMedia.id)).all()
    reviews = {(review.draw_item_id, review.visit_media_id): review for review in db.session.execute(
        select(MediaReview).join(DrawItem, MediaReview.draw_item_id == DrawItem.id)
        .where(DrawItem.draw_id == draw_id)).scalars()}
    return [DrawnMedia(item, media, reviews.get((item.id, media.id))) for item, media in rows]


def review_counts(draw_id: int) -> dict[str, int]:
    """How many of a draw's files are reviewed real, doubtful, and not yet."""
    listed = drawn_media(draw_id)
    counts = {verdict: sum(1 for row in listed if row.review and row.review.verdict == verdict)
              for verdict in MediaVerdict.codes()}
    counts["pending"] = sum(1 for row in listed if row.review is None)
    return counts


def reviews_of_record(record_id: int) -> list[MediaReview]:
    """The media reviews of one record, oldest first (the record page lists them)."""
    return list(db.session.execute(select(MediaReview).where(MediaReview.record_id == record_id)
                                   .order_by(MediaReview.id)).scalars())


def review_media(item: DrawItem, visit_media_id: int, verdict: str, reason: str | None, user: User) -> MediaReview:
    """Record one verdict; a doubtful one flags the record. Each file of a drawn record is judged
    once (the audit log keeps who judged it and when)."""
    if item.draw.purpose != MEDIA_AUDIT:
        raise MediaAuditError("该记录不属于影像核验抽样")
    if verdict not in MediaVerdict.codes():
        raise MediaAuditError("请选择核验结论")
    reason = (reason or "").strip() or None
    if verdict == MediaVerdict.DOUBTFUL and reason is None:
        raise MediaAuditError("结论为存疑时须填写理由")
    if reason is not None and len(reason) > REASON_MAX_LENGTH:
        raise MediaAuditError(f"理由不能超过 {REASON_MAX_LENGTH} 个字符")
    media = db.session.execute(
        select(VisitMedia).join(AppVisit, VisitMedia.visit_id == AppVisit.id)
        .where(VisitMedia.id == visit_media_id, AppVisit.record_id == item.record_id)).scalar_one_or_none()
    if media is None:
        raise MediaAuditError("该照片或签名不属于这条抽中记录")
    earlier = db.session.execute(select(MediaReview).where(
        MediaReview.draw_item_id == item.id, MediaReview.visit_media_id == media.id)).scalar_one_or_none()
    if earlier is not None:
        raise MediaAuditError(f"该文件已核验（{label_of(MediaVerdict, earlier.verdict)}），不能重复核验")
    review = MediaReview(draw_item_id=item.id, visit_media_id=media.id, record_id=item.record_id, verdict=verdict,
                         reason=reason, reviewer_id=user.id, reviewed_at=utcnow())
    db.session.add(review)
    if verdict == MediaVerdict.DOUBTFUL:
        _flag_doubtful(db.session.get(CompletionRecord, item.record_id), media, reason)
    db.session.flush()
    return review


def _flag_doubtful(record: CompletionRecord, media: VisitMedia, reason: str) -> None:
    flags = list(record.anomaly_flags or [])
    if any(flag.get("code") == AnomalyFlag.DOUBTFUL_MEDIA for flag in flags):
        return
    kind = "签名" if media.kind == "signature" else "照片"
    flags.append({"code": str(AnomalyFlag.DOUBTFUL_MEDIA),
                  "reason": f"{AnomalyFlag.DOUBTFUL_MEDIA.label}：{kind}——{reason}"})
    record.anomaly_flags = flags
    record.flagged = True
