"""The loose-top detector: logistic regression with known answers, saving, the threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fitroom.body.loose_top import (
    LooseTopDetector,
    fit_logistic,
    load_loose_top_detector,
    shipped_detector_dir,
)
from fitroom.body.measure_model import load_measurement_model
from fitroom.errors import InputError


def test_logistic_regression_recovers_a_known_boundary() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 3))
    # P(y) = sigmoid(2 x0 - x1 + 0.5): x2 is noise.
    p = 1 / (1 + np.exp(-(2 * x[:, 0] - x[:, 1] + 0.5)))
    y = rng.random(4000) < p
    mean, std, coef, intercept = fit_logistic(x, y, l2=1e-3)
    raw = coef / std  # back to unstandardised units
    assert raw == pytest.approx([2.0, -1.0, 0.0], abs=0.15)
    assert intercept - float((coef * mean / std).sum()) == pytest.approx(0.5, abs=0.12)


def test_stronger_l2_shrinks_the_weights() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 2))
    y = x[:, 0] + 0.3 * rng.normal(size=500) > 0
    weak = fit_logistic(x, y, l2=0.01)[2]
    strong = fit_logistic(x, y, l2=100.0)[2]
    assert np.abs(strong).sum() < 0.5 * np.abs(weak).sum()


def test_bad_training_data_is_refused() -> None:
    with pytest.raises(InputError, match="both classes"):
        fit_logistic(np.ones((5, 2)), np.zeros(5, dtype=bool))
    with pytest.raises(InputError, match="rows x features"):
        fit_logistic(np.ones((5, 2)), np.zeros(4, dtype=bool))


def test_saved_detector_loads_equal_and_checks_its_input_size(tmp_path: Path) -> None:
    detector = LooseTopDetector(
        "front", np.zeros(2), np.ones(2), np.array([1.0, -1.0]), 0.0, 0.7, {"note": "x"}
    )
    detector.save(tmp_path / "front")
    loaded = LooseTopDetector.load(tmp_path / "front")
    rows = np.array([[2.0, 0.0], [0.0, 2.0], [0.5, 0.0]])
    assert loaded.probability(rows) == pytest.approx(detector.probability(rows))
    assert loaded.probability(rows)[0] == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert loaded.flags(rows).tolist() == [True, False, False]  # threshold 0.7
    assert loaded.config["note"] == "x"
    with pytest.raises(InputError, match="takes 2 inputs"):
        loaded.probability(np.ones((1, 3)))
    assert load_loose_top_detector("front", tmp_path / "missing") is None


@pytest.mark.parametrize("variant", ["front", "front_side"])
def test_shipped_detectors_match_the_measurement_models_inputs(variant: str) -> None:
    detector = load_loose_top_detector(variant)
    if detector is None:
        pytest.skip(f"no loose-top detector ships in {shipped_detector_dir()}")
    model = load_measurement_model(variant)
    assert detector.input_mean.shape == (model.input_size,)
    figures = detector.config["figures"]
    # Held out: most loose tops are caught, few tight ones flagged.
    assert figures["held_out_tight_flagged"] <= 0.08
    assert figures["held_out_loose_flagged"] >= 0.5
