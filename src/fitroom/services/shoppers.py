"""Shopper use cases: pseudonymous profiles, consented measurements, deletion.

A shopper is an opaque id chosen by the store (or generated here); fitroom keeps no
name or e-mail. Measurements are stored only when the request says the shopper
consented, and deleting them removes the row (SQLite runs with ``secure_delete`` so
the bytes are overwritten too).
"""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fitroom.errors import Conflict, ConsentRequired, InputError, NotFound
from fitroom.services.sizing import BodyIn
from fitroom.sizing.recommend import FitPreference
from fitroom.sizing.zones import Sex
from fitroom.store.models import Event, Shopper, ShopperMeasurements, utcnow

SHOPPER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class ShopperIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shopper_id: str | None = Field(default=None, pattern=SHOPPER_ID_PATTERN)
    sex: Sex | None = None
    fit_preference: FitPreference | None = None


class MeasurementsIn(BaseModel):
    """Measurements to store for a shopper; ``consent`` must be true."""

    model_config = ConfigDict(extra="forbid")

    consent: bool
    measurements: BodyIn


def new_shopper_id() -> str:
    return "shp_" + secrets.token_urlsafe(12)


def create_shopper(session: Session, data: ShopperIn) -> Shopper:
    shopper_id = data.shopper_id or new_shopper_id()
    if session.get(Shopper, shopper_id) is not None:
        raise Conflict(f"shopper {shopper_id!r} already exists", shopper_id=shopper_id)
    shopper = Shopper(
        shopper_id=shopper_id,
        sex=data.sex.value if data.sex else None,
        fit_preference=data.fit_preference.value if data.fit_preference else None,
    )
    session.add(shopper)
    session.flush()
    return shopper


def ensure_shopper(session: Session, shopper_id: str) -> Shopper:
    """The shopper with this id, created on first sight (stores send their own ids)."""
    shopper = session.get(Shopper, shopper_id)
    if shopper is not None:
        return shopper
    try:
        with session.begin_nested():  # a savepoint: a concurrent insert loses nothing else
            return create_shopper(session, ShopperIn(shopper_id=shopper_id))
    except IntegrityError:  # another request created the same shopper just now
        return get_shopper(session, shopper_id)


def get_shopper(session: Session, shopper_id: str) -> Shopper:
    shopper = session.get(Shopper, shopper_id)
    if shopper is None:
        raise NotFound(f"shopper {shopper_id!r} does not exist", shopper_id=shopper_id)
    return shopper


def put_measurements(session: Session, shopper_id: str, data: MeasurementsIn) -> Shopper:
    """Store a shopper's measurements; refused without explicit consent."""
    if not data.consent:
        raise ConsentRequired(
            "measurements are stored only with the shopper's consent; send consent=true "
            "after asking, or use them in a recommendation without storing them",
            field="consent",
        )
    shopper = get_shopper(session, shopper_id)
    values, weight = data.measurements.checked_cm()
    if not values and weight is None:
        raise InputError(
            "no measurements to store: send at least one, e.g. chest_cm", field="measurements"
        )
    stored: dict[str, Any] = {zone.value: round(v, 1) for zone, v in values.items()}
    if weight is not None:
        stored["weight_kg"] = round(weight, 1)
    if shopper.measurements is None:
        shopper.measurements = ShopperMeasurements(
            values_cm=stored, sources={k: "measured" for k in stored}, consent_given_at=utcnow()
        )
    else:
        shopper.measurements.values_cm = stored
        shopper.measurements.sources = {k: "measured" for k in stored}
        shopper.measurements.consent_given_at = utcnow()
    session.flush()
    return shopper


def delete_measurements(session: Session, shopper_id: str) -> bool:
    """Remove a shopper's measurements; True if there were any."""
    get_shopper(session, shopper_id)
    result = session.execute(
        delete(ShopperMeasurements).where(ShopperMeasurements.shopper_id == shopper_id)
    )
    session.expire_all()
    return bool(getattr(result, "rowcount", 0))


def delete_shopper(session: Session, shopper_id: str) -> None:
    """Remove a shopper, their measurements and their events."""
    get_shopper(session, shopper_id)
    session.execute(delete(Event).where(Event.shopper_id == shopper_id))
    session.execute(delete(ShopperMeasurements).where(ShopperMeasurements.shopper_id == shopper_id))
    session.execute(delete(Shopper).where(Shopper.shopper_id == shopper_id))
    session.expire_all()


def shopper_to_dict(shopper: Shopper) -> dict[str, Any]:
    m = shopper.measurements
    return {
        "shopper_id": shopper.shopper_id,
        "sex": shopper.sex,
        "fit_preference": shopper.fit_preference,
        "measurements": None
        if m is None
        else {
            "values": dict(m.values_cm),
            "consent_given_at": m.consent_given_at.isoformat(),
        },
    }
