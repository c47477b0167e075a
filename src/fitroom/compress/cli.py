"""``fitroom compress MODEL --to onnx|onnx-int8``: the command-line face of the chain.

Registered by ``fitroom/cli.py`` (``app.command("compress")(compress_command)``). Only
Typer is imported at module level; torch, ONNX and the models load inside the command
so ``fitroom --help`` stays fast. A user mistake (unknown model, bad ratio) prints the
message and exits 2, as every fitroom command does.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from fitroom.cli_support import run_or_exit


class ToOpt(StrEnum):
    onnx = "onnx"
    onnx_int8 = "onnx-int8"


def compress_command(
    model: Annotated[
        str,
        typer.Argument(
            help="Model to compress, e.g. superres/fitsr_x4, body_measure/front_side, "
            "recsys/sasrec; 'list' shows them."
        ),
    ],
    to: Annotated[ToOpt, typer.Option("--to", help="Output: FP32 ONNX, or FP32 and INT8.")] = (
        ToOpt.onnx_int8
    ),
    calibration: Annotated[
        Path | None,
        typer.Option(help="Folder of calibration inputs (images) instead of the default set."),
    ] = None,
    budget: Annotated[
        float,
        typer.Option(
            help="How much worse than FP32 the quality may get, in the metric's unit "
            "(dB of PSNR, cm of MAE, NDCG@10)."
        ),
    ] = 0.1,
    eval_data: Annotated[
        Path | None,
        typer.Option(
            help="Held-out data file of targets that read one: body_measure/* test .npz "
            "from scripts/make_body_scan_data.py (default VAR_DIR/body_scan/test2.npz)."
        ),
    ] = None,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            help="recsys/sasrec: a saved recommender folder (default: the served version "
            "under VAR_DIR/models/recsys)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: VAR_DIR/compress/MODEL).")
    ] = None,
    prune: Annotated[
        list[float] | None,
        typer.Option(help="Channel pruning ratio to try (repeatable), e.g. --prune 0.25."),
    ] = None,
    fine_tune_steps: Annotated[
        int, typer.Option(help="Fine-tuning steps after pruning (0: none).")
    ] = 300,
    threads: Annotated[int, typer.Option(help="Intra-op threads for timing.")] = 2,
    runs: Annotated[int, typer.Option(help="Timed runs per variant (after 5 warm-up).")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Export a fitroom model to ONNX (and INT8), prune, and report size/latency/quality."""
    from fitroom.config import get_settings

    settings = get_settings()
    recsys_model_dir = model_dir
    if recsys_model_dir is None and (model == "list" or model.startswith("recsys/")):
        recsys_model_dir = served_recommender(settings.resolved_recsys_dir)
    if model == "list":
        from fitroom.compress.targets import known_targets

        names = run_or_exit(as_json, lambda: known_targets(recsys_model_dir=recsys_model_dir))
        typer.echo(json.dumps(names) if as_json else "\n".join(names) or "none shipped yet")
        return
    result = run_or_exit(
        as_json,
        lambda: _compress(
            model,
            to,
            calibration,
            budget,
            out or settings.var_dir / "compress" / model.replace("/", "_"),
            prune or [],
            fine_tune_steps,
            threads,
            runs,
            settings.data_dir,
            quiet=as_json,
            var_dir=settings.var_dir,
            eval_data=eval_data,
            recsys_model_dir=recsys_model_dir,
        ),
    )
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
    else:
        typer.echo(result["markdown"])
        typer.echo(f"chosen: {result['chosen']} -> {result['chosen_file'] or '(torch model)'}")
        typer.echo(f"report: {result['report_md']}")


def _compress(
    model: str,
    to: ToOpt,
    calibration: Path | None,
    budget: float,
    out: Path,
    prune: list[float],
    fine_tune_steps: int,
    threads: int,
    runs: int,
    data_dir: Path,
    *,
    quiet: bool,
    models_dir: Path | None = None,
    var_dir: Path | None = None,
    eval_data: Path | None = None,
    body_models_dir: Path | None = None,
    recsys_model_dir: Path | None = None,
) -> dict[str, Any]:
    """Run the chain on a known target; the result as plain data (for text or JSON)."""
    import torch

    from fitroom.compress.pipeline import CompressOptions, OutputFormat, compress_model
    from fitroom.compress.report import QualityBudget
    from fitroom.compress.targets import get_target
    from fitroom.errors import InputError

    if calibration is not None and not calibration.is_dir():
        raise InputError(f"calibration folder {calibration} does not exist", field="calibration")
    torch.set_num_threads(threads)
    target = get_target(
        model,
        data_dir,
        models_dir=models_dir,
        var_dir=var_dir,
        eval_data=eval_data,
        body_models_dir=body_models_dir,
        recsys_model_dir=recsys_model_dir,
    )
    if prune and target.fine_tune_batches is None:
        raise InputError(
            f"{model} is not pruned: the pruner thins convolution channels and fine-tunes "
            "after, and this target has no fine-tuning data; leave out --prune",
            field="prune",
        )

    def progress(message: str) -> None:
        if not quiet:
            print(f"{model}: {message}", file=sys.stderr, flush=True)

    progress("loading the model, calibration and evaluation data")
    result = compress_model(
        target.load_model(),
        target.inputs,
        out,
        quality=target.quality(),
        latency_feeds=target.latency_feeds(),
        model_name=model,
        metric=target.metric,
        calibration=target.calibration(calibration) if to is ToOpt.onnx_int8 else (),
        real_feeds=target.real_feeds(),
        fine_tune_batches=target.fine_tune_batches,
        options=CompressOptions(
            to=OutputFormat(to.value),
            budget=QualityBudget(max_drop=budget, higher_is_better=target.higher_is_better),
            prune_ratios=tuple(prune),
            fine_tune_steps=fine_tune_steps if prune else 0,
            threads=threads,
            timed_runs=runs,
            equivalence_tolerance=target.equivalence_tolerance,
            equivalence_relative_tolerance=target.equivalence_relative_tolerance,
        ),
        progress=progress,
        notes=[target.definition] if target.definition else [],
    )
    return {
        **result.report.to_dict(),
        "markdown": result.report.to_markdown(),
        "chosen_file": str(result.chosen_file) if result.chosen_file else None,
        "files": {name: str(path) for name, path in result.files.items()},
        "report_md": str(out / "report.md"),
        "report_json": str(out / "report.json"),
    }


def served_recommender(recsys_dir: Path) -> Path | None:
    """The folder of the recommender version the API serves (None before any training)."""
    from fitroom.services.recommendations import current_version

    version = current_version(recsys_dir)
    return recsys_dir / version if version else None
