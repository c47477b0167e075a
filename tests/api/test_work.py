"""``Work``: a route's work in one thread-pool trip, a few at a time, all or nothing."""

from __future__ import annotations

import threading
import time

import anyio
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fitroom.api.deps import Work
from fitroom.store.db import Database
from fitroom.store.models import Brand


def most_at_once(work: Work, calls: int) -> int:
    """Run ``calls`` works concurrently, each 20 ms long; how many overlapped at most."""
    lock = threading.Lock()
    running = 0
    most = 0

    def hold(session: Session) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return 1

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(calls):
                group.start_soon(work, hold)

    anyio.run(main)
    return most


@pytest.mark.parametrize("threads", [1, 3])
def test_at_most_threads_works_run_at_once(db: Database, threads: int) -> None:
    assert most_at_once(Work(db, threads), calls=8) == threads


def test_work_commits_on_success_and_writes_nothing_on_error(db: Database) -> None:
    work = Work(db, threads=2)

    def add(brand_id: str) -> None:
        def write(session: Session) -> None:
            session.add(Brand(brand_id=brand_id, name=brand_id.title()))

        anyio.run(work, write)

    def fail_after_writing(session: Session) -> None:
        session.add(Brand(brand_id="half", name="Half"))
        session.flush()
        raise ValueError("bad row")

    add("kept")
    with pytest.raises(ValueError, match="bad row"):
        anyio.run(work, fail_after_writing)
    with db.session() as session:
        assert session.scalars(select(Brand.brand_id)).all() == ["kept"]
        assert session.scalar(select(func.count()).select_from(Brand)) == 1
