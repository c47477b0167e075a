"""Unit mix-ups are caught, never converted silently; charts are validated."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitroom.errors import InvalidSizeChart, LikelyWrongUnit, MeasurementOutOfRange, UnknownSize
from fitroom.sizing.charts import SizeChart
from fitroom.sizing.units import check_length_cm, check_weight_kg, to_cm
from fitroom.sizing.zones import PLAUSIBLE_CM, Zone
from tests.conftest import MEN_JEANS, MEN_TOPS


def test_a_waist_of_32_is_inches_not_cm() -> None:
    with pytest.raises(LikelyWrongUnit) as info:
        check_length_cm(Zone.waist, 32)
    assert "looks like inches" in info.value.message
    assert "81.3 cm" in info.value.message
    assert info.value.details["field"] == "waist_cm"


def test_height_in_metres_and_feet_are_named() -> None:
    with pytest.raises(LikelyWrongUnit, match="metres"):
        check_length_cm(Zone.height, 1.78)
    with pytest.raises(LikelyWrongUnit, match="feet"):
        check_length_cm(Zone.height, 5.9)


def test_a_chest_of_900_is_millimetres() -> None:
    with pytest.raises(LikelyWrongUnit, match=r"millimetres \(900 mm = 90.0 cm\)"):
        check_length_cm(Zone.chest, 900)


def test_weight_in_pounds_is_named() -> None:
    with pytest.raises(LikelyWrongUnit, match="pounds"):
        check_weight_kg(300)


def test_nonsense_is_out_of_range_not_a_unit_guess() -> None:
    with pytest.raises(MeasurementOutOfRange) as info:
        check_length_cm(Zone.chest, 400)
    assert not isinstance(info.value, LikelyWrongUnit)
    with pytest.raises(MeasurementOutOfRange):
        check_length_cm(Zone.chest, float("nan"))
    with pytest.raises(MeasurementOutOfRange):
        check_length_cm(Zone.chest, -90)


@given(zone=st.sampled_from(list(Zone)), inches=st.floats(1, 100))
def test_no_inch_value_passes_as_cm_silently(zone: Zone, inches: float) -> None:
    """Any value that is plausible as inches but not as cm is refused."""
    plausible = PLAUSIBLE_CM[zone]
    if plausible.contains(inches) or not plausible.contains(to_cm(inches, "in")):
        return
    with pytest.raises(LikelyWrongUnit):
        check_length_cm(zone, inches)


def test_explicit_inches_convert() -> None:
    assert check_length_cm(Zone.waist, to_cm(32, "in")) == pytest.approx(81.28)


def test_chart_round_trip_and_labels() -> None:
    chart = SizeChart.from_dict(MEN_JEANS)
    assert SizeChart.from_dict(chart.to_dict()) == chart
    assert "W32 L34" in chart.full_labels()
    assert chart.split_label("W32 L34") == (1, 2)
    with pytest.raises(UnknownSize, match="W33 L34"):
        chart.split_label("W33 L34")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c["sizes"].reverse(), "ordered small to large"),
        (lambda c: c["sizes"][1].pop("waist"), "same zones"),
        (lambda c: c["sizes"][0].update(chest=[96, 88]), "min < max"),
        (lambda c: c["sizes"][0].update(chest=[35, 38]), "charts are in centimetres"),
        (lambda c: c["sizes"][0].update(shoe=[1, 2]), "unknown zone 'shoe'"),
        (lambda c: c.update(category="hats"), "category 'hats'"),
        (lambda c: c.update(sizes=[]), "no sizes"),
        (lambda c: c["sizes"][1].update(label="S"), "duplicate size labels"),
    ],
)
def test_bad_charts_are_refused_with_a_specific_message(mutate: object, message: str) -> None:
    data = copy.deepcopy(MEN_TOPS)
    mutate(data)  # type: ignore[operator]
    with pytest.raises(InvalidSizeChart, match=message):
        SizeChart.from_dict(data)
