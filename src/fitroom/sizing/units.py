"""Unit checks for body measurements: catch inches and pounds sent as cm and kg.

fitroom never converts a number silently. A waist of 32 is not a 32 cm waist: it is
either inches (and the caller is told so) or an error. Callers that have inches may say
so explicitly with ``to_cm(value, "in")``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Literal

from fitroom.errors import InputError, LikelyWrongUnit, MeasurementOutOfRange
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


def _check_number(field: str, value: object, unit: str) -> float:
    """``value`` as a finite float; InputError for a non-number, out of range for nan/inf."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(
            f"{field}={value!r} is not a number; send {unit}", field=field, value=repr(value)
        )
    number = float(value)
    if not math.isfinite(number):
        raise MeasurementOutOfRange(
            f"{field}={number} is not a finite number; send {unit}", field=field, value=str(number)
        )
    return number


#: Units a centimetre value is often mistaken for, in the order they are tried:
#: (name, symbol, cm per unit). Feet only make sense for a height.
_CM_LOOKALIKES: tuple[tuple[str, str, float], ...] = (
    ("inches", "in", CM_PER_INCH),
    ("millimetres", "mm", 0.1),
    ("metres", "m", 100.0),
)
_FEET = ("feet", "ft", 30.48)


def check_length_cm(zone: Zone, value_cm: float, *, field: str | None = None) -> float:
    """Return ``value_cm`` if it is a plausible adult ``zone`` in cm; else raise.

    LikelyWrongUnit when the number would be plausible in inches, millimetres or metres
    (or feet, for a height), tried in that order; MeasurementOutOfRange otherwise.
    Never converts.
    """
    name = field or f"{zone.value}_cm"
    plausible = PLAUSIBLE_CM[zone]
    number = _check_number(name, value_cm, "centimetres")
    if plausible.contains(number):
        return number
    details = {
        "field": name,
        "value": number,
        "unit_expected": "cm",
        "plausible_min": plausible.min_value,
        "plausible_max": plausible.max_value,
    }
    lookalikes = _CM_LOOKALIKES + ((_FEET,) if zone is Zone.height else ())
    for unit, symbol, cm_per_unit in lookalikes:
        as_cm = number * cm_per_unit
        if plausible.contains(as_cm):
            raise LikelyWrongUnit(
                f"{name}={number:g} looks like {unit} ({number:g} {symbol} = {as_cm:.1f} cm); "
                f"send centimetres (plausible {plausible.min_value:g}-"
                f"{plausible.max_value:g} cm)",
                likely_unit=symbol,
                **details,
            )
    raise MeasurementOutOfRange(
        f"{name}={number:g} cm is outside the plausible adult range "
        f"{plausible.min_value:g}-{plausible.max_value:g} cm; check the measurement",
        **details,
    )


def check_weight_kg(value_kg: float, *, field: str = "weight_kg") -> float:
    """Return ``value_kg`` if it is a plausible adult weight in kg; else raise.

    LikelyWrongUnit when the number would be plausible in pounds.
    """
    plausible = PLAUSIBLE_WEIGHT_KG
    number = _check_number(field, value_kg, "kilograms")
    if plausible.contains(number):
        return number
    details = {
        "field": field,
        "value": number,
        "unit_expected": "kg",
        "plausible_min": plausible.min_value,
        "plausible_max": plausible.max_value,
    }
    as_kg = number / LB_PER_KG
    if plausible.contains(as_kg):
        raise LikelyWrongUnit(
            f"{field}={number:g} looks like pounds ({number:g} lb = {as_kg:.1f} kg); "
            f"send kilograms (plausible {plausible.min_value:g}-{plausible.max_value:g} kg)",
            likely_unit="lb",
            **details,
        )
    raise MeasurementOutOfRange(
        f"{field}={number:g} kg is outside the plausible adult range "
        f"{plausible.min_value:g}-{plausible.max_value:g} kg; check the measurement",
        **details,
    )


def check_measurements(values_cm: Mapping[Zone, float]) -> dict[Zone, float]:
    """Check every measurement; return them as a plain dict (cm)."""
    return {zone: check_length_cm(zone, float(value)) for zone, value in values_cm.items()}
