"""Typed dependencies shared by the routers: settings, a DB session, admin auth.

FastAPI runs every plain ``def`` dependency and endpoint in its thread pool, one trip
each (a sync generator dependency: two, in and out), and a trip costs about 0.3-0.7 ms
of a 2-core machine's time, more than a short request's own work. So the dependencies
that only read app state or headers are ``async`` (no trip), and the hot read-only
routes run all their work, session included, in one trip (:class:`Work`).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from fitroom.config import Settings
from fitroom.errors import Unauthorized
from fitroom.services.recommendations import Serving
from fitroom.services.sizing import SizingContext
from fitroom.store.db import Database


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    with db.session() as session:
        yield session


T = TypeVar("T")

#: One per event loop (as anyio keeps its own default thread limiter: a limiter must not
#: be shared by two loops, and tests run several), sized by the first Work run in it.
_WORK_LIMITER: RunVar[anyio.CapacityLimiter] = RunVar("fitroom_work_limiter")


@dataclass(frozen=True)
class Work:
    """Runs a route's work with a session in one trip through a small thread pool.

    ``await work(fn)`` calls ``fn(session)`` in a worker thread with a session opened
    and committed there (rolled back on error), as ``SessionDep`` does in three trips.
    At most ``threads`` such calls run at once; the rest wait their turn: with the GIL,
    more threads than cores only take turns more often (50 concurrent recommendation
    requests on 2 cores: 89 requests/s with 40 threads, 138 with 2).
    """

    db: Database
    threads: int

    async def __call__(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.db.session() as session:
                return work(session)

        return await anyio.to_thread.run_sync(run, limiter=self._limiter())

    def _limiter(self) -> anyio.CapacityLimiter:
        try:
            limiter = _WORK_LIMITER.get()
        except LookupError:
            limiter = anyio.CapacityLimiter(self.threads)
            _WORK_LIMITER.set(limiter)
        return limiter


async def get_work(request: Request) -> Work:
    settings: Settings = request.app.state.settings
    return Work(request.app.state.db, settings.api_work_threads)


async def get_sizing_context(
    settings: Annotated[Settings, Depends(get_settings_dep)],
) -> SizingContext:
    return SizingContext(
        estimator_path=settings.estimator_path,
        max_offset_steps=settings.returns_max_offset_steps,
    )


async def get_recsys(request: Request) -> Serving:
    """The app's recommendation serving state (served model, catalogue in memory).

    ``async``: a plain attribute read needs no trip through the thread pool.
    """
    serving: Serving = request.app.state.recsys
    return serving


async def require_admin(
    settings: Annotated[Settings, Depends(get_settings_dep)],
    x_admin_key: Annotated[str | None, Header()] = None,
) -> None:
    """Catalog and size-chart writes need the admin key in ``X-Admin-Key``."""
    expected = settings.admin_api_key
    if not expected:
        raise Unauthorized(
            "writes are disabled: this server has no admin API key (set FITROOM_ADMIN_API_KEY)"
        )
    if not x_admin_key or not hmac.compare_digest(x_admin_key.encode(), expected.encode()):
        raise Unauthorized(
            "this write needs the admin API key in the X-Admin-Key header"
            + (" (the one sent is wrong)" if x_admin_key else "")
        )


# scope="function": commit BEFORE the response is sent, so a client that reads right
# after a write sees it (the default "request" scope commits after sending).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WorkDep = Annotated[Work, Depends(get_work)]
SizingDep = Annotated[SizingContext, Depends(get_sizing_context)]
RecsysDep = Annotated[Serving, Depends(get_recsys)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
AdminDep = Depends(require_admin)
