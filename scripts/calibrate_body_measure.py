"""Take the shipped measurement models' mean error on calibration bodies off their answers.

The models learnt on the training renders; bodies photographed the way the test set is
(other seeds, arm angles, camera heights and distances and lights) come out a little
large on average, the same way on every such set (chest about +0.9 cm from two photos
without the weight). This script runs each shipped model on calibration bodies exactly
as the scan does (every level grid of ``LEVEL_SHIFTS``, averaged), measures the mean
signed error of every measurement as a ratio of stature, separately for rows without
and with the weight (sex given and not pooled), and stores it in the model's
``weights.npz`` (``offset_ratio``), where ``MeasurementModel.predict`` takes it off. The
standard deviations are left as they are. The calibration bodies must not be the test
set's: use the seed the models' ``--calibration`` used (5).

Run: ``python scripts/calibrate_body_measure.py var/body_scan/calibration_s5.npz`` (made
with ``python scripts/make_body_scan_data.py --bodies 480 --seed 5 --split test --out
var/body_scan/calibration_s5.npz``). ``--dry-run`` prints the offsets without writing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path

import numpy as np

from fitroom.body.measure_model import (
    MEASUREMENTS,
    VARIANTS,
    gate_passed,
    level_grid_data,
    load_measurement_model,
    predict_scan_data,
    read_scan_data,
    shipped_model_dir,
)

#: (weight hidden, sex hidden) rows pooled into each row of ``offset_ratio``.
ROWS_BY_WEIGHT = {0: ((True, False), (True, True)), 1: ((False, False), (False, True))}


def offsets(data: dict[str, np.ndarray], variant: str, models_dir: Path) -> tuple[np.ndarray, int]:
    """Mean signed error over stature (2 x measurements) of the ``variant`` model in
    ``models_dir``, any offsets it has set aside, on ``data``; and how many bodies."""
    model = dataclasses.replace(
        load_measurement_model(variant, models_dir), offset_ratio=np.zeros((2, len(MEASUREMENTS)))
    )
    index = gate_passed(data, variant)
    grids = level_grid_data(data)
    result = np.zeros((2, len(MEASUREMENTS)))
    for given, hidden in ROWS_BY_WEIGHT.items():
        values_cm, _, truth_cm, heights_cm = predict_scan_data(model, grids, index, variant, hidden)
        result[given] = ((values_cm - truth_cm) / heights_cm[:, None]).mean(axis=0)
    return result, len(index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("calibration", type=Path, help="scan data of the calibration bodies")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--models-dir", type=Path, default=shipped_model_dir())
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args()
    data = read_scan_data(args.calibration)
    meta = json.loads(str(data["meta_json"])) if "meta_json" in data else {}
    for variant in args.variants:
        offset_ratio, bodies = offsets(data, variant, args.models_dir)
        at_170_cm = {
            label: {n: round(float(v) * 170.0, 2) for n, v in zip(MEASUREMENTS, row, strict=True)}
            for label, row in zip(("without weight", "with weight"), offset_ratio, strict=True)
        }
        print(variant, json.dumps(at_170_cm))
        if args.dry_run:
            continue
        model = load_measurement_model(variant, args.models_dir)
        config = {
            **model.config,
            "location_calibration": {
                "what": "mean signed error over stature on calibration bodies, read at every "
                "level grid as the scan does; taken off each prediction (offset_ratio in "
                "weights.npz; row 0 without the weight, row 1 with it)",
                "data": meta.get("command", str(args.calibration)),
                "bodies": bodies,
                "offset_cm_at_170_cm": at_170_cm,
                "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
            },
        }
        calibrated = dataclasses.replace(model, offset_ratio=offset_ratio, config=config)
        calibrated.save(args.models_dir / variant)
        print(f"wrote {args.models_dir / variant}")


if __name__ == "__main__":
    main()
