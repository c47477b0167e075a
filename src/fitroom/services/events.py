"""Event use cases: record what shoppers do (view, cart, purchase, return)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from fitroom.errors import InputError, UnknownSize
from fitroom.services import catalog
from fitroom.services.shoppers import SHOPPER_ID_PATTERN, ensure_shopper
from fitroom.store.models import Event, EventKind, ReturnReason


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    product_id: str
    shopper_id: str | None = Field(default=None, pattern=SHOPPER_ID_PATTERN)
    size: str | None = None
    return_reason: ReturnReason | None = None

    @model_validator(mode="after")
    def _consistent(self) -> EventIn:
        if self.kind is EventKind.return_ and self.return_reason is None:
            raise ValueError("a return needs return_reason: too_small, too_large or other")
        if self.kind is not EventKind.return_ and self.return_reason is not None:
            raise ValueError("return_reason is only for kind='return'")
        if self.kind in (EventKind.purchase, EventKind.return_) and not self.size:
            raise ValueError(f"a {self.kind.value} needs the size bought")
        return self


def record_event(session: Session, data: EventIn) -> Event:
    """Store one event after checking the product and size exist."""
    product = catalog.get_product(session, data.product_id)
    if data.size is not None:
        labels = [s.label for s in product.sizes]
        if data.size not in labels:
            raise UnknownSize(
                f"product {product.product_id!r} has no size {data.size!r} "
                f"(sizes: {', '.join(labels)})",
                field="size",
                size=data.size,
                valid_sizes=labels,
            )
    if data.shopper_id is not None:
        ensure_shopper(session, data.shopper_id)
    event = Event(
        shopper_id=data.shopper_id,
        product_id=product.product_id,
        kind=data.kind,
        size=data.size,
        return_reason=data.return_reason,
    )
    session.add(event)
    session.flush()
    return event


def list_events(
    session: Session,
    *,
    product_id: str | None = None,
    shopper_id: str | None = None,
    limit: int = 100,
) -> list[Event]:
    if limit < 1 or limit > 1000:
        raise InputError("limit must be 1-1000", field="limit")
    query = select(Event).order_by(Event.event_id.desc()).limit(limit)
    if product_id:
        query = query.where(Event.product_id == product_id)
    if shopper_id:
        query = query.where(Event.shopper_id == shopper_id)
    return list(session.scalars(query))


def event_to_dict(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "kind": event.kind.value,
        "product_id": event.product_id,
        "shopper_id": event.shopper_id,
        "size": event.size,
        "return_reason": event.return_reason.value if event.return_reason else None,
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
    }
