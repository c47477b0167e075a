"""Compression of the super-resolution models, and the distillation experiment.

Two benchmarks, one script (both single-process, torch and ONNX Runtime threads set
explicitly, on CPU):

``chain`` (default): every shipped SR model under ``src/fitroom/models_dir/superres/``
goes through the whole ``fitroom.compress`` chain: export to ONNX FP32 with a
numerical check against torch, static QDQ INT8 calibrated on T91 LR images, structured
pruning with fine-tuning where the architecture allows it, then size, median latency
(warm-up, N runs, one Set5 image at a fixed size) and Set5 Y-PSNR of every variant in
one table; the fastest variant within the quality budget is marked. Writes
``bench/results/compress_superres.md``. Models that are not shipped yet are listed as
such; when none is, a FitSR x4 trained here for a few minutes stands in (stated).

``distill``: the controlled knowledge-distillation comparison at x4: the same student
(ESPCN, same seed, same T91 patches in the same order, same steps) trained alone and
trained from a FitSR teacher, scored by Set5 Y-PSNR (MATLAB bicubic degradation,
border of 4 px cropped). The teacher is the shipped FitSR x4 when present, else a FitSR
x4 trained here first with a fixed step budget (stated in the result). Writes
``bench/results/distillation.md``.

Run: ``.venv/bin/python bench/compress_superres.py [chain|distill] [--help]``
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO_ROOT, data_dir, machine, markdown_table, write_result
from fitroom.compress.backends import OnnxRuntimeBackend, TorchBackend
from fitroom.compress.distill import (
    DistillationConfig,
    compare_distillation,
    distill,
)
from fitroom.compress.pipeline import (
    CONTROL_LABEL,
    CompressionResult,
    CompressOptions,
    OutputFormat,
    PruningSummary,
    compress_model,
)
from fitroom.compress.report import QualityBudget, Variant, build_report
from fitroom.compress.targets import (
    ShippedModel,
    SuperResolutionEval,
    find_shipped_superres,
    load_shipped_superres,
    superres_target,
)

CACHE_DIR = REPO_ROOT / "var" / "cache" / "compress"


def patch_batches(
    scale: int, batch: int, lr_patch_px: int, seed: int
) -> Iterator[tuple[Tensor, Tensor]]:
    """Endless seeded T91 patch batches (LR, HR) as float tensors in [0, 1]."""
    from fitroom.superres.data import PatchSampler, list_images, make_pairs

    pairs = make_pairs(list_images(data_dir() / "superres" / "T91"), scale)
    sampler = PatchSampler(pairs, scale, lr_patch_px, seed)
    while True:
        lr, hr = sampler.sample(batch)
        yield torch.from_numpy(lr), torch.from_numpy(hr)


def log_progress(name: str, step: int, total: int, loss: float) -> None:
    print(f"  [{name}] step {step}/{total} loss {loss:.5f}", file=sys.stderr, flush=True)


def get_teacher(args: argparse.Namespace, evaluator: SuperResolutionEval) -> tuple[nn.Module, str]:
    """The shipped FitSR x4 if present, else one trained here (cached by its settings)."""
    from fitroom.superres.models import build_model

    shipped = [t for t in find_shipped_superres() if t.architecture == "fitsr" and t.scale == 4]
    if shipped and not args.train_teacher:
        model = load_shipped_superres(shipped[0])
        return model, f"shipped `{shipped[0].name}` ({shipped[0].path.relative_to(REPO_ROOT)})"
    cache = CACHE_DIR / f"teacher_fitsr_x4_s{args.teacher_steps}_b{args.batch}_p{args.patch}.pt"
    model = build_model("fitsr", 4)
    if cache.exists():
        model.load_state_dict(torch.load(cache, weights_only=True))
        wall = json.loads(cache.with_suffix(".json").read_text())["wall_s"]
    else:
        torch.manual_seed(args.teacher_seed)
        model = build_model("fitsr", 4)
        log = distill(
            model,
            None,
            patch_batches(4, args.batch, args.patch, args.teacher_seed),
            DistillationConfig(steps=args.teacher_steps, learning_rate=args.lr, log_every=500),
            progress=lambda s, t, loss: log_progress("teacher", s, t, loss),
        )
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), cache)
        wall = log.wall_s
        cache.with_suffix(".json").write_text(json.dumps({"wall_s": wall}))
    model.eval()
    if shipped:
        shipped_db = evaluator.evaluate_torch(load_shipped_superres(shipped[0]))
        why = (
            f"the shipped `{shipped[0].name}` ({shipped_db:.2f} dB on Set5 when this ran) "
            "was set aside with --train-teacher"
        )
    else:
        why = "no FitSR x4 was shipped when this ran"
    return model, (
        f"FitSR x4 (8 blocks x 32 ch) trained here for {args.teacher_steps} steps, "
        f"seed {args.teacher_seed} "
        f"(batch {args.batch}, LR patch {args.patch} px, Adam {args.lr:g} cosine, L1), "
        f"{wall / 60:.1f} min; {why}"
    )


def run_distill(args: argparse.Namespace) -> None:
    from fitroom.superres.models import build_model

    torch.set_num_threads(args.threads)
    evaluator = SuperResolutionEval.set5(data_dir(), scale=4)
    bicubic_db = evaluator.evaluate_torch(build_model("bicubic", 4))
    print(f"bicubic Set5 x4 Y-PSNR {bicubic_db:.3f} dB", file=sys.stderr)
    teacher, teacher_note = get_teacher(args, evaluator)
    started = time.perf_counter()
    results = []
    for seed in args.seeds:
        config = DistillationConfig(
            steps=args.student_steps,
            learning_rate=args.lr,
            teacher_weight=args.teacher_weight,
            seed=seed,
            log_every=500,
        )
        results.append(
            compare_distillation(
                lambda: build_model(args.student, 4),
                teacher,
                functools.partial(patch_batches, 4, args.batch, args.patch, seed),
                evaluator.evaluate_torch,
                config,
                metric="Set5 x4 Y-PSNR (dB)",
                progress=log_progress,
            )
        )
        print(f"seed {seed}: gain {results[-1].gain:+.4f} dB", file=sys.stderr)
    total_min = (time.perf_counter() - started) / 60
    rows: list[list[Any]] = [
        ["bicubic (reference)", "-", "-", f"{bicubic_db:.3f}", "-", "-"],
        ["teacher: FitSR x4", "-", "-", f"{results[0].teacher_score:.3f}", "-", "-"],
    ]
    for r in results:
        for arm, score, log in (
            ("alone", r.alone_score, r.alone),
            (f"distilled (alpha {r.teacher_weight:g})", r.distilled_score, r.distilled),
        ):
            rows.append(
                [
                    f"student {args.student} {arm}",
                    r.seed,
                    r.steps,
                    f"{score:.3f}",
                    f"{log.last_truth_loss:.5f}",
                    f"{log.wall_s / 60:.1f}",
                ]
            )
    table = markdown_table(
        ["model", "seed", "steps", "Set5 x4 Y-PSNR (dB)", "final L1 vs HR (train)", "train min"],
        rows,
    )
    gains = [r.gain for r in results]
    per_seed = ", ".join(f"seed {r.seed}: {r.gain:+.3f}" for r in results)
    mean_gain = sum(gains) / len(gains)
    text = f"""# Knowledge distillation, super-resolution x4 (measured)

