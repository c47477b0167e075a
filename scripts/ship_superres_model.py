"""Copy a finished super-resolution run into models_dir with its config and figures.

Writes ``src/fitroom/models_dir/superres/<model>_x<scale>/``: the weights
(``model.pt``, a plain state_dict), ``config.json`` (architecture, the exact training
command, the training config, Set5 PSNR/SSIM next to bicubic) and, for FitSR, the ONNX
FP32 and static-QDQ INT8 forms calibrated on T91 crops.

Run: ``python scripts/ship_superres_model.py fitsr 4 "<training command>"
[--hyper '{"blocks": 8, "features": 32, "res_scale": 1.0}'] [--run var/superres/fitsr_x4]``
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from fitroom.superres.data import list_images, make_pairs
from fitroom.superres.infer import (
    UpscalePipeline,
    calibration_crops,
    export_onnx_forms,
    shipped_models_dir,
)
from fitroom.superres.metrics import evaluate

REPO_ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("scale", type=int)
    parser.add_argument("command", help="the exact training command, recorded in config.json")
    parser.add_argument("--hyper", default="{}", help="architecture hyper-parameters (JSON)")
    parser.add_argument("--run", type=Path, help="training output folder")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("FITROOM_DATA_DIR", REPO_ROOT.parent / "shared" / "data")),
    )
    args = parser.parse_args()
    name, scale = args.model, args.scale
    run = args.run or REPO_ROOT / "var" / "superres" / f"{name}_x{scale}"
    dest = shipped_models_dir() / f"{name}_x{scale}"
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        old.unlink()
    torch.save(torch.load(run / "model.pt", weights_only=True), dest / "model.pt")
    trained = json.loads((run / "config.json").read_text())
    config = {
        "model": name,
        "scale": scale,
        "hyper_parameters": json.loads(args.hyper),
        "parameters": trained["parameters"],
        "command": args.command,
        "export_command": (
            f"python -m fitroom.superres.cli export --model {name} --scale {scale} "
            "--calibration ../shared/data/superres/T91"
        ),
        "data": (
            "T91 + BSD200 (291 images; 5 evenly spaced ones held out for validation, "
            "see training.holdout_images_used)"
        ),
        "training": trained["training"],
    }
    # The pipeline below loads the model through its config: write it first.
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    torch.set_num_threads(1)
    pairs = make_pairs(list_images(args.data_dir / "superres" / "Set5"), scale)
    results = {}
    for model in ("bicubic", name):
        pipeline = UpscalePipeline.from_shipped(model, scale, "torch", threads=1)
        results[model] = evaluate(lambda lr, p=pipeline: p(lr).pixels, pairs, scale, model)
        print(model, scale, results[model].psnr_db, results[model].ssim, flush=True)
    config["set5"] = {
        "psnr_db": round(results[name].psnr_db, 3),
        "ssim": round(results[name].ssim, 4),
        "bicubic_psnr_db": round(results["bicubic"].psnr_db, 3),
        "bicubic_ssim": round(results["bicubic"].ssim, 4),
        "protocol": "MATLAB-like bicubic LR; Y (BT.601) PSNR/SSIM; border of scale px shaved",
    }
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    if name == "fitsr":
        crops = calibration_crops(args.data_dir / "superres" / "T91", scale)
        print(export_onnx_forms(name, scale, dest, crops))
    for path in sorted(dest.iterdir()):
        print(path, path.stat().st_size)


if __name__ == "__main__":
    main()
