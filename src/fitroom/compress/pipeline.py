"""The compression chain: torch model in, ONNX files and a side-by-side report out.

Steps, each a function of this package:

1. ``check_inputs``: options, folders and feeds, before any compute.
2. Export to ONNX FP32 and check it against torch (``export.py``).
3. INT8 quantization, static QDQ or dynamic by op counts (``quantize.py``), when the
   target format is ``onnx-int8``.
4. For each pruning ratio: structured channel pruning, short fine-tuning, then steps
   2-3 on the smaller model (``prune.py``). A control row fine-tunes the unpruned
   model the same way, so a pruned row that beats FP32 only because it trained longer
   shows as such.
5. Score and time every variant, choose the fastest within the budget (``report.py``);
   write ``report.md`` and ``report.json`` beside the ONNX files.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from torch import nn
from torch.nn import functional as F  # noqa: N812

from fitroom.compress.backends import OnnxRuntimeBackend, TorchBackend
from fitroom.compress.distill import Batch, LossFn
from fitroom.compress.export import (
    DEFAULT_OPSET,
    MIN_OPSET,
    EquivalenceCheck,
    InputSpec,
    check_equivalence,
    export_onnx,
)
from fitroom.compress.metrics import Feeds, QualityFn
from fitroom.compress.prune import fine_tune, prune_channels
from fitroom.compress.quantize import QuantizationMode, QuantizationResult, quantize_onnx
from fitroom.compress.report import (
    CompressionReport,
    LatencyTimer,
    QualityBudget,
    Variant,
    build_report,
)
from fitroom.errors import InputError, NotCompressible

#: Name prefix of the control variant (fine-tuned like the pruned ones, not pruned).
CONTROL_LABEL = "control: fine-tuned, unpruned "


class OutputFormat(StrEnum):
    """What ``fitroom compress --to`` produces: FP32 ONNX only, or FP32 and INT8."""

    onnx = "onnx"
    onnx_int8 = "onnx-int8"


@dataclass(frozen=True)
class CompressOptions:
    """Choices of one compression run (CLI flags map onto these one to one)."""

    to: OutputFormat = OutputFormat.onnx_int8
    budget: QualityBudget = field(default_factory=lambda: QualityBudget(max_drop=0.1))
    prune_ratios: tuple[float, ...] = ()
    fine_tune_steps: int = 0
    fine_tune_learning_rate: float = 1e-4
    #: Also fine-tune an unpruned copy the same way (a control row in the report).
    fine_tune_control: bool = True
    quantization: QuantizationMode | None = None
    threads: int = 2
    warmup_runs: int = 5
    timed_runs: int = 30
    opset: int = DEFAULT_OPSET
    equivalence_tolerance: float = 1e-4
    equivalence_relative_tolerance: float = 0.0


@dataclass(frozen=True)
class PruningSummary:
    """What pruning did at one ratio (the model itself is in the ONNX file)."""

    ratio: float
    parameters_before: int
    parameters_after: int
    layers: list[dict[str, Any]]
    skipped: dict[str, str]
    fine_tune_steps: int
    fine_tune_loss_first: float
    fine_tune_loss_last: float


@dataclass(frozen=True)
class CompressionResult:
    """The report plus the files written and what each step measured."""

    report: CompressionReport
    files: dict[str, Path]
    equivalence: dict[str, EquivalenceCheck]
    quantization: dict[str, QuantizationResult]
    pruning: list[PruningSummary]

    @property
    def chosen_file(self) -> Path | None:
        """The file of the chosen variant (None when it is the torch model itself)."""
        return self.files.get(self.report.chosen or "")


def check_inputs(
    inputs: Sequence[InputSpec],
    out_dir: Path,
    options: CompressOptions,
    calibration: Sequence[Feeds],
    fine_tune_batches: Callable[[], Iterator[Batch]] | None,
) -> None:
    """Reject unusable options before any export or training starts."""
    if not inputs:
        raise InputError("at least one InputSpec is needed", field="inputs")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output path {out_dir} exists and is not a folder", field="out")
    for ratio in options.prune_ratios:
        if not 0.0 < ratio < 1.0:
            raise InputError(f"pruning ratios must be in (0, 1); got {ratio}", field="prune")
    if options.fine_tune_steps < 0:
        raise InputError("fine_tune_steps must be >= 0", field="fine_tune_steps")
    if options.fine_tune_steps > 0 and options.prune_ratios and fine_tune_batches is None:
        raise InputError(
            "fine-tuning after pruning needs training batches; pass fine_tune_batches "
            "or set fine_tune_steps=0",
            field="fine_tune_steps",
        )
    if options.threads < 1:
        raise InputError(f"threads must be >= 1; got {options.threads}", field="threads")
    if options.opset < MIN_OPSET:
        raise InputError(f"opset must be >= {MIN_OPSET}; got {options.opset}", field="opset")
    if (
        options.to is OutputFormat.onnx_int8
        and options.quantization is QuantizationMode.static
        and not calibration
    ):
        raise InputError("static INT8 needs a calibration set", field="calibration")
    names = {s.name for s in inputs}
    for feed in calibration:
        if set(feed) != names:
            raise InputError(
                f"calibration feeds have inputs {sorted(feed)}; the model takes {sorted(names)}",
                field="calibration",
            )


def compress_model(
    model: nn.Module,
    inputs: Sequence[InputSpec],
    out_dir: Path,
    *,
    quality: QualityFn,
    latency_feeds: Feeds,
    model_name: str,
    metric: str,
    calibration: Sequence[Feeds] = (),
    real_feeds: Sequence[Feeds] = (),
    fine_tune_batches: Callable[[], Iterator[Batch]] | None = None,
    fine_tune_loss: LossFn | None = None,
    options: CompressOptions | None = None,
    timer: LatencyTimer | None = None,
    progress: Callable[[str], None] | None = None,
    notes: Sequence[str] = (),
) -> CompressionResult:
    """Run the whole chain on ``model``; see the module docstring for the steps.

    ``notes`` open the report's notes (e.g. the exact definition of ``metric``).
    """
    options = options or CompressOptions()
    say = progress or (lambda _message: None)
    # 1. Check every input before any compute.
    check_inputs(inputs, out_dir, options, calibration, fine_tune_batches)
    out_dir.mkdir(parents=True, exist_ok=True)
    int8 = options.to is OutputFormat.onnx_int8
    files: dict[str, Path] = {}
    equivalence: dict[str, EquivalenceCheck] = {}
    quantization: dict[str, QuantizationResult] = {}
    pruning: list[PruningSummary] = []
    variants = [Variant("torch fp32", TorchBackend(model, threads=options.threads))]
    report_notes: list[str] = list(notes)

    def export_and_quantize(
        network: nn.Module, stem: str, label: str, *, quantize: bool = True
    ) -> None:
        # 2. Export and check against torch.
        say(f"exporting the {label or 'original '}model to ONNX")
        fp32_path = export_onnx(network, inputs, out_dir / f"{stem}.onnx", opset=options.opset)
        check = check_equivalence(
            network,
            fp32_path,
            inputs,
            real_feeds=real_feeds,
            tolerance=options.equivalence_tolerance,
            relative_tolerance=options.equivalence_relative_tolerance,
        )
        equivalence[f"{label}onnx fp32"] = check
        files[f"{label}onnx fp32"] = fp32_path
        variants.append(
            Variant(
                f"{label}onnx fp32",
                OnnxRuntimeBackend(fp32_path, threads=options.threads),
                note=f"max |torch - onnx| = {check.max_abs_diff:.2g}",
                candidate=label != CONTROL_LABEL,
            )
        )
        if not (int8 and quantize):
            return
        # 3. INT8.
        say(f"quantizing the {label or 'original '}model to INT8")
        result = quantize_onnx(
            fp32_path,
            out_dir / f"{stem}.int8.onnx",
            calibration=calibration,
            mode=options.quantization,
        )
        name = f"{label}onnx int8 ({result.mode.value})"
        quantization[name] = result
        files[name] = result.path
        variants.append(
            Variant(
                name,
                OnnxRuntimeBackend(result.path, threads=options.threads, precision="int8"),
                note=result.reason
                + ("; 7-bit weights (this CPU has no VNNI)" if result.reduce_range else ""),
                fp32_source=f"{label}onnx fp32",
            )
        )

    export_and_quantize(model, "model", "")
    # 4. Pruned variants (and the control: the same fine-tuning without pruning).
    fine_tuning = options.fine_tune_steps > 0 and fine_tune_batches is not None
    if options.prune_ratios and fine_tuning and options.fine_tune_control:
        assert fine_tune_batches is not None
        say(f"fine-tuning an unpruned copy for {options.fine_tune_steps} steps (control)")
        control = copy.deepcopy(model)
        fine_tune(
            control,
            fine_tune_batches(),
            options.fine_tune_steps,
            learning_rate=options.fine_tune_learning_rate,
            loss_fn=fine_tune_loss or F.l1_loss,
        )
        export_and_quantize(control, "model.finetuned", CONTROL_LABEL, quantize=False)
        report_notes.append(
            f"Control: the unpruned model fine-tuned with the same {options.fine_tune_steps} "
            "steps and data; compare pruned rows with it to separate the effect of pruning "
            "from that of the extra training."
        )
    for ratio in options.prune_ratios:
        percent = round(ratio * 100)
        label = f"pruned {percent}% "
        say(f"pruning {percent}% of the channels")
        try:
            pruned = prune_channels(model, ratio)
        except NotCompressible as exc:
            report_notes.append(f"Pruning {percent}%: not possible ({exc.message}).")
            continue
        first_loss, last_loss = math.nan, math.nan
        if fine_tuning and fine_tune_batches is not None:
            say(f"fine-tuning the {percent}% pruned model for {options.fine_tune_steps} steps")
            log = fine_tune(
                pruned.model,
                fine_tune_batches(),
                options.fine_tune_steps,
                learning_rate=options.fine_tune_learning_rate,
                loss_fn=fine_tune_loss or F.l1_loss,
            )
            first_loss, last_loss = log.first_truth_loss, log.last_truth_loss
        pruning.append(
            PruningSummary(
                ratio=ratio,
                parameters_before=pruned.parameters_before,
                parameters_after=pruned.parameters_after,
                layers=[
                    {
                        "producer": layer.producer,
                        "consumer": layer.consumer,
                        "channels_before": layer.channels_before,
                        "channels_after": layer.channels_after,
                    }
                    for layer in pruned.layers
                ],
                skipped=pruned.skipped,
                fine_tune_steps=options.fine_tune_steps,
                fine_tune_loss_first=first_loss,
                fine_tune_loss_last=last_loss,
            )
        )
        report_notes.append(
            f"Pruned {percent}%: {len(pruned.layers)} conv layers thinned, parameters "
            f"{pruned.parameters_before} -> {pruned.parameters_after}; fine-tuned "
            f"{options.fine_tune_steps} steps."
        )
        export_and_quantize(pruned.model, f"model.pruned{percent}", label)
    # 5. Measure, choose, write.
    say("scoring and timing every variant")
    report = build_report(
        variants,
        quality,
        latency_feeds,
        options.budget,
        model=model_name,
        metric=metric,
        warmup_runs=options.warmup_runs,
        timed_runs=options.timed_runs,
        timer=timer,
        notes=report_notes,
    )
    (out_dir / "report.md").write_text(f"# Compression of {model_name}\n\n" + report.to_markdown())
    (out_dir / "report.json").write_text(report.to_json())
    return CompressionResult(report, files, equivalence, quantization, pruning)
