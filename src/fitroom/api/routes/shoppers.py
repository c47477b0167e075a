"""Shoppers (pseudonymous), their consented measurements, and their events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

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


@router.post("/events", response_model=EventOut, status_code=201, tags=["events"])
def record_event(data: events.EventIn, session: SessionDep) -> dict[str, Any]:
    """Record a view, add_to_cart, purchase or return (with reason) of a product size."""
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
