"""One timed round of x4 super-resolution training on a lent GPU, and its scores.

The shipped FitSR x4 was trained on this project's 2-core CPU; the same trainer runs
on a GPU with ``--device cuda`` (see ``fitroom.superres.train``), where patches are cut
on the GPU (``--patch-sampler tensor``). This script starts its runs at once (one GPU
serves them all), each for the same wall-clock budget with its learning-rate schedule
spread over that budget:

- ``long_b64``: the shipped 8 x 32 net trained on from its weights, 64 patches of 48 px
  a step, peak learning rate 2e-4;
- ``long_b128``: the same with 128 patches a step and a peak of 5e-4;
- ``grown10``: the shipped net grown to 10 blocks (the new ones start as the identity),
  otherwise as ``long_b64``.

A run that dies in its first minute is started again with the CPU patch sampler (the
path the first H200 round used), so a failure of the new sampler costs one minute,
not the round. Every run validates on the trainer's five held-out images (never Set5);
Set5 is scored once at the end for the record. Which net to ship is decided by the
held-out PSNR, and an 8-block net is preferred (a 10-block one costs CPU time at
every upscale).

    python scripts/train_superres_gpu.py --data-root DIR --out DIR [--minutes 6.5]

DIR holds ``T91``, ``BSD200`` and ``Set5`` (any lossless format the trainer reads;
``scripts/pack_superres_data.py`` makes lossless WebP copies small enough to carry).
Everything the round makes is also packed into ``OUT/round.tar.gz``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import IO

SHIPPED_X4 = Path("src/fitroom/models_dir/superres/fitsr_x4/model.pt")
#: A run that exits sooner than this is retried with the CPU patch sampler.
EARLY_FAILURE_S = 60.0

_P24_B256 = ["--patch", "24", "--batch-size", "256", "--lr", "0.0002"]
_SELF_TEACHER = [
    "--teacher",
    str(SHIPPED_X4),
    "--teacher-blocks",
    "8",
    "--teacher-features",
    "32",
    "--teacher-ensemble",
    "8",
    "--teacher-weight",
    "0.5",
]

#: The rounds run so far, by name: each run's own options (``--round`` picks one).
ROUNDS: dict[str, dict[str, list[str]]] = {
    # Second H200 round: 48 px patches. Every run ended below the shipped net's held-out
    # score; 51 of T91's 91 images are under 192 px and were never sampled.
    "patch48": {
        "long_b64": ["--patch", "48", "--batch-size", "64", "--lr", "0.0002"],
        "long_b128": ["--patch", "48", "--batch-size", "128", "--lr", "0.0005"],
        "grown10": ["--patch", "48", "--batch-size", "64", "--lr", "0.0002", "--blocks", "10"],
    },
    # Third round: patches small enough for (almost) every T91 image.
    "patch32": {
        "grown10": ["--patch", "32", "--batch-size", "64", "--lr", "0.0002", "--blocks", "10"],
        "grown12": ["--patch", "32", "--batch-size", "64", "--lr", "0.0002", "--blocks", "12"],
        "long_p24": ["--patch", "24", "--batch-size", "128", "--lr", "0.0002"],
    },
    # Fourth round: the stage-3 net taught its own 8-pass self-ensemble (31.69 dB on
    # Set5 against 31.44 for one pass), and/or drawing T91's close-ups as often as
    # BSD200's scenes (by image rather than by area); ``plain`` is the control.
    "self_ensemble": {
        "plain": [*_P24_B256],
        "by_image": [*_P24_B256, "--sample-by", "image"],
        "self_ens": [*_P24_B256, *_SELF_TEACHER],
        "self_ens_by_image": [*_P24_B256, *_SELF_TEACHER, "--sample-by", "image"],
    },
}


def train_command(
    args: argparse.Namespace, name: str, minutes: float, extra: list[str], sampler: str
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
        f"{minutes:.3f}",
        "--device",
        args.device,
        "--validate-every",
        str(args.validate_every),
        "--checkpoint-minutes",
        "100",
        "--seed",
        "3",
        "--init",
        str(SHIPPED_X4),
        "--patch-sampler",
        sampler,
        *extra,
    ]


def start(
    args: argparse.Namespace, name: str, minutes: float, sampler: str
) -> tuple[subprocess.Popen[bytes], IO[str], float]:
    env = {**os.environ, "PYTHONPATH": "src", "PYTHONUNBUFFERED": "1"}
    command = train_command(args, name, minutes, ROUNDS[args.round][name], sampler)
    log = (args.out / f"{name}.log").open("a")
    log.write(" ".join(command) + "\n")
    log.flush()
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    return process, log, time.monotonic()


def run_all(args: argparse.Namespace) -> None:
    """Start every run at once; retry an early failure once on the CPU sampler."""
    began = time.monotonic()
    running = {name: start(args, name, args.minutes, "tensor") for name in ROUNDS[args.round]}
    retried: set[str] = set()
    while running:
        time.sleep(2.0)
        for name, (process, log, started) in list(running.items()):
            code = process.poll()
            if code is None:
                continue
            log.close()
            del running[name]
            lasted = time.monotonic() - started
            print(f"{name}: exit {code} after {lasted:.0f} s", flush=True)
            if code != 0 and lasted < EARLY_FAILURE_S and name not in retried:
                retried.add(name)
                left = args.minutes - (time.monotonic() - began) / 60.0
                print(f"{name}: retrying with the numpy sampler for {left:.2f} min", flush=True)
                running[name] = start(args, name, left, "numpy")


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
    parser.add_argument("--minutes", type=float, default=6.5)
    parser.add_argument("--round", choices=sorted(ROUNDS), default="patch32")
    parser.add_argument("--validate-every", type=int, default=5000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    run_all(args)
    summary: dict[str, object] = {}
    for name in ROUNDS[args.round]:
        config_path = args.out / name / "config.json"
        if not config_path.exists():
            summary[name] = {"error": "no weights written; see its log"}
            continue
        training = json.loads(config_path.read_text())["training"]
        summary[name] = {
            "steps_done": training["steps_done"],
            "minutes": training["minutes"],
            "patch_sampler": training["patch_sampler"],
            "holdout_psnr_db": training["final_val_psnr_db"],
            "set5_psnr_db": set5_psnr_db(args, name),
        }
        print(name, summary[name], flush=True)
    summary["wall_minutes"] = round((time.monotonic() - began) / 60.0, 2)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    with tarfile.open(args.out / "round.tar.gz", "w:gz") as tar:
        for path in sorted(args.out.rglob("*")):
            if path.is_file() and path.name not in ("round.tar.gz", "last.pt"):
                tar.add(path, arcname=str(path.relative_to(args.out)))


if __name__ == "__main__":
    main()
