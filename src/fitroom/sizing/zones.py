"""Body zones a size chart can cover, and the plausible adult range of each.

Definitions follow ISO 8559-1:2017 (body dimensions for clothing):

- ``chest``: chest girth (men, 5.3.4) or bust girth (women, 5.3.5), horizontal over
  the most prominent point.
- ``waist``: waist girth (5.3.10), at the natural waist between the lowest rib and the
  top of the hip bone.
- ``hip``: hip girth (5.3.13), horizontal at the greatest buttock prominence.
- ``inseam``: inside leg length (5.1.15), crotch to floor.
- ``neck``: neck base girth (5.3.2), where a collar sits.
- ``sleeve``: arm length from the back-neck point over the shoulder to the wrist
  (the "sleeve length" of shirt charts; ANSUR II ``sleevelengthspinewrist``).
- ``height``: stature (5.1.1).

The plausible ranges are wide (about the 0.1th to 99.9th percentile of adults in
ANSUR II and NHANES, widened) and exist to catch unit mix-ups, not to judge bodies.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Sex(enum.StrEnum):
    """Sex used by size charts and the measurement model."""

    male = "male"
    female = "female"


class Zone(enum.StrEnum):
    """A body dimension that a size chart covers, in centimetres."""

    chest = "chest"
    waist = "waist"
    hip = "hip"
    inseam = "inseam"
    neck = "neck"
    sleeve = "sleeve"
    height = "height"

    @property
    def label(self) -> str:
        """Shopper-facing name of the zone."""
        return _LABELS[self]


_LABELS = {
    Zone.chest: "chest",
    Zone.waist: "waist",
    Zone.hip: "hip",
    Zone.inseam: "inside leg",
    Zone.neck: "neck",
    Zone.sleeve: "sleeve",
    Zone.height: "height",
}

#: Girth zones: a garment that is too small there feels tight.
GIRTH_ZONES: frozenset[Zone] = frozenset({Zone.chest, Zone.waist, Zone.hip, Zone.neck})
#: Length zones: a garment too short there is short, not tight.
LENGTH_ZONES: frozenset[Zone] = frozenset({Zone.inseam, Zone.sleeve, Zone.height})

CM_PER_INCH = 2.54
LB_PER_KG = 2.2046226218


@dataclass(frozen=True)
class PlausibleRange:
    """Range of a body dimension that an adult can have, in cm (or kg for weight)."""

    min_value: float
    max_value: float

    def contains(self, value: float) -> bool:
        return self.min_value <= value <= self.max_value


PLAUSIBLE_CM: dict[Zone, PlausibleRange] = {
    Zone.chest: PlausibleRange(60.0, 175.0),
    Zone.waist: PlausibleRange(48.0, 175.0),
    Zone.hip: PlausibleRange(65.0, 180.0),
    Zone.inseam: PlausibleRange(55.0, 105.0),
    Zone.neck: PlausibleRange(26.0, 60.0),
    Zone.sleeve: PlausibleRange(60.0, 105.0),
    Zone.height: PlausibleRange(130.0, 220.0),
}
PLAUSIBLE_WEIGHT_KG = PlausibleRange(30.0, 250.0)
