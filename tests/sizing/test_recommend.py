"""The recommender: known answers, per-zone fit words, and monotonicity properties."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitroom.errors import NotEnoughMeasurements
from fitroom.sizing.charts import SizeChart
from fitroom.sizing.recommend import (
    Adjustment,
    FitLevel,
    FitPreference,
    ZoneValue,
    fit_level,
    recommend_size,
    recommended_size,
)
from fitroom.sizing.zones import Zone
from tests.conftest import MEN_JEANS, MEN_TOPS

TOPS = SizeChart.from_dict(MEN_TOPS)
JEANS = SizeChart.from_dict(MEN_JEANS)


def body(**values_cm: float) -> dict[Zone, ZoneValue]:
    return {Zone(k): ZoneValue(v, 1.0) for k, v in values_cm.items()}


def test_body_in_the_middle_of_m_gets_m_with_high_confidence() -> None:
    rec = recommend_size(TOPS, body(chest=100, waist=88))
    assert rec.size == "M"
    assert rec.confidence > 0.95
    assert rec.alternatives == ()
    assert [f.size for f in rec.fits] == ["M", "S", "L"]
    chest = rec.fits[0].zones[0]
    assert chest.zone is Zone.chest
    assert chest.fit is FitLevel.regular
    assert chest.ease_cm == 0.0  # 100 is M's middle
    assert "chest 100 cm sits in M's 96-104 range" in rec.reason


def test_neighbour_fits_say_tight_and_loose_with_ease() -> None:
    rec = recommend_size(TOPS, body(chest=100, waist=88))
    small = next(f for f in rec.fits if f.size == "S")
    large = next(f for f in rec.fits if f.size == "L")
    assert small.zones[0].fit is FitLevel.tight and small.zones[0].ease_cm == -8.0
    assert large.zones[0].fit is FitLevel.loose and large.zones[0].ease_cm == 8.0
    assert small.worst is FitLevel.tight


def test_top_of_range_is_snug_and_offers_the_bigger_size() -> None:
    rec = recommend_size(TOPS, body(chest=103.5, waist=91.5))
    assert rec.size in ("M", "L")
    sizes = {rec.size, *(a for a, _ in rec.alternatives)}
    assert sizes == {"M", "L"}, "two close sizes are both offered"
    m_fit = next(f for f in rec.fits if f.size == "M")
    assert m_fit.zones[0].fit is FitLevel.snug


def test_relaxed_preference_sizes_up_and_slim_sizes_down() -> None:
    measurements = body(chest=103, waist=90)
    assert recommend_size(TOPS, measurements, FitPreference.relaxed).size == "L"
    assert recommend_size(TOPS, measurements, FitPreference.regular).size == "M"
    assert recommend_size(TOPS, body(chest=97, waist=85), FitPreference.slim).size == "S"


def test_adjustment_of_one_size_moves_one_size() -> None:
    runs_small = Adjustment(source="product", steps=1.0, evidence="runs small")
    assert recommend_size(TOPS, body(chest=100, waist=88), adjustments=[runs_small]).size == "L"


def test_lengths_are_chosen_separately() -> None:
    rec = recommend_size(JEANS, body(waist=81, hip=97, inseam=85))
    assert rec.size == "W32 L34"
    assert rec.zones_used == (Zone.waist, Zone.hip, Zone.inseam)


def test_lengths_need_a_length_zone() -> None:
    with pytest.raises(NotEnoughMeasurements, match="inseam"):
        recommend_size(JEANS, body(waist=81, hip=97))


def test_no_usable_zone_is_an_error_naming_what_is_needed() -> None:
    with pytest.raises(NotEnoughMeasurements, match="chest, waist"):
        recommend_size(TOPS, body(hip=100))


def test_snug_fit_suggests_the_next_size_for_room() -> None:
    rec = recommend_size(TOPS, body(chest=102.5, waist=85))
    assert rec.size == "M"
    assert rec.reason.endswith("is at the top of M's 96-104 range, so if you like room take L.")


def test_spread_choices_list_several_alternatives() -> None:
    measurements = {
        Zone.waist: ZoneValue(84.0, 4.5, estimated=True),
        Zone.hip: ZoneValue(100.0, 2.5, estimated=True),
        Zone.inseam: ZoneValue(83.0, 2.5, estimated=True),
    }
    rec = recommend_size(JEANS, measurements)
    assert rec.confidence < 0.5
    assert 1 <= len(rec.alternatives) <= 3
    assert all(share < rec.confidence + 1e-9 for _, share in rec.alternatives)


def test_estimated_zones_are_named_in_the_reason() -> None:
    measurements = body(chest=100)
    measurements[Zone.waist] = ZoneValue(88.0, 6.0, estimated=True)
    rec = recommend_size(TOPS, measurements)
    assert rec.estimated_zones == (Zone.waist,)
    assert "Waist was estimated" in rec.reason


def test_fit_level_words() -> None:
    assert fit_level(105, 96, 104, 8) is FitLevel.tight
    assert fit_level(102, 96, 104, 8) is FitLevel.snug
    assert fit_level(97, 96, 104, 8) is FitLevel.regular
    assert fit_level(90, 96, 104, 8) is FitLevel.loose
    assert fit_level(85, 96, 104, 8) is FitLevel.oversized
    # With narrow steps (denim waists) a few cm of room is loose, not oversized.
    assert fit_level(86, 89, 94, 2.5) is FitLevel.loose
    assert fit_level(82, 89, 94, 2.5) is FitLevel.oversized


# -- properties ------------------------------------------------------------------------


@st.composite
def charts(draw: st.DrawFn) -> SizeChart:
    """Random valid charts: 2-7 sizes, rising ranges of random widths, 1-3 zones."""
    zones = draw(
        st.lists(st.sampled_from([Zone.chest, Zone.waist, Zone.hip]), min_size=1, max_size=3)
    )
    zones = list(dict.fromkeys(zones))
    n_sizes = draw(st.integers(2, 7))
    rows: list[dict[str, Any]] = [{"label": f"S{i}"} for i in range(n_sizes)]
    for zone in zones:
        low = draw(st.floats(70, 90))
        for row in rows:
            width = draw(st.floats(2, 12))
            gap = draw(st.floats(-1, 1))  # small overlaps and gaps happen in real charts
            row[zone.value] = [round(low, 1), round(low + width, 1)]
            low = low + width + gap
    # Ranges must still rise: enforce by sorting the bounds.
    for zone in zones:
        lows = sorted(r[zone.value][0] for r in rows)
        highs = sorted(r[zone.value][1] for r in rows)
        for row, lo, hi in zip(rows, lows, highs, strict=True):
            row[zone.value] = [lo, max(hi, lo + 0.5)]
        for prev, row in itertools.pairwise(rows):
            row[zone.value][1] = max(row[zone.value][1], prev[zone.value][1] + 0.1)
    return SizeChart.from_dict(
        {
            "chart_id": "random",
            "brand_id": "b",
            "category": draw(st.sampled_from(["tops", "dresses", "trousers", "outerwear"])),
            "sex": "female",
            "sizes": rows,
        }
    )


@settings(max_examples=150, deadline=None)
@given(
    chart=charts(),
    base=st.lists(st.floats(60, 140), min_size=3, max_size=3),
    growth=st.lists(st.floats(0, 15), min_size=3, max_size=3),
    preference=st.sampled_from(list(FitPreference)),
)
def test_a_larger_body_never_gets_a_smaller_size(
    chart: SizeChart, base: list[float], growth: list[float], preference: FitPreference
) -> None:
    zones = chart.size_zones
    small = {z: ZoneValue(base[i], 1.0) for i, z in enumerate(zones)}
    large = {z: ZoneValue(base[i] + growth[i], 1.0) for i, z in enumerate(zones)}
    small_size = recommend_size(chart, small, preference).size
    large_size = recommend_size(chart, large, preference).size
    assert chart.size_labels.index(large_size) >= chart.size_labels.index(small_size)


@settings(max_examples=150, deadline=None)
@given(chart=charts(), values=st.lists(st.floats(40, 200), min_size=3, max_size=3))
def test_the_recommended_size_is_always_on_the_chart(chart: SizeChart, values: list[float]) -> None:
    measurements = {z: ZoneValue(values[i], 1.5) for i, z in enumerate(chart.size_zones)}
    rec = recommend_size(chart, measurements)
    assert rec.size in chart.size_labels
    assert all(alt in chart.size_labels for alt, _ in rec.alternatives)
    assert 0.0 <= rec.confidence <= 1.0


@settings(max_examples=100, deadline=None)
@given(
    chart=charts(),
    values=st.lists(st.floats(40, 200), min_size=3, max_size=3),
    preference=st.sampled_from(list(FitPreference)),
    steps=st.floats(-1.5, 1.5),
)
def test_recommended_size_is_the_size_recommend_size_picks(
    chart: SizeChart, values: list[float], preference: FitPreference, steps: float
) -> None:
    body = {z: ZoneValue(values[i], 1.5) for i, z in enumerate(chart.size_zones)}
    adjustments = [Adjustment("product", steps, "test")]
    full = recommend_size(chart, body, preference, adjustments)
    assert recommended_size(chart, body, preference, adjustments) == full.size


def test_recommended_size_with_lengths_and_missing_zones() -> None:
    measured = body(waist=81, inseam=85)
    assert recommended_size(JEANS, measured) == recommend_size(JEANS, measured).size == "W32 L34"
    with pytest.raises(NotEnoughMeasurements):
        recommended_size(JEANS, body(waist=81))
