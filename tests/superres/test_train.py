"""Training is deterministic for a seed and a resumed run equals an uninterrupted one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fitroom.superres.train import TrainConfig, TrainProgress, learning_rate_at, train


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(3):
        smooth = rng.uniform(0, 255, size=(6, 6, 3))
        image = Image.fromarray(smooth.astype(np.uint8)).resize((40, 40), Image.BICUBIC)
        image.save(folder / f"img{i}.png")
    return folder


def config(image_dir: Path, out: Path, steps: int = 6) -> TrainConfig:
    return TrainConfig(
        model="fitsr",
        scale=2,
        data_dirs=[str(image_dir)],
        out_dir=str(out),
        steps=steps,
        batch_size=2,
        lr_patch_px=8,
        warmup_steps=2,
        holdout_images=1,
        validate_every_steps=3,
        checkpoint_every_minutes=0.0,
        hyper_parameters={"blocks": 1, "features": 4},
    )


def weights(path: Path) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = torch.load(path, weights_only=True)
    return state


class Interrupt(Exception):
    pass


def test_same_seed_same_weights_and_resume(image_dir: Path, tmp_path: Path) -> None:
    first = train(config(image_dir, tmp_path / "a"))
    second = train(config(image_dir, tmp_path / "b"))
    a, b = weights(first.weights_path), weights(second.weights_path)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert first.steps_done == 6 and len(first.history) == 2

    def stop_at_three(progress: TrainProgress) -> None:
        if progress.step == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(config(image_dir, tmp_path / "c"), on_progress=stop_at_three)
    resumed = train(config(image_dir, tmp_path / "c"), resume=True)
    c = weights(resumed.weights_path)
    assert resumed.steps_done == 6
    assert all(torch.equal(a[k], c[k]) for k in a)


def test_learning_rate_schedule() -> None:
    cfg = TrainConfig("fitsr", 2, [], "x", steps=1000, learning_rate=1e-3, warmup_steps=100)
    assert learning_rate_at(0, cfg) == pytest.approx(1e-5)
    assert learning_rate_at(99, cfg) == pytest.approx(1e-3)
    assert learning_rate_at(1000, cfg) == pytest.approx(1e-5)  # final_lr_fraction 0.01
    assert learning_rate_at(550, cfg) == pytest.approx((1e-3 + 1e-5) / 2)
