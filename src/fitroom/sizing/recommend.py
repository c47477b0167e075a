"""Recommend a size from body measurements and a size chart, and say why.

How a size is chosen
--------------------
For each size and each zone the chart covers, the shopper's body value ``b`` (shifted
by the fit preference and by what returns taught, see below) is compared with the size's
body range ``[lo, hi]``, in units of the chart's size step for that zone:

    cost = w_zone * ( T((b - hi) / step) + L((lo - b) / step) )
    T(u) = W_TIGHT * max(0, u + m)^2     L(u) = W_LOOSE * max(0, u + m)^2

T and L are convex and non-decreasing, ``m`` keeps a little room from both edges, and
tight costs more than loose. Because every chart's ranges rise with the size, the cost
has increasing differences in (size, body): a larger body never gets a smaller size
(Topkis' monotonicity theorem; the smallest minimiser is taken on ties). The same holds
for lengths (trousers ``W32 L34``), which are chosen separately.

Confidence is the share of plausible bodies (measurement noise, or the estimator's
uncertainty for estimated zones) that get the recommended size; when another size gets
a sizeable share, it is offered too.

Fit words per zone (body ``b`` against the size's range ``[lo, hi]``, width ``w``):
``tight`` b > hi; ``snug`` in the top third; ``regular`` in the rest of the range;
``loose`` below lo by at most one size step (and at least 6 cm); ``oversized`` further
below.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import NotEnoughMeasurements
from fitroom.sizing.charts import Category, SizeChart, SizeRow, join_label
from fitroom.sizing.zones import GIRTH_ZONES, Zone


class FitPreference(enum.StrEnum):
    """How the shopper likes clothes to sit."""

    slim = "slim"
    regular = "regular"
    relaxed = "relaxed"


class FitLevel(enum.StrEnum):
    """How one zone of one size will sit on the body."""

    tight = "tight"
    snug = "snug"
    regular = "regular"
    loose = "loose"
    oversized = "oversized"


#: Body shift per preference, in size steps: relaxed shops as if a little bigger.
PREFERENCE_SHIFT_STEPS: dict[FitPreference, float] = {
    FitPreference.slim: -0.3,
    FitPreference.regular: 0.0,
    FitPreference.relaxed: 0.35,
}

#: How much each zone decides the size, per category (others weigh ZONE_WEIGHT_DEFAULT).
ZONE_WEIGHTS: dict[Category, dict[Zone, float]] = {
    Category.tops: {Zone.chest: 1.0, Zone.waist: 0.5, Zone.hip: 0.35, Zone.neck: 0.7},
    Category.outerwear: {Zone.chest: 1.0, Zone.waist: 0.5, Zone.hip: 0.4, Zone.neck: 0.3},
    Category.dresses: {Zone.chest: 1.0, Zone.waist: 0.8, Zone.hip: 0.9},
    Category.trousers: {Zone.waist: 1.0, Zone.hip: 0.9},
}
ZONE_WEIGHT_DEFAULT = 0.3

W_TIGHT = 3.0
W_LOOSE = 1.0
EDGE_MARGIN_STEPS = 0.2
#: Repeatability of a tape measurement taken by a shopper (cm, 1 sd): ISO 20685-1
#: allows 1 cm for girths under trained measurers; self-measurement is worse.
SELF_MEASURED_SD_CM: dict[Zone, float] = {
    Zone.chest: 1.5,
    Zone.waist: 1.5,
    Zone.hip: 1.5,
    Zone.neck: 0.8,
    Zone.inseam: 1.5,
    Zone.sleeve: 1.5,
    Zone.height: 0.7,
}
N_SAMPLES = 400
ALTERNATIVE_MIN_SHARE = 0.2
#: Below a size's range by more than one size step AND this much is 'oversized'.
OVERSIZED_MIN_CM = 6.0
ALTERNATIVE_FLOOR_SHARE = 0.05
MAX_ALTERNATIVES = 3


@dataclass(frozen=True)
class ZoneValue:
    """A body measurement with its uncertainty and where it came from."""

    value_cm: float
    sd_cm: float
    estimated: bool = False


@dataclass(frozen=True)
class ZoneFit:
    """How one zone of one size sits on this body."""

    zone: Zone
    body_cm: float
    size_min_cm: float
    size_max_cm: float
    #: Middle of the size's body range minus the body: room (+) or lack of it (-).
    ease_cm: float
    fit: FitLevel
    estimated: bool


@dataclass(frozen=True)
class SizeFit:
    """Per-zone fit of one size (a full label, lengths included)."""

    size: str
    zones: tuple[ZoneFit, ...]

    @property
    def worst(self) -> FitLevel:
        order = [FitLevel.regular, FitLevel.snug, FitLevel.loose, FitLevel.oversized]
        levels = [z.fit for z in self.zones]
        if FitLevel.tight in levels:
            return FitLevel.tight
        return max(levels, key=order.index) if levels else FitLevel.regular


@dataclass(frozen=True)
class Adjustment:
    """A shift of the body, in size steps, that returns taught (positive: size up)."""

    source: str  # "product" or "shopper"
    steps: float
    evidence: str


@dataclass(frozen=True)
class Recommendation:
    """A recommended size, how it and its neighbours fit, and why."""

    chart_id: str
    size: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]
    fits: tuple[SizeFit, ...]
    reason: str
    preference: FitPreference
    zones_used: tuple[Zone, ...]
    estimated_zones: tuple[Zone, ...]
    adjustments: tuple[Adjustment, ...] = field(default_factory=tuple)


def recommend_size(
    chart: SizeChart,
    body: Mapping[Zone, ZoneValue],
    preference: FitPreference = FitPreference.regular,
    adjustments: Sequence[Adjustment] = (),
    *,
    seed: int = 0,
) -> Recommendation:
    """Pick the size of ``chart`` for ``body``; see the module docstring for how."""
    size_zones, length_zones = _usable_zones(chart, body)
    offset_steps = PREFERENCE_SHIFT_STEPS[preference] + sum(a.steps for a in adjustments)
    rng = np.random.default_rng(seed)

    size_index, size_share, size_votes = _choose(
        chart, chart.sizes, size_zones, body, offset_steps, rng
    )
    length_index: int | None = None
    length_votes: NDArray[np.int64] | None = None
    joint_share = size_share
    if chart.lengths:
        # Preferences and returns concern girth; a length is a length.
        length_index, _, length_votes = _choose(chart, chart.lengths, length_zones, body, 0.0, rng)
        joint_share = float(np.mean((size_votes == size_index) & (length_votes == length_index)))

    label = _label(chart, size_index, length_index)
    votes = [
        _label(chart, int(s), None if length_votes is None else int(length_votes[i]))
        for i, s in enumerate(size_votes)
    ]
    alternatives = _alternatives(votes, label)
    fits = _neighbour_fits(chart, body, size_index, length_index, size_zones + length_zones)
    estimated = tuple(z for z in size_zones + length_zones if body[z].estimated)
    reason = explain(
        chart, fits, label, alternatives, preference, adjustments, estimated, size_index
    )
    return Recommendation(
        chart_id=chart.chart_id,
        size=label,
        confidence=round(joint_share, 3),
        alternatives=alternatives,
        fits=fits,
        reason=reason,
        preference=preference,
        zones_used=tuple(size_zones + length_zones),
        estimated_zones=estimated,
        adjustments=tuple(adjustments),
    )


def recommended_size(
    chart: SizeChart,
    body: Mapping[Zone, ZoneValue],
    preference: FitPreference = FitPreference.regular,
    adjustments: Sequence[Adjustment] = (),
) -> str:
    """The size :func:`recommend_size` picks, without its confidence, alternatives, fits
    and reason: the same cost minimum, some 20 times faster, for ranking many products
    against one body."""
    size_zones, length_zones = _usable_zones(chart, body)
    offset_steps = PREFERENCE_SHIFT_STEPS[preference] + sum(a.steps for a in adjustments)
    size_index = _best(chart, chart.sizes, size_zones, body, offset_steps)
    length_index = _best(chart, chart.lengths, length_zones, body, 0.0) if chart.lengths else None
    return _label(chart, size_index, length_index)


def _usable_zones(
    chart: SizeChart, body: Mapping[Zone, ZoneValue]
) -> tuple[list[Zone], list[Zone]]:
    """The chart's size and length zones that the body has; refused if it lacks either."""
    size_zones = [z for z in chart.size_zones if z in body]
    length_zones = [z for z in chart.length_zones if z in body]
    if not size_zones:
        raise NotEnoughMeasurements(
            f"chart {chart.chart_id!r} sizes by {', '.join(z.value for z in chart.size_zones)}; "
            "send at least one of these (or height, weight and sex to estimate them)",
            chart_id=chart.chart_id,
            needed=[z.value for z in chart.size_zones],
        )
    if chart.lengths and not length_zones:
        raise NotEnoughMeasurements(
            f"chart {chart.chart_id!r} sells lengths by "
            f"{', '.join(z.value for z in chart.length_zones)}; send it (or your height)",
            chart_id=chart.chart_id,
            needed=[z.value for z in chart.length_zones],
        )
    return size_zones, length_zones


