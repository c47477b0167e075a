"""``scripts/train_body_measure.py`` end to end on small made-up scan data (a few seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from fitroom.body.measure_model import (
    LEVEL_SHIFTS,
    MEASUREMENTS,
    MeasurementModel,
    model_inputs,
)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_body_measure.py"
VIEW_FEATURES = 3


def scan_file(path: Path, seed: int, bodies: int = 90, grids: bool = True) -> None:
    """Bodies whose girths follow their first feature; each grid reads it a little off."""
    rng = np.random.default_rng(seed)
    front = rng.uniform(0.1, 0.3, (bodies, VIEW_FEATURES))
    side = rng.uniform(0.1, 0.3, (bodies, VIEW_FEATURES))
    height = rng.uniform(150, 195, bodies)
    targets = np.outer(front[:, 0] * 2.0 + 0.2, np.ones(len(MEASUREMENTS))) * height[:, None]
    data = {
        "front": front,
        "side": side,
        "ok_front": np.ones(bodies, bool),
        "ok_front_side": np.ones(bodies, bool),
        "height_cm": height,
        "weight_kg": rng.uniform(50, 100, bodies),
        "sex": np.array(["male", "female"] * (bodies // 2)),
        "targets_cm": targets,
    }
    stored = [d for d in LEVEL_SHIFTS if d]
    meta: dict[str, object] = {"command": f"made in a test, seed {seed}"}
    if grids:
        data["front_shifted"] = np.stack([front + 0.1 * d for d in stored], axis=1)
        data["side_shifted"] = np.stack([side - 0.1 * d for d in stored], axis=1)
        meta["level_shifts"] = stored
    data["meta_json"] = np.array(json.dumps(meta))
    np.savez(path, **data)


def train(tmp_path: Path, *args: str, out: str = "out") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *args, "--epochs", "3", "--hidden", "8"]
    return subprocess.run(
        [*command, "--variants", "front", "--out", str(tmp_path / out)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_training_on_every_level_grid(tmp_path: Path) -> None:
    scan_file(tmp_path / "a.npz", 1)
    scan_file(tmp_path / "b.npz", 2)
    scan_file(tmp_path / "calibration.npz", 3)
    done = train(
        tmp_path,
        str(tmp_path / "a.npz"),
        str(tmp_path / "b.npz"),
        "--level-grids",
        "--calibration",
        str(tmp_path / "calibration.npz"),
    )
    assert done.returncode == 0, done.stderr
    model = MeasurementModel.load(tmp_path / "out" / "front")
    assert model.config["level_grids"] is True
    assert model.config["validation_mae_cm"]["calibration_bodies"] == 90
    row = model_inputs(np.full(VIEW_FEATURES, 0.2), None, 170.0, None, "female")
    values_cm, sd_cm = model.predict(row, 170.0)
    assert np.isfinite(values_cm).all() and (sd_cm > 0).all()
    # The same files and seed without the grids train another network: the flag reads
    # the shifted features (each grid reads the first feature a little off).
    plain = train(tmp_path, str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), out="plain")
    assert plain.returncode == 0, plain.stderr
    other = MeasurementModel.load(tmp_path / "plain" / "front")
    assert other.config["level_grids"] is False
    # Symmetric shifts keep the mean of the first feature but widen its spread.
    assert other.input_std[0] < model.input_std[0]
    assert not np.allclose(other.predict(row, 170.0)[0], values_cm)


def test_level_grids_need_files_that_keep_them(tmp_path: Path) -> None:
    scan_file(tmp_path / "a.npz", 1)
    scan_file(tmp_path / "plain.npz", 2, grids=False)
    done = train(tmp_path, str(tmp_path / "a.npz"), str(tmp_path / "plain.npz"), "--level-grids")
    assert done.returncode == 2
    assert "keep no level grids" in done.stderr
    # Without the option the same files train as before (no grids needed).
    plain = train(tmp_path, str(tmp_path / "a.npz"), str(tmp_path / "plain.npz"))
    assert plain.returncode == 0, plain.stderr
    assert MeasurementModel.load(tmp_path / "out" / "front").config["level_grids"] is False


def test_fine_tuning_starts_from_the_given_models(tmp_path: Path) -> None:
    scan_file(tmp_path / "a.npz", 1)
    scan_file(tmp_path / "new.npz", 5)
    base = train(tmp_path, str(tmp_path / "a.npz"), "--members", "2", out="base")
    assert base.returncode == 0, base.stderr
    start = MeasurementModel.load(tmp_path / "base" / "front")
    row = model_inputs(np.full(VIEW_FEATURES, 0.2), None, 170.0, None, "female")

    def tune(out: str, *extra: str) -> MeasurementModel:
        command = [sys.executable, str(SCRIPT), str(tmp_path / "new.npz"), "--variants", "front"]
        command += ["--init-from", str(tmp_path / "base"), "--out", str(tmp_path / out)]
        done = subprocess.run([*command, *extra], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return MeasurementModel.load(tmp_path / out / "front")

    # No epochs: the start is kept as it was (its members split and merged again), and
    # its size, member count and standardisation come from it, not from the options.
    kept = tune("kept", "--epochs", "0", "--hidden", "64", "--members", "5")
    assert kept.config["hidden"] == 8 and kept.config["members"] == 2
    np.testing.assert_array_equal(kept.input_mean, start.input_mean)
    np.testing.assert_allclose(kept.predict(row, 170.0)[0], start.predict(row, 170.0)[0], rtol=1e-5)
    assert kept.config["fine_tuned_from"]["command"] == start.config["command"]
    # A few epochs on the new bodies move it.
    moved = tune("moved", "--epochs", "3", "--lr", "1e-2")
    assert moved.config["learning_rate"] == 1e-2
    assert not np.allclose(moved.predict(row, 170.0)[0], start.predict(row, 170.0)[0])
    # The same fine-tune shipped as a blend: each weight a third of the way from the
    # start's to the fine-tuned one (the same seed, so the same fine-tuned weights).
    third = tune("third", "--epochs", "3", "--lr", "1e-2", "--tuned-share", "0.333")
    assert third.config["tuned_share"] == 0.333
    for (w0, _), (w1, _), (w, _) in zip(start.layers, moved.layers, third.layers, strict=True):
        np.testing.assert_allclose(w, 0.667 * w0 + 0.333 * w1, rtol=1e-4, atol=1e-6)


def test_a_blend_needs_a_start(tmp_path: Path) -> None:
    scan_file(tmp_path / "a.npz", 1)
    done = train(tmp_path, str(tmp_path / "a.npz"), "--tuned-share", "0.5")
    assert done.returncode == 2
    assert "--tuned-share blends a fine-tune with its start: give --init-from" in done.stderr
    assert not (tmp_path / "out").exists()
