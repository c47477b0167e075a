"""Unit checks for body measurements: catch inches and pounds sent as cm and kg.

fitroom never converts a number silently. A waist of 32 is not a 32 cm waist: it is
either inches (and the caller is told so) or an error. Callers that have inches may say
so explicitly with ``to_cm(value, "in")``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from fitroom.errors import LikelyWrongUnit, MeasurementOutOfRange
from fitroom.sizing.zones import (
    CM_PER_INCH,
    LB_PER_KG,
    PLAUSIBLE_CM,
    PLAUSIBLE_WEIGHT_KG,
    Zone,
)

LengthUnit = Literal["cm", "in"]
MassUnit = Literal["kg", "lb"]


def to_cm(value: float, unit: LengthUnit) -> float:
    """A length in the stated unit, in centimetres."""
    return value * CM_PER_INCH if unit == "in" else value


def to_kg(value: float, unit: MassUnit) -> float:
    """A mass in the stated unit, in kilograms."""
    return value / LB_PER_KG if unit == "lb" else value


def check_length_cm(zone: Zone, value_cm: float, *, field: str | None = None) -> float:
    """Return ``value_cm`` if it is a plausible adult ``zone`` in cm; else raise.

    Raises LikelyWrongUnit when the number would be plausible in inches (or, for
    height, in metres or feet), MeasurementOutOfRange otherwise.
    """
    name = field or f"{zone.value}_cm"
    plausible = PLAUSIBLE_CM[zone]
    if not math.isfinite(value_cm) or value_cm <= 0:
        raise MeasurementOutOfRange(
            f"{name}={value_cm} is not a body measurement; send a positive number of centimetres",
            field=name,
            value=value_cm if math.isfinite(value_cm) else str(value_cm),
        )
    if plausible.contains(value_cm):
        return value_cm
    as_cm_from_inches = value_cm * CM_PER_INCH
    if plausible.contains(as_cm_from_inches):
        raise LikelyWrongUnit(
            f"{name}={value_cm:g} is not a plausible adult {zone.label} in cm "
            f"({plausible.min_value:g}-{plausible.max_value:g} cm); it looks like inches "
            f"({value_cm:g} in = {as_cm_from_inches:.1f} cm). Send centimetres, or say the "
            "unit is inches",
            field=name,
            value=value_cm,
            likely_unit="in",
            value_if_inches_cm=round(as_cm_from_inches, 1),
        )
    if zone is Zone.height and plausible.contains(value_cm * 100.0):
        raise LikelyWrongUnit(
            f"{name}={value_cm:g} looks like metres ({value_cm:g} m = {value_cm * 100:.0f} cm); "
            "send centimetres",
            field=name,
            value=value_cm,
            likely_unit="m",
        )
    if zone is Zone.height and plausible.contains(value_cm * 30.48):
        raise LikelyWrongUnit(
            f"{name}={value_cm:g} looks like feet; send the height in centimetres "
            f"(e.g. 5 ft 10 in = 178 cm)",
            field=name,
            value=value_cm,
            likely_unit="ft",
        )
    raise MeasurementOutOfRange(
        f"{name}={value_cm:g} cm is outside the plausible adult {zone.label} range "
        f"({plausible.min_value:g}-{plausible.max_value:g} cm); check the measurement",
        field=name,
        value=value_cm,
        min_cm=plausible.min_value,
        max_cm=plausible.max_value,
    )


def check_weight_kg(value_kg: float, *, field: str = "weight_kg") -> float:
    """Return ``value_kg`` if it is a plausible adult weight in kg; else raise."""
    plausible = PLAUSIBLE_WEIGHT_KG
    if not math.isfinite(value_kg) or value_kg <= 0:
        raise MeasurementOutOfRange(
            f"{field}={value_kg} is not a body weight; send a positive number of kilograms",
            field=field,
            value=value_kg if math.isfinite(value_kg) else str(value_kg),
        )
    if plausible.contains(value_kg):
        return value_kg
    as_kg_from_lb = value_kg / LB_PER_KG
    if value_kg > plausible.max_value and plausible.contains(as_kg_from_lb):
        raise LikelyWrongUnit(
            f"{field}={value_kg:g} is not a plausible adult weight in kg "
            f"({plausible.min_value:g}-{plausible.max_value:g} kg); it looks like pounds "
            f"({value_kg:g} lb = {as_kg_from_lb:.1f} kg). Send kilograms, or say the unit is "
            "pounds",
            field=field,
            value=value_kg,
            likely_unit="lb",
            value_if_pounds_kg=round(as_kg_from_lb, 1),
        )
    raise MeasurementOutOfRange(
        f"{field}={value_kg:g} kg is outside the plausible adult range "
        f"({plausible.min_value:g}-{plausible.max_value:g} kg); check the measurement",
        field=field,
        value=value_kg,
        min_kg=plausible.min_value,
        max_kg=plausible.max_value,
    )


def check_measurements(values_cm: Mapping[Zone, float]) -> dict[Zone, float]:
    """Check every measurement; return them as a plain dict (cm)."""
    return {zone: check_length_cm(zone, float(value)) for zone, value in values_cm.items()}
