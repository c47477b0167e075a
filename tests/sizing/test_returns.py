"""Returns learning: the estimator recovers a known offset from simulated outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from fitroom.sizing.charts import SizeChart
from fitroom.sizing.recommend import ZoneValue
from fitroom.sizing.returns import (
    Outcome,
    Purchase,
    body_position,
    estimate_offset,
    outcome_probabilities,
    zone_position,
)
from fitroom.sizing.zones import Zone
from tests.conftest import MEN_TOPS


def simulate(true_offset: float, n: int, seed: int, known_body: bool) -> list[Purchase]:
    """Buyers follow the recommendation made with the offset learned so far."""
    rng = np.random.default_rng(seed)
    purchases: list[Purchase] = []
    learned = 0.0
    for i in range(n):
        position = float(rng.uniform(1, 5))
        size = int(np.floor(position + learned))
        p_kept, p_small, p_large = outcome_probabilities(size, np.array([position + true_offset]))
        probs = np.array([p_kept[0], p_small[0], p_large[0]])
        outcome = [Outcome.kept, Outcome.too_small, Outcome.too_large][
            int(rng.choice(3, p=probs / probs.sum()))
        ]
        purchases.append(Purchase(size, outcome, position if known_body else None))
        if i % 10 == 9:
            learned = estimate_offset(purchases).offset_steps
    return purchases


@pytest.mark.parametrize("true_offset", [-1.0, 0.0, 0.5, 1.0])
@pytest.mark.parametrize("known_body", [True, False])
def test_offset_is_recovered(true_offset: float, known_body: bool) -> None:
    estimate = estimate_offset(simulate(true_offset, 300, seed=1, known_body=known_body))
    assert estimate.offset_steps == pytest.approx(true_offset, abs=0.2)


def test_no_evidence_means_no_offset() -> None:
    assert estimate_offset([]).offset_steps == 0.0


def test_few_returns_move_the_offset_only_a_little() -> None:
    one = estimate_offset([Purchase(2, Outcome.too_small, None)])
    many = estimate_offset([Purchase(2, Outcome.too_small, None)] * 20)
    assert 0 < one.offset_steps < many.offset_steps
    assert one.offset_steps < 0.6


def test_positions_on_the_chart() -> None:
    chart = SizeChart.from_dict(MEN_TOPS)
    assert zone_position(chart, Zone.chest, 88) == 0.0
    assert zone_position(chart, Zone.chest, 100) == pytest.approx(1.5)
    assert zone_position(chart, Zone.chest, 80) == pytest.approx(-1.0)
    assert zone_position(chart, Zone.chest, 132) == pytest.approx(5.0)
    mid_m = {Zone.chest: ZoneValue(100, 1), Zone.waist: ZoneValue(88, 1)}
    assert body_position(chart, mid_m) == pytest.approx(1.5)
    assert body_position(chart, {Zone.hip: ZoneValue(100, 1)}) is None
