"""Scan-data files (scripts/make_body_scan_data.py): read, gate, and turned into rows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from fitroom.body.measure_model import (
    HEIGHT_SCALE_CM,
    LEVEL_SHIFTS,
    MEASUREMENTS,
    WEIGHT_SCALE_KG,
    MeasurementModel,
    blend_models,
    gate_passed,
    level_grid_data,
    merge_members,
    predict_over_level_grids,
    read_scan_data,
    scan_rows,
    split_members,
)
from fitroom.body.scan import BodyMeasurement, views_disagree
from fitroom.errors import InputError, ModelError


def two_bodies() -> dict[str, np.ndarray]:
    return {
        "front": np.array([[0.1, 0.2], [0.3, 0.4]]),
        "side": np.array([[0.5, 0.6], [0.7, 0.8]]),
        "ok_front": np.array([True, True]),
        "ok_front_side": np.array([False, True]),
        "height_cm": np.array([170.0, 153.0]),
        "weight_kg": np.array([70.0, 56.0]),
        "sex": np.array(["male", "female"]),
        "targets_cm": np.array([[90.0] * 8, [80.0] * 8]),
    }


def test_rows_cover_every_optional_input_combination(tmp_path: Path) -> None:
    np.savez(tmp_path / "scan.npz", **two_bodies())
    data = read_scan_data(tmp_path / "scan.npz")
    index = gate_passed(data, "front_side")
    assert index.tolist() == [1]  # body 0's side photo was refused
    inputs, truth_cm, heights_cm = scan_rows(data, index, "front_side")
    assert inputs.shape == (4, 2 + 2 + 5) and heights_cm.tolist() == [153.0] * 4
    assert truth_cm.tolist() == [[80.0] * 8] * 4
    height, weight = 153.0 / HEIGHT_SCALE_CM, 56.0 / WEIGHT_SCALE_KG
    # (weight, weight given, male, female) with: both, no weight, no sex, neither.
    assert inputs[:, :4].tolist() == [[0.3, 0.4, 0.7, 0.8]] * 4
    assert inputs[:, 4:].tolist() == [
        [height, weight, 1.0, 0.0, 1.0],
        [height, 0.0, 0.0, 0.0, 1.0],
        [height, weight, 1.0, 0.0, 0.0],
        [height, 0.0, 0.0, 0.0, 0.0],
    ]
    front_only, _, _ = scan_rows(data, gate_passed(data, "front"), "front", hidden=((True, True),))
    assert front_only.shape == (2, 2 + 5)


def test_files_that_are_not_scan_data_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"make it with python scripts/make_body_scan_data\.py"):
        read_scan_data(tmp_path / "missing.npz")
    arrays = two_bodies()
    del arrays["targets_cm"]
    np.savez(tmp_path / "partial.npz", **arrays)
    with pytest.raises(InputError, match=r"lacks the arrays \['targets_cm'\]"):
        read_scan_data(tmp_path / "partial.npz")


def random_member(seed: int, inputs: int = 6, hidden: int = 5) -> MeasurementModel:
    rng = np.random.default_rng(seed)
    outputs = 2 * len(MEASUREMENTS)
    shapes = [(inputs, hidden), (hidden, hidden), (hidden, outputs)]
    layers = tuple((rng.normal(0, 0.5, s), rng.normal(0, 0.1, s[1])) for s in shapes)
    return MeasurementModel(
        variant="front",
        input_mean=np.full(inputs, 0.2),
        input_std=np.full(inputs, 1.5),
        layers=layers,
        target_mean=np.full(len(MEASUREMENTS), 0.5),
        target_std=np.full(len(MEASUREMENTS), 0.05),
        sd_scale=np.ones(len(MEASUREMENTS)),
        config={},
    )


def test_merged_members_average_means_and_log_sds(tmp_path: Path) -> None:
    members = [random_member(seed) for seed in range(3)]
    merged = merge_members(members)
    assert [w.shape for w, _ in merged.layers] == [(6, 15), (15, 15), (15, 16)]
    x = np.random.default_rng(9).normal(size=(4, 6))
    heights_cm = np.array([150.0, 160.0, 170.0, 190.0])
    means, sds = zip(*(m.predict(x, heights_cm) for m in members), strict=True)
    merged_mean, merged_sd = merged.predict(x, heights_cm)
    np.testing.assert_allclose(merged_mean, np.mean(means, axis=0), rtol=1e-12)
    np.testing.assert_allclose(merged_sd, np.exp(np.mean(np.log(sds), axis=0)), rtol=1e-12)
    merged.save(tmp_path / "front")  # still one plain MLP on disk
    reloaded = MeasurementModel.load(tmp_path / "front")
    np.testing.assert_allclose(reloaded.predict(x, heights_cm)[0], merged_mean, rtol=1e-5)


def test_members_with_other_standardisation_are_not_merged() -> None:
    other = dataclasses.replace(random_member(1), input_std=np.full(6, 2.0))
    with pytest.raises(ModelError, match="share"):
        merge_members([random_member(0), other])
    with pytest.raises(ModelError, match="empty"):
        merge_members([])


def test_a_merged_model_splits_back_into_members_that_average_to_it() -> None:
    members = [random_member(seed) for seed in range(3)]
    merged = merge_members(members)
    split = split_members(merged, 3)
    x = np.random.default_rng(4).normal(size=(5, 6))
    heights_cm = np.full(5, 168.0)
    # Hidden layers come back exactly; only the last bias is each member's mean.
    for original, recovered in zip(members, split, strict=True):
        for (w0, b0), (w1, b1) in zip(original.layers[:-1], recovered.layers[:-1], strict=True):
            np.testing.assert_array_equal(w0, w1)
            np.testing.assert_array_equal(b0, b1)
        np.testing.assert_allclose(recovered.layers[-1][0], original.layers[-1][0], rtol=1e-12)
    np.testing.assert_allclose(
        merge_members(split).predict(x, heights_cm)[0], merged.predict(x, heights_cm)[0]
    )
    hidden_weight, hidden_bias = merged.layers[1]
    dense = dataclasses.replace(
        merged, layers=(merged.layers[0], (hidden_weight + 1.0, hidden_bias), merged.layers[2])
    )
    with pytest.raises(ModelError, match="not 3 merged members"):
        split_members(dense, 3)
    with pytest.raises(ModelError, match="does not split"):
        split_members(merged, 4)


def test_a_blend_is_the_weighted_mean_of_the_two_models_weights() -> None:
    start, tuned = random_member(0), random_member(1)
    x = np.random.default_rng(6).normal(size=(4, 6))
    heights_cm = np.full(4, 172.0)
    for share, same_as in ((0.0, start), (1.0, tuned)):
        np.testing.assert_allclose(
            blend_models(start, tuned, share).predict(x, heights_cm)[0],
            same_as.predict(x, heights_cm)[0],
            rtol=1e-12,
        )
    quarter = blend_models(start, tuned, 0.25)
    for (w0, b0), (w1, b1), (w, b) in zip(start.layers, tuned.layers, quarter.layers, strict=True):
        np.testing.assert_allclose(w, 0.75 * w0 + 0.25 * w1, rtol=1e-12)
        np.testing.assert_allclose(b, 0.75 * b0 + 0.25 * b1, rtol=1e-12)
    # Not the mean of the two answers: the net is not linear in its weights.
    assert not np.allclose(
        quarter.predict(x, heights_cm)[0],
        0.75 * start.predict(x, heights_cm)[0] + 0.25 * tuned.predict(x, heights_cm)[0],
    )


def test_models_that_are_not_a_fine_tune_and_its_start_are_not_blended() -> None:
    start = random_member(0)
    with pytest.raises(ModelError, match="standardisation"):
        blend_models(start, dataclasses.replace(random_member(1), input_std=np.full(6, 2.0)), 0.5)
    wider = merge_members([random_member(1), random_member(2)])
    with pytest.raises(ModelError, match="layer shapes"):
        blend_models(start, wider, 0.5)
    with pytest.raises(ModelError, match="0 to 1"):
        blend_models(start, random_member(1), 1.5)


def test_offsets_come_off_by_whether_the_weight_was_given(tmp_path: Path) -> None:
    plain = random_member(5, inputs=8)
    offset_ratio = np.array([np.linspace(0.01, 0.02, 8), np.linspace(-0.01, 0.0, 8)])
    calibrated = dataclasses.replace(plain, offset_ratio=offset_ratio)
    rows = np.random.default_rng(1).normal(size=(4, 8))
    rows[:, -3] = [0.0, 1.0, 0.0, 1.0]  # WEIGHT_GIVEN_COLUMN: hidden, given, ...
    heights_cm = np.array([150.0, 160.0, 170.0, 180.0])
    before_cm, before_sd = plain.predict(rows, heights_cm)
    after_cm, after_sd = calibrated.predict(rows, heights_cm)
    expected = before_cm - offset_ratio[[0, 1, 0, 1]] * heights_cm[:, None]
    np.testing.assert_allclose(after_cm, expected, rtol=1e-12)
    np.testing.assert_array_equal(after_sd, before_sd)  # the spread is left alone
    calibrated.save(tmp_path / "front")
    reloaded = MeasurementModel.load(tmp_path / "front")
    np.testing.assert_allclose(reloaded.offset_ratio, offset_ratio, rtol=1e-6)
    # A model saved before offsets existed (no offset_ratio array) loads with none.
    with np.load(tmp_path / "front" / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files if k != "offset_ratio"}
    np.savez(tmp_path / "front" / "weights.npz", **arrays)
    np.testing.assert_array_equal(MeasurementModel.load(tmp_path / "front").offset_ratio, 0.0)


def test_calibration_script_zeroes_the_mean_error_on_its_bodies(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    views = 2
    model = dataclasses.replace(random_member(6, inputs=views + 5), variant="front")
    model.save(tmp_path / "models" / "front")
    rng = np.random.default_rng(3)
    bodies = 40
    data = {
        "front": rng.normal(size=(bodies, views)),
        "side": rng.normal(size=(bodies, views)),
        "ok_front": np.ones(bodies, bool),
        "ok_front_side": np.zeros(bodies, bool),
        "height_cm": rng.uniform(150, 190, bodies),
        "weight_kg": rng.uniform(50, 100, bodies),
        "sex": np.array(["male", "female"] * (bodies // 2)),
        "targets_cm": rng.uniform(30, 110, (bodies, len(MEASUREMENTS))),
    }
    stored = [d for d in LEVEL_SHIFTS if d]
    data["front_shifted"] = np.stack([data["front"] + d for d in stored], axis=1)
    data["side_shifted"] = np.stack([data["side"] + d for d in stored], axis=1)
    data["meta_json"] = np.array(json.dumps({"level_shifts": stored, "command": "made here"}))
    np.savez(tmp_path / "calibration.npz", **data)
    script = Path(__file__).resolve().parents[2] / "scripts" / "calibrate_body_measure.py"
    command = [sys.executable, str(script), str(tmp_path / "calibration.npz")]
    done = subprocess.run(
        [*command, "--variants", "front", "--models-dir", str(tmp_path / "models")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calibrated = MeasurementModel.load(tmp_path / "models" / "front")
    assert calibrated.config["location_calibration"]["bodies"] == bodies
    assert np.abs(calibrated.offset_ratio).min() > 0
    read = read_scan_data(tmp_path / "calibration.npz")
    grids = level_grid_data(read)
    index = gate_passed(read, "front")
    # With the weight (sex given or not, pooled), and without it: no mean error left.
    for hidden in (((False, False), (False, True)), ((True, False), (True, True))):
        per_grid = [scan_rows(g, index, "front", hidden=hidden) for g in grids]
        values_cm, _ = predict_over_level_grids(
            calibrated, [r for r, _, _ in per_grid], per_grid[0][2]
        )
        signed = (values_cm - per_grid[0][1]) / per_grid[0][2][:, None]
        np.testing.assert_allclose(signed.mean(axis=0), 0.0, atol=1e-6)


def test_level_grids_average_the_model_over_the_grids() -> None:
    model = random_member(4)
    grids = [np.random.default_rng(seed).normal(size=(3, 6)) for seed in range(3)]
    heights_cm = np.array([150.0, 170.0, 185.0])
    values, sds = zip(*(model.predict(rows, heights_cm) for rows in grids), strict=True)
    mean_cm, sd_cm = predict_over_level_grids(model, grids, heights_cm)
    np.testing.assert_allclose(mean_cm, np.mean(values, axis=0), rtol=1e-12)
    np.testing.assert_allclose(sd_cm, np.mean(sds, axis=0), rtol=1e-12)
    one_cm, one_sd = predict_over_level_grids(model, grids[:1], heights_cm)
    np.testing.assert_array_equal(one_cm, values[0])
    np.testing.assert_array_equal(one_sd, sds[0])
    with pytest.raises(ModelError, match="no level grids"):
        predict_over_level_grids(model, [], heights_cm)


def test_level_grid_data_picks_each_grid_and_names_a_missing_one(tmp_path: Path) -> None:
    import json

    data = two_bodies()
    stored = [d for d in LEVEL_SHIFTS if d][::-1]  # any order, as the script's option gives
    data["front_shifted"] = np.stack([data["front"] + d for d in stored], axis=1)
    data["side_shifted"] = np.stack([data["side"] - d for d in stored], axis=1)
    data["meta_json"] = np.array(json.dumps({"level_shifts": stored}))
    grids = level_grid_data(data)
    assert len(grids) == len(LEVEL_SHIFTS)
    for shift, grid in zip(LEVEL_SHIFTS, grids, strict=True):
        np.testing.assert_allclose(grid["front"], data["front"] + shift)
        np.testing.assert_allclose(grid["side"], data["side"] - shift)
        assert grid["height_cm"] is data["height_cm"]
    data["meta_json"] = np.array(json.dumps({"level_shifts": stored[1:]}))
    with pytest.raises(InputError, match="--level-shifts"):
        level_grid_data(data)


def reading(value_cm: float, plus_minus_cm: float) -> BodyMeasurement:
    return BodyMeasurement(value_cm, plus_minus_cm, "photo")


def test_views_disagree_names_girths_beyond_two_combined_sds_worst_first() -> None:
    both = {"chest_cm": reading(100, 3), "waist_cm": reading(78, 2), "hip_cm": reading(99, 2)}
    # chest: 8 cm over hypot(3, 4) = 5 -> 1.6 sd, fine; waist 10 / 4.47 = 2.2 sd and
    # hip 13 / 4.47 = 2.9 sd disagree, hip first.
    alone = {"chest_cm": reading(108, 4), "waist_cm": reading(88, 4), "hip_cm": reading(86, 4)}
    warnings = views_disagree(both, alone)
    assert len(warnings) == 2
    assert warnings[0].startswith("the front photo alone gives a hip of 86 cm and both photos 99")
    assert "waist of 88 cm" in warnings[1]
    assert views_disagree(both, both) == []