def size_costs(
    chart: SizeChart,
    rows: Sequence[SizeRow],
    zones: Sequence[Zone],
    body_cm: NDArray[np.float64],
    offset_steps: float,
    weights: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Cost of each size for each body: ``body_cm`` is (n_bodies, n_zones) -> (n, n_sizes)."""
    lows = np.array([[row.ranges[z].min_cm for z in zones] for row in rows])  # (S, Z)
    highs = np.array([[row.ranges[z].max_cm for z in zones] for row in rows])
    steps = np.array([chart.step_cm(z) for z in zones])  # (Z,)
    shifted = body_cm + offset_steps * steps  # (n, Z)
    over = (shifted[:, None, :] - highs[None]) / steps + EDGE_MARGIN_STEPS  # (n, S, Z)
    under = (lows[None] - shifted[:, None, :]) / steps + EDGE_MARGIN_STEPS
    cost = W_TIGHT * np.maximum(over, 0.0) ** 2 + W_LOOSE * np.maximum(under, 0.0) ** 2
    result: NDArray[np.float64] = (cost * weights).sum(axis=2)
    return result


def _zone_weights(
    chart: SizeChart, zones: Sequence[Zone], body: Mapping[Zone, ZoneValue]
) -> NDArray[np.float64]:
    table = ZONE_WEIGHTS.get(chart.category, {})
    weights = []
    for zone in zones:
        weight = table.get(zone, ZONE_WEIGHT_DEFAULT)
        # An uncertain measurement decides less (constant across sizes: monotonicity
        # is kept). sd of one size step halves the weight.
        reliability = 1.0 / (1.0 + (body[zone].sd_cm / chart.step_cm(zone)) ** 2)
        weights.append(weight * reliability)
    return np.array(weights)


def _choose(
    chart: SizeChart,
    rows: Sequence[SizeRow],
    zones: Sequence[Zone],
    body: Mapping[Zone, ZoneValue],
    offset_steps: float,
    rng: np.random.Generator,
) -> tuple[int, float, NDArray[np.int64]]:
    """Best row for the body, the share of plausible bodies that agree, and their votes."""
    best = _best(chart, rows, zones, body, offset_steps)
    weights = _zone_weights(chart, zones, body)
    point = np.array([[body[z].value_cm for z in zones]])
    sd = np.array([max(body[z].sd_cm, SELF_MEASURED_SD_CM.get(z, 1.0)) for z in zones])
    samples = point + rng.standard_normal((N_SAMPLES, len(zones))) * sd
    votes = np.argmin(size_costs(chart, rows, zones, samples, offset_steps, weights), axis=1)
    return best, float(np.mean(votes == best)), votes.astype(np.int64)


def _best(
    chart: SizeChart,
    rows: Sequence[SizeRow],
    zones: Sequence[Zone],
    body: Mapping[Zone, ZoneValue],
    offset_steps: float,
) -> int:
    """The row of least cost for the body as measured."""
    weights = _zone_weights(chart, zones, body)
    point = np.array([[body[z].value_cm for z in zones]])
    return int(np.argmin(size_costs(chart, rows, zones, point, offset_steps, weights)[0]))


def _label(chart: SizeChart, size_index: int, length_index: int | None) -> str:
    length = None if length_index is None else chart.lengths[length_index].label
    return join_label(chart.sizes[size_index].label, length)


def _alternatives(votes: Sequence[str], chosen: str) -> tuple[tuple[str, float], ...]:
    counts: dict[str, int] = {}
    for vote in votes:
        counts[vote] = counts.get(vote, 0) + 1
    shares = sorted(
        ((label, n / len(votes)) for label, n in counts.items() if label != chosen),
        key=lambda item: -item[1],
    )
    # A close size is one that plausible bodies pick often: 20% of them, or half as often
    # as the chosen size when the choice is spread thin (many W x L combinations).
    chosen_share = counts.get(chosen, 0) / len(votes)
    threshold = max(ALTERNATIVE_FLOOR_SHARE, min(ALTERNATIVE_MIN_SHARE, chosen_share / 2))
    return tuple(
        (label, round(share, 3)) for label, share in shares[:MAX_ALTERNATIVES] if share >= threshold
    )


def fit_level(body_cm: float, low_cm: float, high_cm: float, step_cm: float) -> FitLevel:
    """The fit word for a body value against a size's range (see module docstring)."""
    if body_cm > high_cm:
        return FitLevel.tight
    if body_cm >= low_cm + (high_cm - low_cm) * 2.0 / 3.0:
        return FitLevel.snug
    if body_cm >= low_cm:
        return FitLevel.regular
    if low_cm - body_cm <= max(step_cm, OVERSIZED_MIN_CM):
        return FitLevel.loose
    return FitLevel.oversized


def size_fit(
    chart: SizeChart,
    body: Mapping[Zone, ZoneValue],
    size_index: int,
    length_index: int | None,
    zones: Sequence[Zone],
) -> SizeFit:
    """Per-zone fit of one size (and length) for this body."""
    zone_fits = []
    for zone in zones:
        is_length = zone in chart.length_zones
        if is_length and length_index is None:
            continue
        row = chart.lengths[length_index] if is_length and length_index is not None else None
        row = row or chart.sizes[size_index]
        body_range = row.ranges[zone]
        value = body[zone].value_cm
        zone_fits.append(
            ZoneFit(
                zone=zone,
                body_cm=round(value, 1),
                size_min_cm=body_range.min_cm,
                size_max_cm=body_range.max_cm,
                ease_cm=round(body_range.mid_cm - value, 1),
                fit=fit_level(value, body_range.min_cm, body_range.max_cm, chart.step_cm(zone)),
                estimated=body[zone].estimated,
            )
        )
    return SizeFit(size=_label(chart, size_index, length_index), zones=tuple(zone_fits))


def _neighbour_fits(
    chart: SizeChart,
    body: Mapping[Zone, ZoneValue],
    size_index: int,
    length_index: int | None,
    zones: Sequence[Zone],
) -> tuple[SizeFit, ...]:
    """Fit of the recommended size first, then the next smaller and larger sizes."""
    fits = [size_fit(chart, body, size_index, length_index, zones)]
    for neighbour in (size_index - 1, size_index + 1):
        if 0 <= neighbour < len(chart.sizes):
            fits.append(size_fit(chart, body, neighbour, length_index, zones))
    return tuple(fits)


def _describe_zone(zone_fit: ZoneFit, size_label: str) -> str:
    value = f"{zone_fit.zone.label} {zone_fit.body_cm:g} cm"
    if zone_fit.estimated:
        value += " (estimated)"
    span = f"{zone_fit.size_min_cm:g}-{zone_fit.size_max_cm:g}"
    is_girth = zone_fit.zone in GIRTH_ZONES
    if zone_fit.fit is FitLevel.tight:
        word = "tight" if is_girth else "short"
        return f"{value} is above {size_label}'s {span} range, so it will be {word} there"
    if zone_fit.fit is FitLevel.snug:
        return f"{value} is at the top of {size_label}'s {span} range"
    if zone_fit.fit is FitLevel.regular:
        return f"{value} sits in {size_label}'s {span} range"
    word = "loose" if is_girth else "long"
    if zone_fit.fit is FitLevel.oversized:
        word = "very loose" if is_girth else "much too long"
    return f"{value} is below {size_label}'s {span} range, so it will be {word} there"


def explain(
    chart: SizeChart,
    fits: Sequence[SizeFit],
    label: str,
    alternatives: Sequence[tuple[str, float]],
    preference: FitPreference,
    adjustments: Sequence[Adjustment],
    estimated: Sequence[Zone],
    size_index: int,
) -> str:
    """A plain-language reason for the recommendation."""
    chosen = fits[0]
    weights = ZONE_WEIGHTS.get(chart.category, {})
    # Snug zones last, so "..., so if you like room take L" follows the zone it is about.
    ordered = sorted(
        chosen.zones,
        key=lambda zf: (zf.fit is FitLevel.snug, -weights.get(zf.zone, ZONE_WEIGHT_DEFAULT)),
    )
    size_label = chart.sizes[size_index].label
    parts = []
    for zone_fit in ordered:
        row_label = size_label if zone_fit.zone in chart.size_zones else label.split(" ")[-1]
        parts.append(_describe_zone(zone_fit, row_label))
    sentence = "; ".join(parts)
    if alternatives:
        other = alternatives[0][0]
        other_index = _size_order(chart, other)
        if other_index > size_index:
            sentence += f"; if you like room, take {other}"
        elif other_index < size_index:
            sentence += f"; if you like a closer fit, take {other}"
        else:
            sentence += f"; {other} is also close"
    elif size_index + 1 < len(chart.sizes) and any(
        zf.fit is FitLevel.snug and zf.zone in GIRTH_ZONES for zf in chosen.zones
    ):
        sentence += f", so if you like room take {chart.sizes[size_index + 1].label}"
    text = f"{label}: {sentence}."
    if preference is not FitPreference.regular:
        text += f" You asked for a {preference.value} fit, which we allowed for."
    for adjustment in adjustments:
        if abs(adjustment.steps) >= 0.05:
            text += f" {adjustment.evidence}"
    if estimated:
        names = ", ".join(z.label for z in estimated)
        text += (
            f" {names[0].upper()}{names[1:]} {'was' if len(estimated) == 1 else 'were'} "
            "estimated from your height and weight; measuring would make this surer."
        )
    return text


def _size_order(chart: SizeChart, label: str) -> int:
    size_index, _ = chart.split_label(label)
    return size_index