Generated by `bench/compress_superres.py distill` on {machine()}, torch threads =
{args.threads}, while other training jobs shared the CPU (wall times are indicative only;
the comparison is by steps, not by time).

**Distilled minus alone: {mean_gain:+.3f} dB** (Set5 x4 Y-PSNR, mean over
{len(results)} seed(s); {per_seed}). Published anchor (RCAN teacher -> small student):
+0.18 dB; not reproduced here, the setup is far smaller (see below).

{table}

Setup (identical in both student arms of a seed, by construction of
`fitroom.compress.distill.compare_distillation`):

- Student: `{args.student}` from `fitroom.superres.models` (RGB in/out), same initial
  weights (the seed), {args.student_steps} steps of batch {args.batch}, random T91
  patches (LR {args.patch} px, HR {args.patch * 4} px, MATLAB-bicubic degradation, 8
  flips/rotations) in the same order, Adam {args.lr:g} with cosine decay to 0, L1 loss.
- Distilled arm: loss = (1 - alpha) L1(student, HR) + alpha L1(student, teacher), alpha =
  {args.teacher_weight:g}; the teacher is frozen.
- Teacher: {teacher_note}.
- Evaluation: Set5, HR cropped to a multiple of 4, LR by MATLAB-like bicubic, output
  clamped and rounded to 8 bits, Y (BT.601) PSNR with a 4 px border cropped, mean of
  the 5 images. Bicubic gives {bicubic_db:.2f} dB here (published: 28.42).
