"""One flush that changes or deletes many objects logs them in the same order every time."""
from __future__ import annotations

from sqlalchemy import select

from oversight.extensions import db
from oversight.models import AuditEvent, FieldWorker


def _logged(action: str) -> list[str]:
    return list(db.session.execute(
        select(AuditEvent.object_id).where(AuditEvent.object_type == "FieldWorker", AuditEvent.action == action)
        .order_by(AuditEvent.id)).scalars())


def test_changes_and_deletions_of_one_flush_are_logged_by_primary_key(factory):
    workers = factory.contractor(workers=30).workers
    for worker in reversed(workers):  # changed in the opposite order to the keys
        worker.name += "（已调岗）"
    db.session.flush()
    for worker in reversed(workers):
        db.session.delete(worker)
    db.session.flush()
    ids = sorted(worker.id for worker in workers)
    assert _logged("update") == [str(worker_id) for worker_id in ids]
    assert _logged("delete") == [str(worker_id) for worker_id in ids]
    assert db.session.execute(select(FieldWorker)).first() is None
