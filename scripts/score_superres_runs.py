"""Score finished super-resolution runs on Set5 and on store product photos.

Each RUN is a training output folder (``model.pt`` + ``config.json``, as
``fitroom superres train`` writes them, or a shipped model's folder). Printed per run:
the trainer's own held-out score (from its config), Set5, and the product photos that
the README's selection uses: the VITON-HD in-shop garment photos and the H&M catalogue
photos under the data dir (never trained on). Every score is the trainer's whole-image
validation (:func:`fitroom.superres.train.validate`): torch FP32, MATLAB-like bicubic
input, Y-PSNR with ``scale`` border pixels shaved.

    python scripts/score_superres_runs.py RUN [RUN ...] [--data-dir ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from fitroom.superres.data import ImagePair, list_images, make_pairs
from fitroom.superres.models import build_model
from fitroom.superres.train import validate

REPO_ROOT = Path(__file__).resolve().parent.parent
#: (label, folder under the data dir) of each scored set.
SETS = (
    ("set5", Path("superres") / "Set5"),
    ("garments", Path("tryon") / "garment"),
    ("hm", Path("catalog") / "hm_sample" / "images"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("FITROOM_DATA_DIR", REPO_ROOT.parent / "shared" / "data")),
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    missing = [str(args.data_dir / rel) for _, rel in SETS if not (args.data_dir / rel).is_dir()]
    if missing:
        parser.error(f"not found: {', '.join(missing)}")
    pairs: dict[tuple[str, int], list[ImagePair]] = {}
    for run in args.runs:
        config = json.loads((run / "config.json").read_text())
        scale = int(config["scale"])
        model = build_model(config["model"], scale, **config["hyper_parameters"])
        state = torch.load(run / "model.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state.get("model", state))
        scores: dict[str, object] = {"run": str(run), "scale": scale}
        scores["holdout_db"] = config.get("training", {}).get("final_val_psnr_db")
        sums_db, counts = {}, {}
        for label, rel in SETS:
            if (label, scale) not in pairs:
                pairs[(label, scale)] = make_pairs(list_images(args.data_dir / rel), scale)
            counts[label] = len(pairs[(label, scale)])
            scores[f"{label}_db"] = mean_db = validate(model, pairs[(label, scale)], scale)
            sums_db[label] = mean_db * counts[label]
        # Both product sets together, each photo counted once.
        scores["products_db"] = (sums_db["garments"] + sums_db["hm"]) / (
            counts["garments"] + counts["hm"]
        )
        if args.json:
            print(json.dumps(scores), flush=True)
        else:
            print(
                "  ".join(
                    f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in scores.items()
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
