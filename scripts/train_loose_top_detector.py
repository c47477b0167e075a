"""Train the loose-top detectors (front, front_side) on synthetic scan data.

Input: ``.npz`` files from ``scripts/make_body_scan_data.py``; those made with
``--loose-top-share`` say which bodies wore a loose top (older files: none did).
Bodies are split 80/20 (seeded); the L2 strength is chosen from a small grid by the
held-out log-loss, and the threshold so that ``--false-alarm`` of the held-out
tight-clothed bodies are flagged. Output: ``src/fitroom/models_dir/loose_top/<variant>/``
(``weights.npz`` and ``config.json`` with the data, command and held-out rates).

Run (the shipped detectors; the full command is in each ``config.json``):
``python scripts/train_loose_top_detector.py
var/body_scan/more/train_loose_s2{0,1,2,3,4,5}.npz
var/body_scan/more/train_mirror_s2{6,7}.npz``
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fitroom.body.loose_top import LooseTopDetector, fit_logistic, shipped_detector_dir
from fitroom.body.measure_model import VARIANTS, gate_passed, read_scan_data, scan_rows
from train_body_measure import combine_scan_data

#: Weight and sex hidden: the detector must work whatever the shopper typed.
HIDDEN = ((True, True),)
L2_GRID = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="+")
    parser.add_argument("--false-alarm", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=shipped_detector_dir())
    args = parser.parse_args()
    data, meta = combine_scan_data([read_scan_data(path) for path in args.data])
    if not data["loose_top"].any():
        parser.error("no body in these files wore a loose top (make some with --loose-top-share)")
    rng = np.random.default_rng(args.seed)
    held_out = rng.random(len(data["height_cm"])) < 0.2
    for variant in VARIANTS:
        index = gate_passed(data, variant)
        train_index, val_index = index[~held_out[index]], index[held_out[index]]
        x_train = scan_rows(data, train_index, variant, HIDDEN)[0]
        x_val = scan_rows(data, val_index, variant, HIDDEN)[0]
        y_train, y_val = data["loose_top"][train_index], data["loose_top"][val_index]
        best = None
        for l2 in L2_GRID:
            mean, std, coef, intercept = fit_logistic(x_train, y_train, l2)
            detector = LooseTopDetector(variant, mean, std, coef, intercept, 0.5, {})
            loss = log_loss(detector.probability(x_val), y_val)
            print(f"{variant} l2 {l2}: held-out log-loss {loss:.4f}", flush=True)
            if best is None or loss < best[0]:
                best = (loss, l2, detector)
        assert best is not None
        loss, l2, detector = best
        p_val = detector.probability(x_val)
        threshold = float(np.quantile(p_val[~y_val], 1.0 - args.false_alarm))
        flagged = p_val >= threshold
        figures = {
            "l2": l2,
            "held_out_log_loss": round(loss, 4),
            "held_out_bodies": int(val_index.size),
            "held_out_loose": int(y_val.sum()),
            "held_out_loose_flagged": round(float(flagged[y_val].mean()), 3),
            "held_out_tight_flagged": round(float(flagged[~y_val].mean()), 3),
            "train_bodies": int(train_index.size),
            "train_loose": int(y_train.sum()),
        }
        print(variant, json.dumps(figures), flush=True)
        config = {
            "description": f"loose-top detector, {variant.replace('_', ' + ')} view(s)",
            "inputs": "fitroom.body.measure_model.model_inputs with weight and sex left out",
            "false_alarm_target": args.false_alarm,
            "figures": figures,
            "data": meta if isinstance(meta, list) else [meta],
            "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        }
        final = LooseTopDetector(
            variant,
            detector.input_mean,
            detector.input_std,
            detector.coef,
            detector.intercept,
            threshold,
            config,
        )
        final.save(args.out / variant)
        print("wrote", args.out / variant, flush=True)


if __name__ == "__main__":
    main()