- Total run time {total_min:.1f} min. Rerun: `.venv/bin/python bench/compress_superres.py
  distill --seeds {" ".join(map(str, args.seeds))} --student-steps {args.student_steps}
  {f"--train-teacher --teacher-steps {args.teacher_steps}" if args.train_teacher else ""}`.

Caveats: few seeds, a short budget (a student far from converged: ESPCN's paper figure is
30.90 dB), and a teacher far weaker than RCAN; differences of a few hundredths of a dB
are within seed-to-seed noise and should not be read as a gain or a loss.
"""
    if args.result_file is not None:
        args.result_file.write_text(text)
        path = args.result_file
    else:
        path = write_result("distillation.md", text)
    print(text)
    print(f"wrote {path}", file=sys.stderr)


def stand_in_target(args: argparse.Namespace) -> tuple[ShippedModel, str]:
    """No shipped SR model yet: the FitSR x4 trained by ``distill`` (cached), as a folder."""
    evaluator = SuperResolutionEval.set5(data_dir(), scale=4)
    teacher, note = get_teacher(args, evaluator)
    folder = CACHE_DIR / "stand_in" / "fitsr_x4"
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(teacher.state_dict(), folder / "model.pt")
    config = {"model": "fitsr", "scale": 4, "hyper_parameters": {}}
    (folder / "config.json").write_text(json.dumps(config))
    shipped = ShippedModel("superres/fitsr_x4 (stand-in)", "fitsr", 4, folder, config)
    return shipped, note


def variants_at(result: CompressionResult, model: nn.Module, threads: int) -> list[Variant]:
    """The variants of a finished run again, with another thread count."""
    variants = [Variant("torch fp32", TorchBackend(model, threads=threads))]
    for name, path in result.files.items():
        precision = "int8" if "int8" in name else "fp32"
        source = name.split(" int8")[0] + " fp32" if precision == "int8" else None
        variants.append(
            Variant(
                name,
                OnnxRuntimeBackend(path, threads=threads, precision=precision),
                fp32_source=source,
                candidate=not name.startswith(CONTROL_LABEL),
            )
        )
    return variants


def pruning_line(p: PruningSummary) -> str:
    thinned = ", ".join(
        f"{x['producer']} {x['channels_before']}->{x['channels_after']}" for x in p.layers
    )
    return (
        f"  - {p.ratio:.0%}: parameters {p.parameters_before} -> {p.parameters_after}; "
        f"{len(p.layers)} convs thinned ({thinned}); fine-tuned {p.fine_tune_steps} steps, "
        f"train L1 {p.fine_tune_loss_first:.4f} -> {p.fine_tune_loss_last:.4f}; "
        f"{len(p.skipped)} convs kept whole (output feeds an add, the output or several ops)"
    )


def run_chain(args: argparse.Namespace) -> None:
    load_before = os.getloadavg()[0]
    shipped = find_shipped_superres()
    stand_in_note = ""
    if not shipped:
        model, stand_in_note = stand_in_target(args)
        shipped = [model]
    sections: list[str] = []
    summary_rows: list[list[Any]] = []
    # Fine-tuning and scoring on one thread (the CPU is shared); timing uses --threads.
    torch.set_num_threads(1)
    for model in shipped:
        target = superres_target(model, data_dir())
        network = target.load_model()
        out_dir = REPO_ROOT / "var" / "compress_bench" / model.name.split()[0].replace("/", "_")
        print(f"{model.name}: compressing into {out_dir}", file=sys.stderr)

        def say(message: str, name: str = model.name) -> None:
            print(f"  {name}: {message}", file=sys.stderr, flush=True)

        started = time.perf_counter()
        result = compress_model(
            network,
            target.inputs,
            out_dir,
            quality=target.quality(),
            latency_feeds=target.latency_feeds(),
            model_name=model.name,
            metric=target.metric,
            calibration=target.calibration(None),
            real_feeds=target.real_feeds(),
            fine_tune_batches=target.fine_tune_batches,
            options=CompressOptions(
                to=OutputFormat.onnx_int8,
                budget=QualityBudget(max_drop=args.budget),
                prune_ratios=tuple(args.prune),
                fine_tune_steps=args.fine_tune_steps,
                fine_tune_learning_rate=args.fine_tune_lr,
                threads=args.threads,
                warmup_runs=args.warmup,
                timed_runs=args.runs,
            ),
            progress=say,
        )
        minutes = (time.perf_counter() - started) / 60
        report = result.report
        single = build_report(
            variants_at(result, network, 1),
            target.quality(),
            target.latency_feeds(),
            QualityBudget(max_drop=args.budget),
            model=model.name,
            metric=target.metric,
            warmup_runs=args.warmup,
            timed_runs=args.runs,
        )
        equivalence = "; ".join(
            f"{name}: max abs diff {check.max_abs_diff:.2g} over {check.inputs_checked} inputs"
            for name, check in result.equivalence.items()
        )
        quantization = "; ".join(
            f"{name}: {q.mode.value} ({q.reason}, {q.calibration_samples} calibration crops)"
            for name, q in result.quantization.items()
        )
        pruning = "\n".join(pruning_line(p) for p in result.pruning)
        torch_n = report.row("torch fp32").latency_ms_median
        torch_1 = single.row("torch fp32").latency_ms_median
        if torch_n > 3 * torch_1:
            preface_warning = (
                f"**Torch FP32 at {args.threads} threads took {torch_n:.0f} ms against "
                f"{torch_1:.0f} ms at 1 thread**: with other jobs holding both cores, "
                "torch's intra-op threads wait on each other, so the speed-ups over torch "
                f"at {args.threads} threads are inflated; read the 1-thread table for them.\n\n"
            )
        else:
            preface_warning = ""
        preface = f"{stand_in_note}\n\n" if "stand-in" in model.name else ""
        preface += preface_warning
        sections.append(
            f"""## {model.name} ({model.architecture} x{model.scale})

