"""``fitroom superres train|eval`` and ``fitroom upscale`` (the command-line face).

Parsing and printing only; the work is in ``fitroom.superres.train``, ``.evaluate``
and ``.infer``. torch/numpy are imported inside the commands so ``fitroom --help``
stays fast. A user mistake prints ``error: ...`` and exits 2, without a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from fitroom.cli_support import run_or_exit

superres_app = typer.Typer(
    help="Super-resolution: train and evaluate upscaling models.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
EnsembleOpt = Annotated[
    int,
    typer.Option(
        help="Self-ensemble passes (1, 2, 4 or 8): average that many flipped/turned runs; "
        "sharper, that many times slower."
    ),
]


@superres_app.callback()
def _superres() -> None:
    """Super-resolution: train and evaluate upscaling models."""


class BackendOpt(StrEnum):
    torch = "torch"
    onnx = "onnx"
    onnx_int8 = "onnx-int8"


@superres_app.command("train")
def train_command(
    data: Annotated[list[Path], typer.Option("--data", help="Folder of training images; repeat.")],
    scale: Annotated[int, typer.Option(help="Upscaling factor: 2, 3 or 4.")] = 4,
    model: Annotated[str, typer.Option(help="bicubic | espcn | fsrcnn | fitsr.")] = "fitsr",
    out: Annotated[Path, typer.Option(help="Folder for checkpoints and the weights.")] = Path(
        "var/superres/run"
    ),
    steps: Annotated[int, typer.Option(help="Optimizer steps (the LR schedule spans them).")] = (
        20_000
    ),
    batch_size: Annotated[int, typer.Option(help="Patches per step.")] = 16,
    patch: Annotated[int, typer.Option(help="Low-resolution patch side, px.")] = 48,
    lr: Annotated[float, typer.Option(help="Peak learning rate (Adam).")] = 1e-3,
    seed: Annotated[int, typer.Option(help="Seed for weights and patch sampling.")] = 0,
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 1,
    holdout: Annotated[int, typer.Option(help="Images held out to validate on.")] = 5,
    validate_every: Annotated[int, typer.Option(help="Validate every N steps.")] = 500,
    checkpoint_minutes: Annotated[float, typer.Option(help="Checkpoint period, min.")] = 3.0,
    max_minutes: Annotated[
        float | None, typer.Option(help="Wall-clock guard: stop and save after this.")
    ] = None,
    init: Annotated[
        Path | None, typer.Option(help="Start from matching weights of this checkpoint.")
    ] = None,
    blocks: Annotated[int | None, typer.Option(help="fitsr: residual blocks.")] = None,
    features: Annotated[int | None, typer.Option(help="fitsr: channels.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/last.pt.")] = False,
    loss: Annotated[
        str, typer.Option(help="l1 | l2 | l1-luma | l2-luma (YCbCr, chroma weighted 0.25).")
    ] = "l1",
    device: Annotated[str, typer.Option(help="torch device: cpu, or cuda on a GPU.")] = "cpu",
    schedule_minutes: Annotated[
        float | None,
        typer.Option(help="Spread the LR schedule over this many minutes instead of --steps."),
    ] = None,
    teacher: Annotated[
        Path | None, typer.Option(help="Distil from this teacher's weights (model.pt).")
    ] = None,
    teacher_model: Annotated[str, typer.Option(help="The teacher's model name.")] = "fitsr",
    teacher_blocks: Annotated[int | None, typer.Option(help="Teacher fitsr: blocks.")] = None,
    teacher_features: Annotated[int | None, typer.Option(help="Teacher fitsr: channels.")] = None,
    teacher_weight: Annotated[
        float, typer.Option(help="Share of the loss against the teacher's output, 0-1.")
    ] = 0.5,
    patch_sampler: Annotated[
        str,
        typer.Option(
            help="Where patches are cut: numpy (CPU, reproducible), tensor (on the device), "
            "or auto (tensor on a GPU)."
        ),
    ] = "auto",
    sample_by: Annotated[
        str,
        typer.Option(
            help="Draw training images by area (every pixel equally likely) or by image "
            "(each image equally often)."
        ),
    ] = "area",
    teacher_ensemble: Annotated[
        int,
        typer.Option(
            help="Average the teacher over 1, 2, 4 or 8 flipped/turned copies of each batch "
            "(its self-ensemble)."
        ),
    ] = 1,
) -> None:
    """Train a model on random patches (flips, rotations); writes OUT/model.pt + config."""
    from fitroom.superres.train import TrainConfig, TrainProgress, train

    hyper: dict[str, Any] = {}
    if blocks is not None:
        hyper["blocks"] = blocks
    if features is not None:
        hyper["features"] = features
    teacher_hyper: dict[str, Any] = {}
    if teacher_blocks is not None:
        teacher_hyper["blocks"] = teacher_blocks
    if teacher_features is not None:
        teacher_hyper["features"] = teacher_features
    config = TrainConfig(
        model=model,
        scale=scale,
        data_dirs=[str(d) for d in data],
        out_dir=str(out),
        steps=steps,
        batch_size=batch_size,
        lr_patch_px=patch,
        learning_rate=lr,
        seed=seed,
        threads=threads,
        holdout_images=holdout,
        validate_every_steps=validate_every,
        checkpoint_every_minutes=checkpoint_minutes,
        max_minutes=max_minutes,
        init_from=str(init) if init else None,
        hyper_parameters=hyper,
        loss=loss,
        device=device,
        schedule_minutes=schedule_minutes,
        teacher_model=teacher_model if teacher else None,
        teacher_hyper_parameters=teacher_hyper,
        teacher_from=str(teacher) if teacher else None,
        teacher_weight=teacher_weight,
        patch_sampler=patch_sampler,
        sample_by=sample_by,
        teacher_ensemble=teacher_ensemble,
    )
    interactive = sys.stderr.isatty()
    last_val: list[float] = []

    def report(p: TrainProgress) -> None:
        if p.val_psnr_db is not None:
            last_val.append(p.val_psnr_db)
        val = f"{last_val[-1]:.2f} dB" if last_val else "-"
        line = (
            f"step {p.step}/{p.steps} loss {p.loss:.4f} lr {p.learning_rate:.2e} "
            f"val PSNR {val} {p.elapsed_minutes:.1f} min"
        )
        if interactive:
            done = int(30 * p.step / p.steps)
            typer.echo(f"\r[{'#' * done}{'.' * (30 - done)}] {line}", nl=False, err=True)
        elif p.val_psnr_db is not None or p.step % 100 == 0:
            typer.echo(line, err=True)

    result = run_or_exit(False, lambda: train(config, resume=resume, on_progress=report))
    if interactive:
        typer.echo("", err=True)
    typer.echo(
        f"{result.steps_done} steps in {result.minutes:.1f} min, validation PSNR "
        f"{result.val_psnr_db:.2f} dB"
        + (" (stopped by --max-minutes)" if result.stopped_by_deadline else "")
        + f"; weights: {result.weights_path}"
    )
    if result.images_too_small:
        typer.echo(
            f"note: {result.images_too_small} training image(s) are smaller than a {patch} px "
            f"patch at x{scale} ({patch * scale} px) and were never sampled; a smaller "
            "--patch uses them",
            err=True,
        )


def _pixels_of(pipeline: Any) -> Callable[[Any], Any]:
    """The pipeline as an array -> array function (what ``evaluate`` takes)."""

    def upscale(lr: Any) -> Any:
        return pipeline(lr).pixels

    return upscale


@superres_app.command("eval")
def eval_command(
    data: Annotated[Path, typer.Option("--data", help="Folder of ground-truth images.")],
    scale: Annotated[int, typer.Option(help="Upscaling factor.")] = 4,
    model: Annotated[
        list[str] | None,
        typer.Option(help="Model(s) to score; default: bicubic and every shipped one."),
    ] = None,
    backend: Annotated[BackendOpt, typer.Option(help="Runtime of the learned models.")] = (
        BackendOpt.torch
    ),
    threads: Annotated[int, typer.Option(help="CPU threads.")] = 2,
    ensemble: EnsembleOpt = 1,
    as_json: JsonOpt = False,
) -> None:
    """Y-PSNR / Y-SSIM on DIR by the standard protocol (MATLAB-bicubic LR, scale px shaved)."""

    def action() -> list[Any]:
        from fitroom.superres.data import list_images, make_pairs
        from fitroom.superres.infer import UpscalePipeline, shipped_scales
        from fitroom.superres.metrics import evaluate

        pairs = make_pairs(list_images(data), scale)
        names = model or ["bicubic"] + (["fitsr"] if scale in shipped_scales("fitsr") else [])
        results = []
        for name in names:
            learned = name != "bicubic"
            pipeline = UpscalePipeline.from_shipped(
                name,
                scale,
                backend.value if learned else "torch",
                threads,
                ensemble=ensemble if learned else 1,
            )
            results.append(evaluate(_pixels_of(pipeline), pairs, scale, pipeline.model))
        return results

    results = run_or_exit(as_json, action)
    if as_json:
        from dataclasses import asdict

        payload = {
            "data": str(data),
            "scale": scale,
            "backend": backend.value,
            "ensemble": ensemble,
            "protocol": "MATLAB-bicubic LR; Y (BT.601) PSNR/SSIM; border of scale px shaved",
            "results": [asdict(r) for r in results],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    for r in results:
        typer.echo(f"{r.model:<10} x{r.scale}  PSNR {r.psnr_db:6.2f} dB  SSIM {r.ssim:.4f}")
        for image in r.images:
            typer.echo(f"    {image.name:<16} {image.psnr_db:6.2f} dB  {image.ssim:.4f}")


@superres_app.command("export")
def export_command(
    scale: Annotated[int, typer.Option(help="Scale of the shipped model.")] = 4,
    model: Annotated[str, typer.Option(help="Shipped model name.")] = "fitsr",
    calibration: Annotated[
        Path | None, typer.Option(help="Images whose LR crops calibrate INT8 (e.g. T91).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder; default: beside the weights.")
    ] = None,
) -> None:
    """Write model.onnx (FP32) and, with --calibration, model.int8.onnx (static QDQ)."""

    def action() -> dict[str, Path]:
        from fitroom.superres.infer import calibration_crops, export_onnx_forms, model_folder

        crops = calibration_crops(calibration, scale) if calibration else None
        return export_onnx_forms(model, scale, out or model_folder(model, scale), crops)

    for kind, path in run_or_exit(False, action).items():
        typer.echo(f"{kind}: {path} ({path.stat().st_size / 1024:.0f} KiB)")


def upscale_command(
    source: Annotated[Path, typer.Argument(help="Image to upscale (gray, RGB or RGBA).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the result.")],
    scale: Annotated[int, typer.Option(help="Upscaling factor (a shipped model's).")] = 4,
    model: Annotated[str, typer.Option(help="fitsr (shipped) or bicubic.")] = "fitsr",
    backend: Annotated[BackendOpt, typer.Option(help="Runtime.")] = BackendOpt.torch,
    threads: Annotated[int, typer.Option(help="CPU threads.")] = 2,
    tile: Annotated[int, typer.Option(help="Tile side in input px (bounds memory).")] = 256,
    ensemble: EnsembleOpt = 1,
    as_json: JsonOpt = False,
) -> None:
    """Upscale an image with super-resolution; alpha is kept (bicubic), tiles are seamless."""

    def action() -> dict[str, Any]:
        from fitroom.errors import InputError
        from fitroom.superres.infer import (
            UpscalePipeline,
            decode_image,
            encode_image,
        )

        if not source.is_file():
            raise InputError(f"{source} does not exist", path=str(source))
        decoded = decode_image(source.read_bytes())
        suffix = output.suffix.lower().lstrip(".") or "png"
        pipeline = UpscalePipeline.from_shipped(
            model, scale, backend.value, threads, tile_px=tile, ensemble=ensemble
        )
        result = pipeline(decoded.pixels)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(encode_image(result.pixels, suffix))
        height, width = decoded.pixels.shape[:2]
        return {
            "input": str(source),
            "output": str(output),
            "input_size_px": [width, height],
            "output_size_px": [result.pixels.shape[1], result.pixels.shape[0]],
            "model": result.model,
            "backend": result.backend,
            "scale": result.scale,
            "tiles": result.tiles,
            "ensemble": result.ensemble,
            "elapsed_ms": round(result.elapsed_ms, 1),
        }

    info = run_or_exit(as_json, action)
    if as_json:
        typer.echo(json.dumps(info, indent=2))
    else:
        typer.echo(
            f"{info['output']}: {info['output_size_px'][0]}x{info['output_size_px'][1]} px "
            f"({info['model']} x{info['scale']}, {info['backend']}, {info['elapsed_ms']} ms)"
        )


if __name__ == "__main__":
    superres_app()
