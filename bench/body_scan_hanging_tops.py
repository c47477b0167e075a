"""Body scan in loose tops whose sides hang: the shipped models on such test bodies.

A real T-shirt in the A-pose falls straight from the armpits past the waist; the
loose tops the shipped models were trained on follow the body's sides instead. This
bench scores the shipped models on ``var/body_scan/hang/test_hang.npz``
(``scripts/make_body_scan_data.py --bodies 240 --seed 61 --split test
--loose-top-share 1.0 --hanging-sides``: every body in such a top), the same tables as
``bench/body_scan.py``'s accuracy sections, and the share of bodies whose front-only
chest, waist and hip stay within 5 cm of the two-photo ones (the check real people's
repeat photos face), next to the same share on the bench's test set in tight clothes
(``var/body_scan/leaknear/test2.npz``) and in the earlier loose tops
(``var/body_scan/leaknear/test_loose.npz``) where those files exist.

Run: ``.venv/bin/python bench/body_scan_hanging_tops.py``; writes
bench/results/body_scan_hanging_tops.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO_ROOT, machine, markdown_table, write_result
from body_scan import MAIN_GIRTHS, VIEWS_GAP_CM, accuracy
from fitroom.body.measure_model import (
    MEASUREMENTS,
    gate_passed,
    level_grid_data,
    load_measurement_model,
    predict_scan_data,
    read_scan_data,
)

#: (weight hidden, sex hidden) rows of the views-gap table, and their labels.
GIVEN = {"height only": (True, True), "height and sex": (True, False)}


def views_gap_cells(path: Path, hidden: tuple[bool, bool]) -> list[str]:
    """The bodies both views passed, and for each main girth the median
    |front-only - two-photo| (cm) and the share within ``VIEWS_GAP_CM``."""
    data = read_scan_data(path)
    index = gate_passed(data, "front_side")
    grids = level_grid_data(data)
    values = {
        variant: predict_scan_data(
            load_measurement_model(variant), grids, index, variant, hidden=(hidden,)
        )[0]
        for variant in ("front", "front_side")
    }
    columns = [MEASUREMENTS.index(name) for name in MAIN_GIRTHS]
    gap = np.abs(values["front"] - values["front_side"])[:, columns]
    cells = [
        f"{np.median(gap[:, k]):.2f} / {100 * (gap[:, k] <= VIEWS_GAP_CM).mean():.1f}%"
        for k in range(len(columns))
    ]
    return [str(len(index)), *cells]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hanging-test-data", type=Path, default=REPO_ROOT / "var/body_scan/hang/test_hang.npz"
    )
    parser.add_argument(
        "--test-data", type=Path, default=REPO_ROOT / "var/body_scan/leaknear/test2.npz"
    )
    parser.add_argument(
        "--loose-test-data",
        type=Path,
        default=REPO_ROOT / "var/body_scan/leaknear/test_loose.npz",
    )
    args = parser.parse_args()
    if not args.hanging_test_data.is_file():
        sys.exit(
            f"{args.hanging_test_data} is missing: make it with python "
            "scripts/make_body_scan_data.py --bodies 240 --seed 61 --split test "
            "--loose-top-share 1.0 --hanging-sides --out var/body_scan/hang/test_hang.npz"
        )
    sets = [
        ("tight clothes (`test2.npz`)", args.test_data),
        ("earlier loose tops (`test_loose.npz`)", args.loose_test_data),
        ("loose tops whose sides hang (`test_hang.npz`)", args.hanging_test_data),
    ]
    gap_rows = [
        [f"{label}, {given}", *views_gap_cells(path, hidden)]
        for label, path in sets
        if path.is_file()
        for given, hidden in GIVEN.items()
    ]
    meta = json.loads(str(read_scan_data(args.hanging_test_data)["meta_json"]))
    text = "\n".join(
        [
            "# Body scan in loose tops whose sides hang",
            "",
            f"Machine: {machine()}. Command: `.venv/bin/python bench/body_scan_hanging_tops.py`.",
            "",
            "Every test body wears a loose top whose sides fall from the armpits when the "
            "arms are out (`fitroom.body.clothing.LooseTop.side_drape` 0.4-1), as a real "
            "T-shirt does in the A-pose; in the side photo the arms hang and hold them in. "
            "The shipped models were trained on loose tops whose sides follow the body. "
            f"The truth is the body's own girths, under the top ({meta['bodies']} bodies).",
            "",
            "## Accuracy",
            "",
            accuracy(args.hanging_test_data),
            "",
            "## Front only against front + side",
            "",
            "Per body, |front-only - two-photo| for each girth, the median (cm) and the "
            f"share within {VIEWS_GAP_CM:g} cm (real people's repeat photos are checked "
            "against that), read at the five level grids as the scan reads them:",
            "",
            markdown_table(
                ["test set, given", "bodies", *[f"{g.removesuffix('_cm')}" for g in MAIN_GIRTHS]],
                gap_rows,
            ),
            "",
        ]
    )
    print(text)
    print("wrote", write_result("body_scan_hanging_tops.md", text))


if __name__ == "__main__":
    main()