{preface}Intra-op threads = {args.threads}:

{report.to_markdown()}
Intra-op threads = 1 (same files):

{single.to_markdown()}
- Export check (torch vs ONNX Runtime): {equivalence}.
- INT8: {quantization}.
- Pruning (L1-norm filters, structured):
{pruning}
- Chain run time {minutes:.1f} min.
"""
        )
        for threads, rep in ((args.threads, report), (1, single)):
            chosen = rep.row(rep.chosen) if rep.chosen else None
            summary_rows.append(
                [
                    model.name,
                    threads,
                    rep.chosen or "none",
                    f"{chosen.latency_ms_median:.1f}" if chosen else "-",
                    f"x{chosen.speedup_vs_baseline:.2f}" if chosen else "-",
                    f"{chosen.quality_delta:+.3f}" if chosen else "-",
                    ", ".join(r.name for r in rep.rows if r.int8_slower_than_fp32) or "none",
                ]
            )
    summary = markdown_table(
        [
            "model",
            "threads",
            "chosen (fastest within budget)",
            "latency (ms)",
            "speed-up",
            "quality delta (dB)",
            "INT8 slower than FP32",
        ],
        summary_rows,
    )
    text = f"""# Compression of the super-resolution models (measured)

Generated by `bench/compress_superres.py chain` on {machine()}. Every variant is timed
on the same input (one 64 x 64 px LR image, i.e. a 256 x 256 px x4 output), median of
{args.runs} runs after {args.warmup} warm-up runs; quality is Set5 Y-PSNR (MATLAB
bicubic degradation, border = scale shaved), budget: at most {args.budget:g} dB below
torch FP32. Load average {load_before:.1f} before the run (other processes share the
cores when it is above zero; the spread shows in p90); sizes and PSNR are exact.
INT8 is static QDQ, per-channel weights, MinMax calibration on 16 T91 LR crops
(64 x 64 px). Pruned rows are
fine-tuned {args.fine_tune_steps} steps (batch 16, T91 patches, L1, Adam
{args.fine_tune_lr:g}); the "control" row is the unpruned model fine-tuned the same way,
which separates the effect of pruning from that of the extra training.

