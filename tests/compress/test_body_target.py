"""body_measure/<variant>: the torch twin equals the numpy model; the chain runs on it.

The twin is checked against the shipped models on inputs drawn around each model's own
input statistics (what real scans look like to it). The chain runs on a tiny model with
a known test error: it ignores weight and sex, so the four rows of a body predict the
same, and each true measurement is its prediction +/- 0.5 cm (MAE exactly 0.5 cm).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch

from fitroom.body.measure_model import (
    MEASUREMENTS,
    MeasurementModel,
    load_measurement_model,
    model_inputs,
)
from fitroom.compress.body_target import MeasurementNet
from fitroom.compress.cli import ToOpt, _compress
from fitroom.compress.targets import get_target, known_targets
from fitroom.errors import InputError
from tests.compress.tiny import DATA_DIR

#: Features per view in the scan data (``fitroom.body.features`` view vectors).
VIEW_FEATURES = 36


def realistic_rows(
    model: MeasurementModel, count: int, seed: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``model_inputs`` rows whose view features follow the model's input statistics."""
    rng = np.random.default_rng(seed)
    views = model.input_size - 5
    rows, heights = [], []
    for _ in range(count):
        features = model.input_mean[:views] + model.input_std[:views] * rng.normal(size=views)
        front, side = features[:VIEW_FEATURES], features[VIEW_FEATURES:]
        height = float(rng.uniform(150, 195))
        weight = float(rng.uniform(50, 110)) if rng.random() < 0.5 else None
        sex = str(rng.choice(["male", "female", "none"]))
        rows.append(model_inputs(front, side if len(side) else None, height, weight, sex))
        heights.append(height)
    return np.array(rows), np.array(heights)


@pytest.mark.parametrize("variant", ["front", "front_side"])
def test_torch_twin_equals_numpy_predict(variant: str) -> None:
    model = load_measurement_model(variant)
    assert np.abs(model.offset_ratio).max() > 0  # the calibration offsets are covered too
    inputs, heights_cm = realistic_rows(model, 200, seed=1)
    values_cm, sd_cm = model.predict(inputs, heights_cm)
    assert 40 < np.median(values_cm) < 120  # plausible bodies, not extrapolation
    with torch.no_grad():
        out = MeasurementNet(model)(
            torch.tensor(inputs, dtype=torch.float32),
            torch.tensor(heights_cm[:, None], dtype=torch.float32),
        ).numpy()
    count = len(MEASUREMENTS)
    np.testing.assert_allclose(out[:, :count], values_cm, rtol=0, atol=1e-4)
    np.testing.assert_allclose(out[:, count:], sd_cm, rtol=0, atol=1e-4)


def known_model(folder: Path) -> MeasurementModel:
    """A seeded front-view model blind to weight and sex (their weights are zero)."""
    rng = np.random.default_rng(0)
    inputs, hidden, count = VIEW_FEATURES + 5, 16, len(MEASUREMENTS)
    first = rng.normal(0, 0.3, (inputs, hidden))
    first[-4:] = 0.0  # weight, weight given, male, female: no effect
    model = MeasurementModel(
        variant="front",
        input_mean=np.full(inputs, 0.5),
        input_std=np.full(inputs, 0.2),
        layers=(
            (first, rng.normal(0, 0.1, hidden)),
            (rng.normal(0, 0.3, (hidden, hidden)), rng.normal(0, 0.1, hidden)),
            (rng.normal(0, 0.3, (hidden, 2 * count)), rng.normal(0, 0.1, 2 * count)),
        ),
        target_mean=np.linspace(0.2, 0.6, count),
        target_std=np.full(count, 0.02),
        sd_scale=np.ones(count),
        config={},
    )
    model.save(folder / "front")
    # What load() gives back (weights.npz holds float32), so predictions match exactly.
    return MeasurementModel.load(folder / "front")


