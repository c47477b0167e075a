"""``fitroom superres eval`` and ``fitroom upscale`` run in-process with Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from fitroom.superres.cli import superres_app, upscale_command
from fitroom.superres.infer import shipped_scales

runner = CliRunner()
upscale_app = typer.Typer()
upscale_app.command()(upscale_command)


def smooth_image(path: Path, seed: int, mode: str = "RGB") -> None:
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(4, 4, len(mode))).astype(np.uint8)
    Image.fromarray(coarse, mode=mode).resize((32, 24), Image.BICUBIC).save(path)


def test_eval_json_reports_psnr_and_ssim(tmp_path: Path) -> None:
    for i in range(2):
        smooth_image(tmp_path / f"img{i}.png", i)
    result = runner.invoke(
        superres_app,
        ["eval", "--data", str(tmp_path), "--scale", "2", "--model", "bicubic", "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    scores = payload["results"][0]
    assert scores["model"] == "bicubic" and len(scores["images"]) == 2
    assert 20.0 < scores["psnr_db"] < 80.0 and 0.5 < scores["ssim"] <= 1.0


def test_eval_of_a_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    result = runner.invoke(superres_app, ["eval", "--data", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_upscale_rgba_file(tmp_path: Path) -> None:
    source, out = tmp_path / "in.png", tmp_path / "out.png"
    smooth_image(source, 3, mode="RGBA")
    result = runner.invoke(
        upscale_app,
        [str(source), "-o", str(out), "--scale", "2", "--model", "bicubic", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output_size_px"] == [64, 48]
    with Image.open(out) as image:
        assert image.size == (64, 48) and image.mode == "RGBA"


@pytest.mark.skipif(2 not in shipped_scales(), reason="no shipped fitsr x2 weights")
def test_upscale_with_self_ensemble(tmp_path: Path) -> None:
    source, out = tmp_path / "in.png", tmp_path / "out.png"
    smooth_image(source, 4)
    args = [str(source), "-o", str(out), "--scale", "2", "--json"]
    result = runner.invoke(upscale_app, [*args, "--ensemble", "4"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ensemble"] == 4
    bad = runner.invoke(upscale_app, [*args, "--ensemble", "3"])
    assert bad.exit_code == 2 and "1, 2, 4, 8 passes" in bad.stderr
    bicubic = runner.invoke(upscale_app, [*args, "--model", "bicubic", "--ensemble", "2"])
    assert bicubic.exit_code == 2 and "not bicubic" in bicubic.stderr


def test_upscale_of_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(upscale_app, [str(tmp_path / "x.png"), "-o", str(tmp_path / "y.png")])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_train_notes_images_too_small_for_the_patch(tmp_path: Path) -> None:
    for seed in range(3):
        smooth_image(tmp_path / f"big{seed}.png", seed)  # 32 x 24
    Image.fromarray(np.full((10, 40, 3), 90, dtype=np.uint8)).save(tmp_path / "small.png")
    result = runner.invoke(
        superres_app,
        ["train", "--data", str(tmp_path), "--scale", "2", "--model", "fitsr", "--blocks", "1",
         "--features", "4", "--steps", "2", "--batch-size", "2", "--patch", "6",
         "--holdout", "1", "--out", str(tmp_path / "run")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "note: 1 training image(s) are smaller than a 6 px patch at x2 (12 px)" in (
        result.output
    )


def test_train_takes_image_sampling_and_a_self_ensemble_teacher(tmp_path: Path) -> None:
    for seed in range(3):
        smooth_image(tmp_path / f"img{seed}.png", seed)
    base = ["train", "--data", str(tmp_path), "--scale", "2", "--model", "fitsr",
            "--blocks", "1", "--features", "4", "--steps", "2", "--batch-size", "2",
            "--patch", "6", "--holdout", "1"]  # fmt: skip
    first = runner.invoke(superres_app, [*base, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    teacher = ["--teacher", str(tmp_path / "a" / "model.pt"), "--teacher-blocks", "1",
               "--teacher-features", "4"]  # fmt: skip
    taught = runner.invoke(
        superres_app,
        [*base, *teacher, "--teacher-ensemble", "4", "--sample-by", "image",
         "--out", str(tmp_path / "b")],
    )  # fmt: skip
    assert taught.exit_code == 0, taught.output
    training = json.loads((tmp_path / "b" / "config.json").read_text())["training"]
    assert (training["teacher_ensemble"], training["sample_by"]) == (4, "image")
    refused = runner.invoke(
        superres_app, [*base, *teacher, "--teacher-ensemble", "3", "--out", str(tmp_path / "c")]
    )
    assert refused.exit_code == 2
    assert "self-ensemble takes 1, 2, 4, 8 passes; got 3" in refused.output