{summary}

{chr(10).join(sections)}
Rerun: `.venv/bin/python bench/compress_superres.py chain`.
"""
    path = write_result("compress_superres.md", text)
    print(text)
    print(f"wrote {path}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    dist = sub.add_parser("distill", help="distillation comparison (writes distillation.md)")
    dist.add_argument("--student", default="espcn")
    dist.add_argument("--student-steps", type=int, default=6000)
    dist.add_argument("--teacher-steps", type=int, default=6000)
    dist.add_argument("--train-teacher", action="store_true", help="ignore a shipped teacher")
    dist.add_argument("--teacher-weight", type=float, default=0.5)
    dist.add_argument("--batch", type=int, default=16)
    dist.add_argument("--patch", type=int, default=24, help="LR patch side, px")
    dist.add_argument("--lr", type=float, default=1e-3)
    dist.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    dist.add_argument("--teacher-seed", type=int, default=1)
    dist.add_argument("--threads", type=int, default=1)
    dist.add_argument(
        "--result-file", type=Path, default=None, help="write here, not bench/results"
    )
    chain = sub.add_parser("chain", help="compression table (writes compress_superres.md)")
    chain.add_argument("--budget", type=float, default=0.1, help="max PSNR drop, dB")
    chain.add_argument("--prune", type=float, nargs="*", default=[0.25, 0.5])
    chain.add_argument("--fine-tune-steps", type=int, default=300)
    chain.add_argument("--fine-tune-lr", type=float, default=2e-4)
    chain.add_argument("--threads", type=int, default=2)
    chain.add_argument("--warmup", type=int, default=5)
    chain.add_argument("--runs", type=int, default=30)
    # For the stand-in teacher when no SR model is shipped (same cache as ``distill``).
    chain.add_argument("--teacher-steps", type=int, default=8000)
    chain.add_argument("--train-teacher", action="store_true")
    chain.add_argument("--batch", type=int, default=16)
    chain.add_argument("--patch", type=int, default=24)
    chain.add_argument("--lr", type=float, default=1e-3)
    chain.add_argument("--teacher-seed", type=int, default=1)
    args = parser.parse_args()
    if args.command == "distill":
        run_distill(args)
    else:
        if args.command is None:
            args = parser.parse_args(["chain"])
        run_chain(args)


if __name__ == "__main__":
    main()
