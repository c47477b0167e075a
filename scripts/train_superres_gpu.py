"""One timed round of x4 super-resolution training on a lent GPU, and its scores.

The shipped FitSR x4 was trained on this project's 2-core CPU; the same trainer runs
on a GPU with ``--device cuda`` (see ``fitroom.superres.train``). This script spends a
fixed wall-clock budget there, in two phases of concurrent runs (one GPU serves both
runs of a phase):

1. ``teacher``: a wide FitSR (16 blocks x 64 channels, about 1.2 M parameters) trained
   from scratch, and ``alone_long``: the shipped 8 x 32 net trained on from its weights
   for both phases' time.
2. ``distilled``: the shipped net trained on from its weights, half its loss against
   the teacher's output; and ``alone``: the same run without the teacher (the control
   of the distillation comparison: same start, seed, batches and time).

Every run validates on the trainer's held-out images (never Set5); Set5 is scored once
at the end for the record. Which net to ship is decided by the held-out PSNR.

    python scripts/train_superres_gpu.py --data-root DIR --out DIR [--device cuda]

DIR holds ``T91``, ``BSD200`` and ``Set5`` (any lossless format the trainer reads).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SHIPPED_X4 = Path("src/fitroom/models_dir/superres/fitsr_x4/model.pt")


def train_command(
    args: argparse.Namespace, name: str, minutes: float, extra: list[str]
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "fitroom.superres.cli",
        "train",
        "--data",
        str(args.data_root / "T91"),
        "--data",
        str(args.data_root / "BSD200"),
        "--scale",
        "4",
        "--model",
        "fitsr",
        "--out",
        str(args.out / name),
        "--steps",
        "100000000",
        "--schedule-minutes",
        str(minutes),
        "--device",
        args.device,
        "--validate-every",
        str(args.validate_every),
        "--checkpoint-minutes",
        "100",
        "--seed",
        "2",
        *extra,
    ]


def run_phase(args: argparse.Namespace, runs: dict[str, list[str]]) -> None:
    """Start every run of a phase at once and wait for all; logs go to OUT/NAME.log."""
    env = {**os.environ, "PYTHONPATH": "src", "PYTHONUNBUFFERED": "1"}
    started = {}
    for name, command in runs.items():
        log = (args.out / f"{name}.log").open("w")
        log.write(" ".join(command) + "\n")
        log.flush()
        started[name] = (
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env),
            log,
        )
    for name, (process, log) in started.items():
        code = process.wait()
        log.close()
        print(f"{name}: exit {code}", flush=True)


def set5_psnr_db(args: argparse.Namespace, name: str) -> float:
    """Set5 Y-PSNR of a run's weights, by the trainer's own whole-image validation."""
    import torch

    from fitroom.superres.data import list_images, make_pairs
    from fitroom.superres.models import build_model
    from fitroom.superres.train import validate

    config = json.loads((args.out / name / "config.json").read_text())
    model = build_model("fitsr", 4, **config["hyper_parameters"])
    model.load_state_dict(torch.load(args.out / name / "model.pt", weights_only=True))
    model.to(torch.device(args.device))
    return validate(model, make_pairs(list_images(args.data_root / "Set5"), 4), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--teacher-minutes", type=float, default=3.5)
    parser.add_argument("--student-minutes", type=float, default=3.5)
    parser.add_argument("--validate-every", type=int, default=2000)
    parser.add_argument("--student-batch", type=int, default=64)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    student = [
        "--init", str(SHIPPED_X4), "--batch-size", str(args.student_batch),
        "--patch", "32", "--lr", "0.0002",
    ]  # fmt: skip
    run_phase(
        args,
        {
            "teacher": train_command(
                args, "teacher", args.teacher_minutes,
                ["--blocks", "16", "--features", "64", "--batch-size", "32", "--patch", "48",
                 "--lr", "0.0005"],
            ),
            "alone_long": train_command(
                args, "alone_long", args.teacher_minutes + args.student_minutes, student
            ),
        },
    )  # fmt: skip
    teacher = [
        "--teacher", str(args.out / "teacher" / "model.pt"),
        "--teacher-blocks", "16", "--teacher-features", "64", "--teacher-weight", "0.5",
    ]  # fmt: skip
    run_phase(
        args,
        {
            "distilled": train_command(args, "distilled", args.student_minutes, student + teacher),
            "alone": train_command(args, "alone", args.student_minutes, student),
        },
    )
    summary = {}
    for name in ("teacher", "alone_long", "distilled", "alone"):
        config_path = args.out / name / "config.json"
        if not config_path.exists():
            summary[name] = {"error": "no weights written; see its log"}
            continue
        training = json.loads(config_path.read_text())["training"]
        summary[name] = {
            "steps_done": training["steps_done"],
            "minutes": training["minutes"],
            "holdout_psnr_db": training["final_val_psnr_db"],
            "set5_psnr_db": set5_psnr_db(args, name),
        }
        print(name, summary[name], flush=True)
    summary["wall_minutes"] = round((time.monotonic() - began) / 60.0, 2)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
