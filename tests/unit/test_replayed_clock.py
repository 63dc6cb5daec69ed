"""utcnow() and the replayed moment the demo seeding sets while it replays past work."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, UTC

from oversight.clock import replayed_at, utcnow

MOMENT = datetime(2026, 4, 3, 1, 30)


def real_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def test_utcnow_is_the_real_time_outside_a_replay():
    assert abs(utcnow() - real_now()) < timedelta(seconds=5)


def test_a_replay_fixes_utcnow_until_it_ends_and_nests():
    with replayed_at(MOMENT):
        assert utcnow() == MOMENT
        with replayed_at(MOMENT + timedelta(days=2)):
            assert utcnow() == MOMENT + timedelta(days=2)
        assert utcnow() == MOMENT
    assert abs(utcnow() - real_now()) < timedelta(seconds=5)


def test_a_replay_does_not_leak_into_other_threads():
    seen = []
    with replayed_at(MOMENT):
        thread = threading.Thread(target=lambda: seen.append(utcnow()))
        thread.start()
        thread.join()
    assert abs(seen[0] - real_now()) < timedelta(seconds=5)
