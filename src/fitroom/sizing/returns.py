"""Learning size offsets from returns.

A product that "runs small" fits as if its size ranges were lower than the chart
says. We estimate that shift ``delta`` (in size steps; positive: runs small, so size
up) from the purchases of the product and what happened to them (kept, returned too
small, returned too large), by maximum a-posteriori over a grid:

    x      continuous position of the body on the chart (size k covers [k, k+1))
    x_eff  = x + delta (+ known offsets)
    P(too small | bought k) = sigmoid((x_eff - (k + 1)) / tau)
    P(too large | bought k) = sigmoid(((k - LOOSE_SLACK) - x_eff) / tau)
    P(kept) = the rest;       prior: delta ~ Normal(0, prior_sd)

When the body of a buyer is not known (no stored measurements), ``x`` is taken as
uniform over the bought size shifted back by the offset fitroom used when the
purchase was made (learned from the purchases before it): the buyer is assumed to
have followed the recommendation.
The same estimator, with the product offsets held fixed, learns a shopper's personal
offset from that shopper's returns across products (someone who measures loosely).
Returns for other reasons say nothing about size and are ignored.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fitroom.sizing.charts import SizeChart
from fitroom.sizing.recommend import ZONE_WEIGHT_DEFAULT, ZONE_WEIGHTS, ZoneValue
from fitroom.sizing.zones import Zone

TAU_STEPS = 0.2
LOOSE_SLACK_STEPS = 0.35
GRID_STEPS = np.linspace(-2.5, 2.5, 251)
_UNIFORM_POSITIONS = np.linspace(0.05, 0.95, 10)


class Outcome(enum.StrEnum):
    kept = "kept"
    too_small = "too_small"
    too_large = "too_large"


@dataclass(frozen=True)
class Purchase:
    """One purchase of one size, with the buyer's body position if known."""

    size_index: int
    outcome: Outcome
    #: Continuous chart position of the buyer's body (size k covers [k, k+1)), if known.
    body_position: float | None = None
    #: Offset already known for this purchase (the product's, when learning a shopper's).
    known_offset_steps: float = 0.0


@dataclass(frozen=True)
class OffsetEstimate:
    """What returns taught: an offset in size steps and the evidence behind it."""

    offset_steps: float
    purchases: int
    returned_too_small: int
    returned_too_large: int

    @property
    def evidence(self) -> str:
        return (
            f"{self.purchases} purchases, {self.returned_too_small} returned too small, "
            f"{self.returned_too_large} too large"
        )


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    result: NDArray[np.float64] = 0.5 * (1.0 + np.tanh(0.5 * x))
    return result


def outcome_probabilities(
    size_index: int, effective_position: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """P(kept), P(too small), P(too large) for bodies at ``effective_position``."""
    p_small = _sigmoid((effective_position - (size_index + 1.0)) / TAU_STEPS)
    p_large = _sigmoid(((size_index - LOOSE_SLACK_STEPS) - effective_position) / TAU_STEPS)
    p_kept = np.clip(1.0 - p_small - p_large, 1e-6, 1.0)
    return p_kept, p_small, p_large


def estimate_offset(
    purchases: Sequence[Purchase],
    *,
    prior_sd_steps: float = 0.5,
    max_offset_steps: float = 2.0,
) -> OffsetEstimate:
    """MAP estimate of the size offset that explains these purchases' outcomes.

    ``purchases`` must be in time order. A buyer whose body is unknown is assumed to
    have bought what fitroom recommended at the time, i.e. with the offset learned
    from the purchases before theirs: their body sat uniformly inside the bought size
    shifted back by that offset. So once fitroom sizes up, kept purchases of the
    bigger size confirm the offset instead of pulling it back to zero.
    """
    grid = GRID_STEPS[np.abs(GRID_STEPS) <= max_offset_steps + 1e-9]
    log_post = -0.5 * (grid / prior_sd_steps) ** 2
    small = large = 0
    for purchase in purchases:
        if purchase.body_position is None:
            offset_then = float(grid[int(np.argmax(log_post))])
            effective = (
                purchase.size_index + _UNIFORM_POSITIONS[None, :] + grid[:, None] - offset_then
            )
        else:
            effective = (
                np.array([[purchase.body_position]]) + purchase.known_offset_steps + grid[:, None]
            )  # (G, P)
        p_kept, p_small, p_large = outcome_probabilities(purchase.size_index, effective)
        chosen = {
            Outcome.kept: p_kept,
            Outcome.too_small: p_small,
            Outcome.too_large: p_large,
        }[purchase.outcome]
        log_post += np.log(np.clip(chosen.mean(axis=1), 1e-9, 1.0))
        small += purchase.outcome is Outcome.too_small
        large += purchase.outcome is Outcome.too_large
    best = float(grid[int(np.argmax(log_post))])
    return OffsetEstimate(
        offset_steps=round(best, 3),
        purchases=len(purchases),
        returned_too_small=small,
        returned_too_large=large,
    )


def body_position(chart: SizeChart, body: Mapping[Zone, ZoneValue]) -> float | None:
    """Continuous position of a body on the chart's sizes (size k covers [k, k+1)).

    Weighted mean over the zones the chart sizes by (weights as in recommend.py);
    None when the body has none of them.
    """
    table = ZONE_WEIGHTS.get(chart.category, {})
    total = weight_sum = 0.0
    for zone in chart.size_zones:
        if zone not in body:
            continue
        weight = table.get(zone, ZONE_WEIGHT_DEFAULT)
        total += weight * zone_position(chart, zone, body[zone].value_cm)
        weight_sum += weight
    return total / weight_sum if weight_sum else None


def zone_position(chart: SizeChart, zone: Zone, value_cm: float) -> float:
    """Position of one zone's value on the chart, extrapolated past the ends by step."""
    rows = chart.sizes
    first, last = rows[0].ranges[zone], rows[-1].ranges[zone]
    if value_cm < first.min_cm:
        return (value_cm - first.min_cm) / chart.step_cm(zone)
    for index, row in enumerate(rows):
        body_range = row.ranges[zone]
        if value_cm < body_range.max_cm:
            return index + max(0.0, value_cm - body_range.min_cm) / body_range.width_cm
    return len(rows) + (value_cm - last.max_cm) / chart.step_cm(zone)
