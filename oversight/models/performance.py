"""KPI schemes, quarterly reviews and annual evaluations (SPEC section 6)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..extensions import db
from ..domain.figures import EvaluationFigures, ReviewFigures
from ..domain.vocabulary import EvaluationStatus, PaymentKind, Position, ReviewStatus
from .base import one_of, utcnow
from .county import ContractCounty


class StoredFigures(TypeDecorator):
    """A JSON column read and written as typed figures (`ReviewFigures`, `EvaluationFigures`)."""

    impl = JSON
    cache_ok = True

    def __init__(self, kind: type[ReviewFigures] | type[EvaluationFigures]):
        super().__init__()
        self.kind = kind

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, self.kind):
            raise TypeError(f"figures must be {self.kind.__name__}, not {type(value).__name__}")
        return value.to_json()

    def process_result_value(self, value, dialect):
        return None if value is None else self.kind.from_json(value)


class KpiScheme(db.Model):
    """A versioned scoring scheme; once a review uses a version it is never edited."""

    __tablename__ = "kpi_schemes"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[dict] = mapped_column(JSON)  # scoring.Scheme.as_dict()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class QuarterlyReview(ContractCounty, db.Model):
    """One revision of a contract's quarterly score.

    draft → published (comment window) → agreed | disputed → settled (admin decides a dispute)
    → approved (locked). A locked revision never changes; a correction is a new revision.
    """

    __tablename__ = "quarterly_reviews"
    __table_args__ = (UniqueConstraint("contract_id", "quarter", "revision"), one_of("status", ReviewStatus),
                      one_of("contractor_position", Position))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(6))
    revision: Mapped[int] = mapped_column(default=1)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("kpi_schemes.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    figures: Mapped[ReviewFigures] = mapped_column(StoredFigures(ReviewFigures))
    # SHA-256 of the evidence the figures were computed from, and per source the rows' digests
    # (domain.fingerprints); NULL on rows scored before fingerprints: checked against the figures.
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_fingerprint: Mapped[dict | None] = mapped_column(JSON, deferred=True)
    total_centi: Mapped[int]  # total score × 100, exact
    rating: Mapped[str] = mapped_column(String(8))
    completed_volume: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who last computed the draft (None: the scheduler); they may not settle or approve it.
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    comment_deadline: Mapped[date | None]
    contractor_position: Mapped[str | None] = mapped_column(String(16))
    contractor_comment: Mapped[str | None] = mapped_column(Text)
    commented_at: Mapped[datetime | None]
    commented_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    settlement: Mapped[str | None] = mapped_column(Text)
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    settled_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    locked: Mapped[bool] = mapped_column(default=False)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("quarterly_reviews.id"))
    revision_reason: Mapped[str | None] = mapped_column(Text)

    contract: Mapped[Contract] = relationship()  # noqa: F821
    scheme: Mapped[KpiScheme] = relationship()
    commented_by: Mapped[User | None] = relationship(foreign_keys=[commented_by_id])  # noqa: F821
    settled_by: Mapped[User | None] = relationship(foreign_keys=[settled_by_id])  # noqa: F821
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])  # noqa: F821
    computed_by: Mapped[User | None] = relationship(foreign_keys=[computed_by_id])  # noqa: F821
    manual_items: Mapped[list[ReviewManualItem]] = relationship(back_populates="review",
                                                                   order_by="ReviewManualItem.id")


class ReviewManualItem(db.Model):
    """A supervisor's signed points on a review (documentation, training, staffing, incidents)."""

    __tablename__ = "review_manual_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("quarterly_reviews.id"), index=True)
    points_centi: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[QuarterlyReview] = relationship(back_populates="manual_items")
    created_by: Mapped[User] = relationship()  # noqa: F821


class AnnualEvaluation(ContractCounty, db.Model):
    """The year's evaluation of a contract and the payment of its performance-linked share."""

    __tablename__ = "annual_evaluations"
    __table_args__ = (UniqueConstraint("contract_id", "year", "revision"), one_of("status", EvaluationStatus),
                      one_of("contractor_position", Position))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    year: Mapped[int]
    revision: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    figures: Mapped[EvaluationFigures] = mapped_column(StoredFigures(EvaluationFigures))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))  # as on QuarterlyReview
    evidence_fingerprint: Mapped[dict | None] = mapped_column(JSON, deferred=True)
    score_centi: Mapped[int]
    rating: Mapped[str] = mapped_column(String(8))
    linked_fen: Mapped[int] = mapped_column(BigInteger)
    payable_fen: Mapped[int] = mapped_column(BigInteger)
    withheld_fen: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The same steps as a quarterly review before any payment figure is final (issue 10, point 7).
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    comment_deadline: Mapped[date | None]
    contractor_position: Mapped[str | None] = mapped_column(String(16))
    contractor_comment: Mapped[str | None] = mapped_column(Text)
    commented_at: Mapped[datetime | None]
    commented_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    settlement: Mapped[str | None] = mapped_column(Text)
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    settled_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    locked: Mapped[bool] = mapped_column(default=False)

    contract: Mapped[Contract] = relationship()  # noqa: F821
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])  # noqa: F821
    computed_by: Mapped[User | None] = relationship(foreign_keys=[computed_by_id])  # noqa: F821
    commented_by: Mapped[User | None] = relationship(foreign_keys=[commented_by_id])  # noqa: F821
    settled_by: Mapped[User | None] = relationship(foreign_keys=[settled_by_id])  # noqa: F821


class PaymentRecord(db.Model):
    """Money the bureau has already paid on a contract (advances and instalments)."""

    __tablename__ = "payment_records"
    __table_args__ = (one_of("kind", PaymentKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    paid_on: Mapped[date]
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    # The year whose performance-linked share a performance payment belongs to (None for fixed).
    year: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LockedRecordChange(PermissionError):
    """A flush would change a locked review, evaluation or manual item, or a scheme version."""


def _stored_locked(session: Session, model: type, row_id: int | None) -> bool:
    # Read from the database, not the object: an expired or overwritten attribute has no history.
    if row_id is None:
        return False
    return bool(session.execute(select(model.locked).where(model.id == row_id)).scalar())


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_locked(session: Session, _flush_context, _instances) -> None:
    with session.no_autoflush:
        for obj in list(session.dirty) + list(session.deleted):
            if isinstance(obj, KpiScheme) and (obj in session.deleted or session.is_modified(obj)):
                raise LockedRecordChange(f"KpiScheme {obj.code} v{obj.version} is fixed: make a new version")
            if isinstance(obj, (QuarterlyReview, AnnualEvaluation)) and (
                    obj in session.deleted or session.is_modified(obj, include_collections=False)) \
                    and _stored_locked(session, type(obj), inspect(obj).identity[0]):
                raise LockedRecordChange(f"{type(obj).__name__} #{obj.id} is locked")
        for obj in list(session.new) + list(session.dirty) + list(session.deleted):
            if isinstance(obj, ReviewManualItem):
                review_id = obj.review.id if obj.review is not None else obj.review_id
                if _stored_locked(session, QuarterlyReview, review_id):
                    raise LockedRecordChange(f"QuarterlyReview #{review_id} is locked")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes_to_lockable(state) -> None:
    # An ORM bulk UPDATE/DELETE never reaches before_flush, so it could slip past the lock check.
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None \
            and mapper.class_ in (QuarterlyReview, ReviewManualItem, AnnualEvaluation):
        raise LockedRecordChange(f"bulk changes to {mapper.class_.__name__} bypass the lock check")