def write_scan_data(path: Path, model: MeasurementModel, bodies: int = 12) -> None:
    """A scan-data .npz whose true measurements are the predictions +/- 0.5 cm."""
    rng = np.random.default_rng(1)
    front = rng.uniform(0.2, 0.8, (bodies, VIEW_FEATURES))
    height_cm = rng.uniform(155, 190, bodies)
    rows = np.array(
        [model_inputs(f, None, h, None, None) for f, h in zip(front, height_cm, strict=True)]
    )
    predicted_cm, _ = model.predict(rows, height_cm)
    signs = np.where(np.arange(predicted_cm.size).reshape(predicted_cm.shape) % 2, 1.0, -1.0)
    ok_front = np.ones(bodies, bool)
    ok_front[0] = False  # refused by the gate: left out of the score
    arrays: dict[str, Any] = {
        "front": front,
        "side": rng.uniform(0.2, 0.8, (bodies, VIEW_FEATURES)),
        "ok_front": ok_front,
        "ok_front_side": np.zeros(bodies, bool),
        "height_cm": height_cm,
        "weight_kg": rng.uniform(50, 100, bodies),
        "sex": np.array(["female", "male"] * (bodies // 2), dtype="<U6"),
        "targets_cm": predicted_cm + 0.5 * signs,
    }
    np.savez(path, meta_json=np.array(json.dumps({"bodies": bodies})), **arrays)


def test_chain_on_a_body_measure_target(tmp_path: Path) -> None:
    model = known_model(tmp_path / "models")
    write_scan_data(tmp_path / "test.npz", model)
    result = _compress(
        "body_measure/front",
        ToOpt.onnx_int8,
        None,
        budget=0.05,
        out=tmp_path / "out",
        prune=[],
        fine_tune_steps=0,
        threads=1,
        runs=3,
        data_dir=DATA_DIR,
        quiet=True,
        eval_data=tmp_path / "test.npz",
        body_models_dir=tmp_path / "models",
    )
    rows = {row["name"]: row for row in result["rows"]}
    assert list(rows) == ["torch fp32", "onnx fp32", "onnx int8 (dynamic)"]
    assert rows["torch fp32"]["quality"] == pytest.approx(0.5, abs=1e-4)
    assert rows["onnx fp32"]["quality_delta"] == pytest.approx(0.0, abs=1e-4)
    assert abs(rows["onnx int8 (dynamic)"]["quality_delta"]) < 0.05  # INT8 moves a little
    assert rows["onnx int8 (dynamic)"]["precision"] == "int8"
    assert rows["onnx int8 (dynamic)"]["size_bytes"] < rows["onnx fp32"]["size_bytes"]
    assert result["budget"]["higher_is_better"] is False
    assert "above the baseline (lower is better)" in result["budget"]["description"]
    # The fastest variant within the budget is chosen, and its file is written.
    allowed = [r for r in result["rows"] if r["within_budget"]]
    assert result["chosen"] == min(allowed, key=lambda r: r["latency_ms_median"])["name"]
    assert "over the 11 bodies" in result["notes"][0]  # one refused by the gate
    assert "(44 rows)" in result["notes"][0]  # with and without weight and sex
    assert Path(result["report_json"]).is_file()


def test_missing_test_data_names_the_path_and_how_to_make_it(tmp_path: Path) -> None:
    missing = tmp_path / "var" / "body_scan" / "test2.npz"
    with pytest.raises(InputError) as info:
        get_target("body_measure/front_side", DATA_DIR, var_dir=tmp_path / "var")
    assert f"no body-scan data at {missing}" in info.value.message
    assert "scripts/make_body_scan_data.py" in info.value.message
    assert info.value.details["path"] == str(missing)


def test_body_measure_targets_are_listed_and_unknown_variants_refused(tmp_path: Path) -> None:
    names = known_targets(tmp_path / "no_superres")
    assert names == ["body_measure/front", "body_measure/front_side"]
    with pytest.raises(InputError) as info:
        get_target("body_measure/back", DATA_DIR, models_dir=tmp_path / "no_superres")
    assert info.value.details["known"] == names
    assert "unknown model 'body_measure/back'" in info.value.message


def test_pruning_is_refused_with_the_reason(tmp_path: Path) -> None:
    model = known_model(tmp_path / "models")
    write_scan_data(tmp_path / "test.npz", model)
    with pytest.raises(InputError, match=r"body_measure/front is not pruned.*leave out --prune"):
        _compress(
            "body_measure/front",
            ToOpt.onnx_int8,
            None,
            budget=0.1,
            out=tmp_path / "out",
            prune=[0.5],
            fine_tune_steps=10,
            threads=1,
            runs=1,
            data_dir=DATA_DIR,
            quiet=True,
            eval_data=tmp_path / "test.npz",
            body_models_dir=tmp_path / "models",
        )
    assert not (tmp_path / "out").exists()  # refused before any export
