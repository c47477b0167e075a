"""Shoppers (pseudonymous), their consented measurements, and their events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from fitroom.api.deps import AdminDep, SessionDep
from fitroom.api.schemas import EventOut, ShopperOut
from fitroom.services import events, shoppers

router = APIRouter(tags=["shoppers"])


@router.post("/shoppers", response_model=ShopperOut, status_code=201)
def create_shopper(data: shoppers.ShopperIn, session: SessionDep) -> dict[str, Any]:
    """Create a shopper; without an id, an opaque one is generated."""
    return shoppers.shopper_to_dict(shoppers.create_shopper(session, data))


@router.get("/shoppers/{shopper_id}", response_model=ShopperOut)
def get_shopper(shopper_id: str, session: SessionDep) -> dict[str, Any]:
    return shoppers.shopper_to_dict(shoppers.get_shopper(session, shopper_id))


@router.put("/shoppers/{shopper_id}/measurements", response_model=ShopperOut)
def put_measurements(
    shopper_id: str, data: shoppers.MeasurementsIn, session: SessionDep
) -> dict[str, Any]:
    """Store measurements; refused unless ``consent`` is true."""
    return shoppers.shopper_to_dict(shoppers.put_measurements(session, shopper_id, data))


@router.delete("/shoppers/{shopper_id}/measurements", status_code=204)
def delete_measurements(shopper_id: str, session: SessionDep) -> Response:
    """Remove the shopper's stored measurements (the row is deleted and overwritten)."""
    shoppers.delete_measurements(session, shopper_id)
    return Response(status_code=204)


@router.delete("/shoppers/{shopper_id}", status_code=204)
def delete_shopper(shopper_id: str, session: SessionDep) -> Response:
    """Remove the shopper with their measurements and events."""
    shoppers.delete_shopper(session, shopper_id)
    return Response(status_code=204)


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` written in place (for ``openapi_extra``)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return dict(resolve(schema))


_EVENT_SCHEMA = _inline_schema(events.EventIn)
EVENTS_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _EVENT_SCHEMA,
                        {
                            "type": "array",
                            "items": _EVENT_SCHEMA,
                            "maxItems": events.MAX_BATCH_EVENTS,
                        },
                    ]
                },
                "example": [
                    {"kind": "view", "product_id": "acme-tee", "shopper_id": "s1"},
                    {"kind": "purchase", "product_id": "acme-tee", "shopper_id": "s1", "size": "M"},
                ],
            }
        },
    }
}


@router.post(
    "/events",
    response_model=EventOut | list[EventOut],
    status_code=201,
    tags=["events"],
    openapi_extra=EVENTS_DOC,
)
def record_event(payload: Annotated[Any, Body()], session: SessionDep) -> Any:
    """Record a view, add_to_cart, purchase or return (with reason) of a product size.

    A JSON list is a batch (up to 1000 events), stored all or nothing: if any row is
    wrong the answer is 422 with ``errors`` row by row (``row`` 1 is the first event)
    and nothing is written; otherwise 201 with the stored events in order.
    """
    if isinstance(payload, list):
        return [events.event_to_dict(e) for e in events.record_events(session, payload)]
    try:
        data = events.EventIn.model_validate(payload)
    except ValidationError as exc:
        # The same answer FastAPI gives for a body that does not fit the model.
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
        ) from None
    return events.event_to_dict(events.record_event(session, data))


@router.get("/events", response_model=list[EventOut], tags=["events"], dependencies=[AdminDep])
def list_events(
    session: SessionDep,
    product_id: str | None = None,
    shopper_id: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Newest events first (admin key: events are shopper data)."""
    found = events.list_events(session, product_id=product_id, shopper_id=shopper_id, limit=limit)
    return [events.event_to_dict(e) for e in found]
