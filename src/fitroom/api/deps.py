"""Typed dependencies shared by the routers: settings, a DB session, admin auth."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from fitroom.config import Settings
from fitroom.errors import Unauthorized
from fitroom.services.recommendations import Serving
from fitroom.services.sizing import SizingContext
from fitroom.store.db import Database


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    with db.session() as session:
        yield session


def get_sizing_context(settings: Annotated[Settings, Depends(get_settings_dep)]) -> SizingContext:
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


def require_admin(
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
SizingDep = Annotated[SizingContext, Depends(get_sizing_context)]
RecsysDep = Annotated[Serving, Depends(get_recsys)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
AdminDep = Depends(require_admin)
