"""Event use cases: record what shoppers do (view, cart, purchase, return)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from fitroom.errors import BatchRejected, FitroomError, InputError, UnknownSize
from fitroom.services import catalog
from fitroom.services.imports import pydantic_row_errors
from fitroom.services.shoppers import SHOPPER_ID_PATTERN, ensure_shopper
from fitroom.store.models import Event, EventKind, Product, ReturnReason

#: Most events one batch may hold (a batch is one transaction).
MAX_BATCH_EVENTS = 1000


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


def check_event(session: Session, data: EventIn) -> Product:
    """The event's product, after checking that it and the size exist (writes nothing)."""
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
    return product


def record_event(session: Session, data: EventIn) -> Event:
    """Store one event after checking the product and size exist."""
    product = check_event(session, data)
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


def record_events(session: Session, rows: Sequence[Any]) -> list[Event]:
    """Store a batch of events all or nothing.

    Every row (a JSON object as the single-event form takes) is checked first, its
    shape and then its product and size; if any row is wrong, ``BatchRejected`` lists
    each problem as ``{"row", "field", "reason"}`` (row 1 is the first event) and
    nothing is written. Otherwise the events are stored in order in one transaction.
    """
    if not rows:
        raise InputError("the batch is empty: send at least one event", field="events")
    if len(rows) > MAX_BATCH_EVENTS:
        raise InputError(
            f"a batch holds at most {MAX_BATCH_EVENTS} events; this one has {len(rows)}: split it",
            field="events",
        )
    errors: list[dict[str, Any]] = []
    shaped: list[tuple[int, EventIn]] = []
    for row, raw in enumerate(rows, start=1):
        try:
            shaped.append((row, EventIn.model_validate(raw)))
        except ValidationError as exc:
            errors += [
                {**e.to_dict(), "reason": e.reason.removeprefix("Value error, ")}
                for e in pydantic_row_errors(row, exc)
            ]
    # One query loads every product the batch names; the checks below then find them
    # in the session instead of asking the database once per row.
    wanted = {data.product_id for _, data in shaped}
    list(session.scalars(select(Product).where(Product.product_id.in_(wanted))))
    checked: list[EventIn] = []
    for row, data in shaped:
        try:
            check_event(session, data)
        except FitroomError as exc:
            field = exc.details.get("field") or (
                "product_id" if "product_id" in exc.details else None
            )
            errors.append({"row": row, "field": field, "reason": exc.message})
            continue
        checked.append(data)
    if errors:
        errors.sort(key=lambda e: int(e["row"]))
        first = errors[0]
        raise BatchRejected(
            f"{len(errors)} problem(s) in the batch of {len(rows)} events; nothing was "
            f"written (first: row {first['row']}, {first['field'] or 'event'}: "
            f"{first['reason']})",
            errors=errors,
        )
    with session.begin_nested():
        return [record_event(session, data) for data in checked]


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
