"""Body scan: accuracy on unseen synthetic bodies, real photos, repeatability, speed.

1. Accuracy: the shipped models on ``var/body_scan/leaknear/test2.npz`` (``scripts/
   make_body_scan_data.py --split test``: bodies, seeds, arm angles, camera heights and
   distances and lights never used in training), mean absolute error per measurement,
   front-only and front+side, with and without weight and sex, and the share of errors
   within the stated +/- 1 sd; the same on ``var/body_scan/leaknear/test_loose.npz``
   (``--bodies 480 --seed 6 --split test --loose-top-share 1.0``: every body in a loose
   top).
2. Real photos: the A-pose pair (165 cm) end to end; every SHAPY photo through the gate
   at 170 cm (what passes, and why the others do not).
3. Repeatability: the A-pose pair as given and altered slightly
   (``fitroom.body.copies``: saved again, mirror, crop, 2-3 degree rotation, JPEG
   quality 60, 0.7x size) re-measured; the spread per girth. The same on
   ``var/body_scan/leaknear/jitter/bench_s44.npz``
   (``scripts/make_body_scan_jitter.py --bodies 100 --seed 44``): per synthetic body, the
   spread of the shipped models' girths over the copies' stored features. And on
   ``var/body_scan/leaknear/jitter/retakes_s45.npz`` (``--bodies 100 --seed 45 --retakes 4``):
   each body photographed 4 separate times (new arm angle, stance, camera distance and
   height), against the checks real people's repeat photos face: girths within 3 cm
   across takes, front-only within 5 cm of front + side. Then the same bodies and takes
   with the camera also rolled by up to 3 degrees (``--roll-deg 3``,
   ``retakes_roll_s45.npz``), and those rolled takes read without turning them upright
   (``--no-upright``, ``retakes_roll_level_s45.npz``), for what that step is worth.
4. Speed: front+side scan and avatar fit + export, warm, median of N runs (the photo
   decode included); peak memory (max RSS) of this process.

Every figure is for the scan as it ships: each photo read at the level grids of
``fitroom.body.measure_model.LEVEL_SHIFTS`` and the model's answers averaged (the
stored features at each grid come from the data scripts' ``--level-shifts``). Each
section also gives the training grid alone, from the same photos, as the baseline.

Run: ``.venv/bin/python bench/body_scan.py [--runs 15]``; writes
bench/results/body_scan.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO_ROOT, data_dir, machine, markdown_table, write_result
from fitroom.body.copies import COPY_NAMES, altered_copies
from fitroom.body.measure_model import (
    LEVEL_SHIFTS,
    MEASUREMENTS,
    MeasurementModel,
    gate_passed,
    level_grid_data,
    load_measurement_model,
    model_inputs,
    predict_over_level_grids,
    predict_scan_data,
    read_scan_data,
    scan_rows,
    stored_grid_index,
)
from fitroom.body.scan import ScanPipeline
from fitroom.errors import PhotoRejected

TARGETS_CM = {"front_side": (1.5, 2.0), "front": (2.5, 2.0)}  # (chest/waist/hip, others)
MAIN_GIRTHS = ("chest_cm", "waist_cm", "hip_cm")


#: How the scan reads each photo: at every level grid of LEVEL_SHIFTS (what ships), or
#: at the training grid alone; and the accuracy baseline, the training grid alone
#: without the calibration offsets (the models as shipped before 2026-11-30). Label ->
#: (grids, offsets taken off).
READINGS: dict[str, tuple[tuple[float, ...], bool]] = {
    f"{len(LEVEL_SHIFTS)} grids": (LEVEL_SHIFTS, True),
    "training grid only": ((0.0,), True),
    "training grid, no offsets": ((0.0,), False),
}


def predict_rows(
    model: MeasurementModel,
    data: dict[str, np.ndarray],
    index: np.ndarray,
    variant: str,
    hidden: tuple[bool, bool],
    shifts: tuple[float, ...] = LEVEL_SHIFTS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(values cm, sd cm, truth cm, heights cm) of the bodies in ``index``, the model run
    on each of ``shifts``'s level grids and averaged as the scan does."""
    grids = level_grid_data(data) if shifts != (0.0,) else [data]
    return predict_scan_data(model, grids, index, variant, hidden=(hidden,))


def accuracy(test_path: Path) -> str:
    data = read_scan_data(test_path)
    meta = json.loads(str(data["meta_json"]))
    lines = [
        f"Test set: {meta['bodies']} synthetic bodies (`{meta['command']}`), gate outcomes "
        f"{meta['gate_outcomes']}.",
        "",
    ]
    rows = []
    combinations = [
        (variant, extras, reading)
        for variant in ("front_side", "front")
        for extras in (True, False)
        for reading in READINGS
    ]
    for variant, with_extras, reading in combinations:
        model = load_measurement_model(variant)
        shifts, offsets = READINGS[reading]
        if not offsets:
            model = dataclasses.replace(model, offset_ratio=np.zeros_like(model.offset_ratio))
        index = gate_passed(data, variant)
        hidden = (False, False) if with_extras else (True, True)
        mean, sd, truth_cm, _ = predict_rows(model, data, index, variant, hidden, shifts)
        errors = mean - truth_cm
        mae = np.abs(errors).mean(0)
        within = (np.abs(errors) <= sd).mean(0)
        main_target, other_target = TARGETS_CM[variant]
        verdicts = [
            v <= (main_target if name in MAIN_GIRTHS else other_target)
            for name, v in zip(MEASUREMENTS, mae, strict=True)
        ]
        rows.append(
            [
                variant.replace("_", "+"),
                "height, weight, sex" if with_extras else "height only",
                reading,
                len(index),
                *[f"{v:.2f}" for v in mae],
                f"{100 * within.mean():.0f}%",
                "all" if all(verdicts) else f"{sum(verdicts)}/{len(verdicts)}",
            ]
        )
    header = [
        "photos",
        "also given",
        "read as",
        "bodies",
        *[m.removesuffix("_cm") for m in MEASUREMENTS],
        "within +/-1 sd",
        "targets met",
    ]
    lines.append(markdown_table(header, rows))
    lines += [
        "",
        "Mean absolute error in cm against the measurement taken on the mesh "
        "(ISO 8559-1 definitions in `fitroom.body.mesh_measure`). Targets: chest, waist, "
        "hip at most 1.5 cm (front+side) / 2.5 cm (front only), the others at most 2 cm. "
        f"What ships reads each photo at {len(LEVEL_SHIFTS)} level grids "
        f"({', '.join(f'{100 * d:+g}%' for d in LEVEL_SHIFTS)} of stature) and averages the "
        "model's answers (`fitroom.body.measure_model.LEVEL_SHIFTS`), and takes off the "
        "mean error measured on calibration bodies (`scripts/calibrate_body_measure.py`); "
        "the training grid alone, with and without those offsets, is the baseline, read "
        "from the same photos.",
        "",
        cross_check_lines(data),
        loose_top_line(data),
    ]
    if "leak_rows_front" in data:  # data made with the mask-leak check
        leaks = data["leak_rows_front"][data["ok_front"]]
        fired = leaks[leaks > 0]
        median_rows = float(np.median(fired)) if fired.size else 0.0
        lines.append(
            f"- the mask-leak check (`fitroom.body.features.LEAK_FRACTION`) replaced torso "
            f"edges in {100 * fired.size / leaks.size:.1f}% of the {leaks.size} front photos "
            f"(median {median_rows:.0f} edge rows where it did, photo and mirror image together)"
        )
    return "\n".join(lines)


def loose_top_line(data: dict[str, np.ndarray]) -> str:
    """How often the loose-top detector (``fitroom.body.loose_top``) warns on these bodies."""
    from fitroom.body.loose_top import load_loose_top_detector

    parts = []
    for variant in ("front_side", "front"):
        detector = load_loose_top_detector(variant)
        if detector is None:
            return "- loose-top detector: none ships"
        index = gate_passed(data, variant)
        inputs, _, _ = scan_rows(data, index, variant, hidden=((True, True),))
        parts.append(
            f"{variant.replace('_', '+')} {100 * detector.flags(inputs).mean():.1f}% "
            f"of {len(index)}"
        )
    return "- the loose-top warning is given to " + ", ".join(parts) + " bodies"


def cross_check_lines(data: dict[str, np.ndarray]) -> str:
    """Front+side bias per girth, and how often the scan's views cross-check
    (``fitroom.body.scan.disagreeing_girths``) fires on these tight-clothed bodies."""
    from fitroom.body.scan import CROSS_CHECKED, BodyMeasurement, disagreeing_girths

    both_model, front_model = load_measurement_model("front_side"), load_measurement_model("front")
    index = gate_passed(data, "front_side")
    columns = [MEASUREMENTS.index(name) for name in CROSS_CHECKED]
    parts = []
    for hidden, label in (((False, False), "height, weight, sex"), ((True, True), "height only")):
        both_cm, both_sd, truth_cm, _ = predict_rows(both_model, data, index, "front_side", hidden)
        front_cm, front_sd, _, _ = predict_rows(front_model, data, index, "front", hidden)
        flagged: Counter[str] = Counter()
        for row in range(len(index)):
            both = {
                n: BodyMeasurement(both_cm[row, c], both_sd[row, c], "photo")
                for n, c in zip(CROSS_CHECKED, columns, strict=True)
            }
            alone = {
                n: BodyMeasurement(front_cm[row, c], front_sd[row, c], "photo")
                for n, c in zip(CROSS_CHECKED, columns, strict=True)
            }
            flagged.update(disagreeing_girths(both, alone))
        bias = (both_cm - truth_cm).mean(axis=0)
        uncalibrated = dataclasses.replace(
            both_model, offset_ratio=np.zeros_like(both_model.offset_ratio)
        )
        raw_cm, _, _, _ = predict_rows(uncalibrated, data, index, "front_side", hidden)
        raw_bias = (raw_cm - truth_cm).mean(axis=0)
        parts.append(
            f"- {label}: front+side bias (mean signed error) "
            + ", ".join(
                f"{n.removesuffix('_cm')} {bias[c]:+.2f} cm"
                for n, c in zip(CROSS_CHECKED, columns, strict=True)
            )
            + " (without the calibration offsets "
            + " / ".join(f"{raw_bias[c]:+.2f}" for c in columns)
            + ")"
            + "; the views' cross-check flags "
            + ", ".join(
                f"{n.removesuffix('_cm')} {100 * flagged[n] / len(index):.1f}%"
                for n in CROSS_CHECKED
            )
            + f" of the {len(index)} bodies"
        )
    return "\n".join(parts)


def _jpeg_bytes(rgb: np.ndarray, quality: int = 92) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def real_photos(pipeline: ScanPipeline, debug_root: Path) -> str:
    aposes = data_dir() / "people" / "aposes"
    lines = []
    if (aposes / "person_a_front.jpg").is_file():
        result = pipeline(
            (aposes / "person_a_front.jpg").read_bytes(),
            (aposes / "person_a_side.jpg").read_bytes(),
            165.0,
            sex="female",
            debug_dir=debug_root / "aposes",
        )
        front_only = pipeline(
            (aposes / "person_a_front.jpg").read_bytes(), None, 165.0, sex="female"
        )
        rows = [
            [
                name.removesuffix("_cm"),
                f"{m.value_cm:.1f} +/- {m.plus_minus_cm:.1f}",
                f"{front_only.measurements[name].value_cm:.1f} +/- "
                f"{front_only.measurements[name].plus_minus_cm:.1f}",
            ]
            for name, m in result.measurements.items()
        ]
        one_grid = dataclasses.replace(pipeline, level_shifts=(0.0,))
        base_both = one_grid(
            (aposes / "person_a_front.jpg").read_bytes(),
            (aposes / "person_a_side.jpg").read_bytes(),
            165.0,
            sex="female",
        )
        base_front = one_grid(
            (aposes / "person_a_front.jpg").read_bytes(), None, 165.0, sex="female"
        )
        lines += [
            "A-pose pair (one woman, 165 cm, sex given; her true measurements are not published):",
            "",
            markdown_table(["measurement", "front+side cm", "front only cm"], rows),
            "",
            "Read at the training grid alone (baseline): chest / waist / hip "
            + " / ".join(f"{base_both.measurements[n].value_cm:.1f}" for n in MAIN_GIRTHS)
            + " cm front+side, "
            + " / ".join(f"{base_front.measurements[n].value_cm:.1f}" for n in MAIN_GIRTHS)
            + " cm front only.",
            "",
        ]
    shapy = data_dir() / "people" / "shapy" / "images"
    if shapy.is_dir():
        outcomes: Counter[str] = Counter()
        examples: dict[str, str] = {}
        for path in sorted(shapy.iterdir()):
            try:
                pipeline(path.read_bytes(), None, 170.0, debug_dir=debug_root / "shapy" / path.stem)
                outcomes["measured"] += 1
            except PhotoRejected as exc:
                outcomes[exc.type_slug] += 1
                examples.setdefault(exc.type_slug, f"{path.name}: {exc.message}")
        total = sum(outcomes.values())
        rows = [[k, v, examples.get(k, "")] for k, v in outcomes.most_common()]
        lines += [
            f"SHAPY in-the-wild photos ({total}, front view, 170 cm assumed):",
            "",
            markdown_table(["outcome", "photos", "example"], rows),
        ]
    return "\n".join(lines)


def repeatability(pipeline: ScanPipeline) -> str:
    from PIL import Image

    aposes = data_dir() / "people" / "aposes"
    if not (aposes / "person_a_front.jpg").is_file():
        return "A-pose photos not found: skipped."
    fronts, sides = (
        altered_copies(np.asarray(Image.open(aposes / f"person_a_{v}.jpg").convert("RGB")), v)
        for v in ("front", "side")
    )
    # The files as given too: the "original" copy is the same pixels saved again.
    pairs = [
        ("as given", *((aposes / f"person_a_{v}.jpg").read_bytes() for v in ("front", "side")))
    ]
    pairs += [(f.name, f.jpeg(), s.jpeg()) for f, s in zip(fronts, sides, strict=True)]
    values: dict[str, list[float]] = {name: [] for name in MEASUREMENTS}
    baseline: dict[str, list[float]] = {name: [] for name in MAIN_GIRTHS}
    one_grid = dataclasses.replace(pipeline, level_shifts=(0.0,))
    refused = []
    for label, front, side in pairs:
        try:
            result = pipeline(front, side, 165.0, sex="female")
            base = one_grid(front, side, 165.0, sex="female")
        except PhotoRejected as exc:
            refused.append(f"{label}: {exc.type_slug}")
            continue
        for name in MEASUREMENTS:
            values[name].append(result.measurements[name].value_cm)
        for name in MAIN_GIRTHS:
            baseline[name].append(base.measurements[name].value_cm)
    rows = [
        [name.removesuffix("_cm"), f"{max(v) - min(v):.2f}", f"{statistics.pstdev(v):.2f}"]
        for name, v in values.items()
        if v
    ]
    text = [
        f"The A-pose pair: the files as given and {len(fronts)} copies, "
        f"{len(pairs) - len(refused)} measured, front+side, "
        f"height and sex given ({', '.join(COPY_NAMES)}; `fitroom.body.copies`); "
        f"refused: {refused or 'none'}.",
        "",
        markdown_table(["measurement", "max - min cm", "sd cm"], rows),
        "",
        "Read at the training grid alone (baseline), max - min chest / waist / hip: "
        + " / ".join(f"{max(v) - min(v):.2f}" for v in baseline.values() if v)
        + " cm.",
    ]
    return "\n".join(text)


GIRTHS = ("chest_cm", "waist_cm", "hip_cm", "neck_cm", "thigh_cm")
#: Repeat-photo checks on real people (issue 3): girths within 3 cm across takes, and
#: front-only within 5 cm of front + side.
RETAKE_SPREAD_CM = 3.0
VIEWS_GAP_CM = 5.0


def read_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def take_features(data: dict[str, np.ndarray], shift: float) -> np.ndarray:
    """A jitter set's features (bodies x views x takes x features) read at one level
    grid (``scripts/make_body_scan_jitter.py --level-shifts`` keeps the others)."""
    if shift == 0.0:
        return data["features"]
    j = stored_grid_index(data, shift, "features_shifted")
    return data["features_shifted"][:, :, :, j]


def girths_per_take(
    data: dict[str, np.ndarray],
    variant: str,
    takes_ok: np.ndarray,
    shifts: tuple[float, ...] = LEVEL_SHIFTS,
) -> list[np.ndarray]:
    """Per body, the shipped ``variant`` model on each take (or copy) in ``takes_ok``
    (bodies x takes), read at ``shifts``'s level grids and averaged as the scan does,
    height and sex given as for the real pair: takes x measurements."""
    model = load_measurement_model(variant)
    grids = [take_features(data, shift) for shift in shifts]
    out = []
    for i, height in enumerate(data["height_cm"].tolist()):
        takes = np.flatnonzero(takes_ok[i])
        if takes.size == 0:
            out.append(np.zeros((0, len(MEASUREMENTS))))
            continue
        rows_by_grid = [
            np.array(
                [
                    model_inputs(
                        features[i, 0, k],
                        features[i, 1, k] if variant == "front_side" else None,
                        height,
                        None,
                        str(data["sex"][i]),
                    )
                    for k in takes
                ]
            )
            for features in grids
        ]
        mean_cm, _ = predict_over_level_grids(model, rows_by_grid, height)
        out.append(mean_cm)
    return out


def spread_summary(data: dict[str, np.ndarray], within_cm: float, shifts: tuple[float, ...]) -> str:
    """One line: median spread and share within ``within_cm`` per main girth, both
    variants, and (for takes) front-only within 5 cm of front + side."""
    both_ok = data["ok"].all(axis=1)
    parts = []
    girths = {
        "front+side": girths_per_take(data, "front_side", both_ok, shifts),
        "front only": girths_per_take(data, "front", data["ok"][:, 0], shifts),
    }
    for label, per_body in girths.items():
        spread = np.array([g.max(axis=0) - g.min(axis=0) for g in per_body if len(g) >= 2])
        columns = [MEASUREMENTS.index(n) for n in MAIN_GIRTHS]
        parts.append(
            f"{label} median spread "
            + " / ".join(f"{np.median(spread[:, j]):.2f}" for j in columns)
            + f" cm, within {within_cm:g} cm "
            + " / ".join(f"{100 * np.mean(spread[:, j] <= within_cm):.0f}" for j in columns)
            + "%"
        )
    if json.loads(str(data["meta_json"])).get("retakes"):
        front_same = girths_per_take(data, "front", both_ok, shifts)
        gaps = np.concatenate(
            [np.abs(f - b) for f, b in zip(front_same, girths["front+side"], strict=True)]
        )
        parts.append(
            f"front-only within {VIEWS_GAP_CM:g} cm of front+side "
            + " / ".join(
                f"{100 * np.mean(gaps[:, MEASUREMENTS.index(n)] <= VIEWS_GAP_CM):.1f}"
                for n in MAIN_GIRTHS
            )
            + "%"
        )
    return "; ".join(parts)


def synthetic_repeatability(path: Path, within_cm: float) -> str:
    """Per body of a jitter set (altered copies, or separate takes with ``--retakes``),
    the shipped models on every gated copy's features: the girths' max - min, and for
    takes how far front-only is from front + side on the same photos."""
    data = read_npz(path)
    meta = json.loads(str(data["meta_json"]))
    retakes = bool(meta.get("retakes"))
    rows = []
    both_ok = data["ok"].all(axis=1)
    per_variant = {
        "front_side": girths_per_take(data, "front_side", both_ok),
        "front": girths_per_take(data, "front", data["ok"][:, 0]),
    }
    for variant, girths in per_variant.items():
        spread = np.array([g.max(axis=0) - g.min(axis=0) for g in girths if len(g) >= 2])
        for name in GIRTHS:
            j = MEASUREMENTS.index(name)
            rows.append(
                [
                    variant.replace("_", "+"),
                    name.removesuffix("_cm"),
                    str(len(spread)),
                    f"{np.median(spread[:, j]):.2f}",
                    f"{np.percentile(spread[:, j], 90):.2f}",
                    f"{spread[:, j].max():.2f}",
                    f"{100 * np.mean(spread[:, j] <= within_cm):.0f}%",
                ]
            )
    if retakes:
        what = (
            f"Synthetic bodies never used in training, each photographed {len(meta['copies'])} "
            "separate times in the same room, clothes and light, each take with its own arm "
            "angle, stance, camera distance and height"
        )
        if meta.get("roll_deg"):
            what += f", and the camera rolled by up to {meta['roll_deg']:g} degrees"
    else:
        what = (
            f"Synthetic bodies never used in training, each photographed once and altered "
            f"the same {len(meta['copies'])} ways"
        )
    if not meta.get("upright", True):
        what += " (photos read as taken, not turned upright)"
    text = [
        f"{what} (`{meta['command']}`; photos refused by the gate are left out, bodies "
        f"with fewer than two gated photos skipped). Spread = max - min over one body's "
        f"photos; target {within_cm:g} cm.",
        "",
        markdown_table(
            [
                "photos",
                "girth",
                "bodies",
                "median spread cm",
                "90th percentile cm",
                "max cm",
                f"bodies within {within_cm:g} cm",
            ],
            rows,
        ),
    ]
    if retakes:
        # Front-only against front + side on the same takes (both views gated).
        front_same = girths_per_take(data, "front", both_ok)
        gaps = np.concatenate(
            [
                np.abs(front - pair)
                for front, pair in zip(front_same, per_variant["front_side"], strict=True)
            ]
        )
        gap_rows = [
            [
                name.removesuffix("_cm"),
                str(len(gaps)),
                f"{np.median(gaps[:, MEASUREMENTS.index(name)]):.2f}",
                f"{np.percentile(gaps[:, MEASUREMENTS.index(name)], 90):.2f}",
                f"{100 * np.mean(gaps[:, MEASUREMENTS.index(name)] <= VIEWS_GAP_CM):.1f}%",
            ]
            for name in MAIN_GIRTHS
        ]
        text += [
            "",
            "Front-only against front + side on the same takes (|difference|):",
            "",
            markdown_table(
                [
                    "girth",
                    "takes",
                    "median cm",
                    "90th percentile cm",
                    f"within {VIEWS_GAP_CM:g} cm",
                ],
                gap_rows,
            ),
        ]
    text += [
        "",
        f"Chest / waist / hip read at the training grid alone (baseline; above: "
        f"{len(LEVEL_SHIFTS)} level grids averaged): {spread_summary(data, within_cm, (0.0,))}.",
    ]
    return "\n".join(text)


def avatar_fit_accuracy(test_path: Path, bodies: int) -> str:
    """The avatar fit on what shoppers get: the front + side model's measurements (height
    and sex given) of the first ``bodies`` gated test bodies, stature = the stated
    height. How far the fitted body's own measurements land from those targets."""
    from fitroom.avatar.fit import FIT_TARGETS, fit_avatar

    data = read_scan_data(test_path)
    index = gate_passed(data, "front_side")[:bodies]
    model = load_measurement_model("front_side")
    predicted_cm, _, _, heights_cm = predict_rows(model, data, index, "front_side", (True, False))
    residuals, iterations, elapsed_ms, scales = [], [], [], []
    for row, i in enumerate(index):
        targets = {"stature_cm": float(heights_cm[row])}
        targets.update({name: float(predicted_cm[row, j]) for j, name in enumerate(MEASUREMENTS)})
        fit = fit_avatar(targets, str(data["sex"][i]))  # type: ignore[arg-type]
        residuals.append([fit.residual_cm[name] for name in FIT_TARGETS])
        iterations.append(fit.iterations)
        elapsed_ms.append(fit.elapsed_ms)
        scales.append(fit.scale)
    error = np.abs(np.array(residuals))
    girths = [FIT_TARGETS.index(n) for n in ("stature_cm", *GIRTHS)]
    all_girths = 100 * np.mean((error[:, girths] <= 1.0).all(axis=1))
    scale_pct = 100 * np.abs(np.array(scales) - 1.0)
    rows = [
        [
            name.removesuffix("_cm"),
            f"{np.median(error[:, j]):.2f}",
            f"{np.percentile(error[:, j], 90):.2f}",
            f"{error[:, j].max():.2f}",
            f"{100 * np.mean(error[:, j] <= 1.0):.0f}%",
        ]
        for j, name in enumerate(FIT_TARGETS)
    ]
    return "\n".join(
        [
            f"The first {len(index)} test bodies that pass both gates (`{test_path.name}`): "
            "the front + side model's measurements with height and sex given, fitted "
            f"(`fitroom.avatar.fit.fit_avatar`, median {np.median(iterations):.0f} meshes, "
            f"{np.median(elapsed_ms):.0f} ms). |achieved - target| in cm on the fitted "
            "body's scan-pose mesh, measured the same way:",
            "",
            markdown_table(
                ["measurement", "median cm", "90th percentile cm", "max cm", "within 1 cm"],
                rows,
            ),
            "",
            f"- stature and all five girths within 1 cm: {all_girths:.0f}% of the bodies",
            f"- the uniform scale to the exact stature: median {np.median(scale_pct):.2f}%, "
            f"largest {scale_pct.max():.2f}%",
        ]
    )


def speed(pipeline: ScanPipeline, runs: int) -> str:
    from fitroom.avatar.export import avatar_glb
    from fitroom.avatar.fit import fit_avatar

    aposes = data_dir() / "people" / "aposes"
    front = (aposes / "person_a_front.jpg").read_bytes()
    side = (aposes / "person_a_side.jpg").read_bytes()
    for _ in range(2):  # warm-up: MediaPipe graphs, models
        result = pipeline(front, side, 165.0, sex="female")
    scan_ms = []
    for _ in range(runs):
        started = time.perf_counter()
        result = pipeline(front, side, 165.0, sex="female")
        scan_ms.append((time.perf_counter() - started) * 1000)
    targets = {"stature_cm": 165.0}
    targets.update({k: v.value_cm for k, v in result.measurements.items()})
    fit_avatar(targets, "female")  # warm-up: Jacobian
    avatar_ms, sizes = [], []
    for _ in range(max(3, runs // 3)):
        started = time.perf_counter()
        sizes.append(len(avatar_glb(fit_avatar(targets, "female"))))
        avatar_ms.append((time.perf_counter() - started) * 1000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        [
            "front+side scan (1280x960 JPEGs)",
            runs,
            f"{statistics.median(scan_ms):.0f}",
            f"{max(scan_ms):.0f}",
            "500",
        ],
        [
            "avatar fit + .glb export",
            len(avatar_ms),
            f"{statistics.median(avatar_ms):.0f}",
            f"{max(avatar_ms):.0f}",
            "2000",
        ],
    ]
    return "\n".join(
        [
            markdown_table(["step", "runs", "median ms", "max ms", "target ms"], rows),
            "",
            f"Peak memory (max RSS) of the benchmark process: {peak_mb:.0f} MB "
            f"(MediaPipe, the Anny model and its caches loaded); .glb {sizes[0] // 1024} KB.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--avatar-bodies", type=int, default=40)
    parser.add_argument(
        "--test-data", type=Path, default=REPO_ROOT / "var/body_scan/leaknear/test2.npz"
    )
    parser.add_argument(
        "--loose-test-data", type=Path, default=REPO_ROOT / "var/body_scan/leaknear/test_loose.npz"
    )
    parser.add_argument(
        "--jitter-data",
        type=Path,
        default=REPO_ROOT / "var/body_scan/leaknear/jitter/bench_s44.npz",
    )
    parser.add_argument(
        "--retake-data",
        type=Path,
        default=REPO_ROOT / "var/body_scan/leaknear/jitter/retakes_s45.npz",
    )
    parser.add_argument(
        "--rolled-retake-data",
        type=Path,
        nargs="*",
        default=[
            REPO_ROOT / "var/body_scan/leaknear/jitter/retakes_roll_s45.npz",
            REPO_ROOT / "var/body_scan/leaknear/jitter/retakes_roll_level_s45.npz",
        ],
    )
    parser.add_argument("--debug-dir", type=Path, default=REPO_ROOT / "var/body_scan/debug")
    args = parser.parse_args()
    pipeline = ScanPipeline()
    sections = [
        "# Body scan: accuracy, real photos, repeatability, speed",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/body_scan.py --runs {args.runs}`.",
        "",
        "## Accuracy on unseen synthetic bodies",
        "",
        accuracy(args.test_data) if args.test_data.is_file() else "test data missing: skipped",
        "",
        "## Accuracy on unseen synthetic bodies in loose tops",
        "",
        "The same kind of test set with every body in a loose top (`fitroom.body.clothing`: "
        "1-5 cm of ease, hanging from the chest, up to 4 cm more flare at the hem). The "
        "truth is still the body's own girths, under the top.",
        "",
        accuracy(args.loose_test_data)
        if args.loose_test_data.is_file()
        else "loose-top test data missing: skipped",
        "",
        "## Real photos",
        "",
        real_photos(pipeline, args.debug_dir),
        "",
        "## Repeatability",
        "",
        repeatability(pipeline),
        "",
        synthetic_repeatability(args.jitter_data, 1.0)
        if args.jitter_data.is_file()
        else "jitter benchmark data missing: skipped",
        "",
        "Target: each girth varies by at most 1 cm.",
        "",
        "### Photographed again",
        "",
        synthetic_repeatability(args.retake_data, RETAKE_SPREAD_CM)
        if args.retake_data.is_file()
        else "retake benchmark data missing: skipped",
        "",
        "### Photographed again with the phone held a little crooked",
        "",
        *(
            synthetic_repeatability(path, RETAKE_SPREAD_CM) + "\n"
            if path.is_file()
            else f"{path.name} missing: skipped\n"
            for path in args.rolled_retake_data
        ),
        "## Avatar fit",
        "",
        avatar_fit_accuracy(args.test_data, args.avatar_bodies)
        if args.test_data.is_file()
        else "test data missing: skipped",
        "",
        "Target: stature exact, girths within 1 cm where the body model can reach them.",
        "",
        "## Speed",
        "",
        speed(pipeline, args.runs),
        "",
    ]
    text = "\n".join(sections)
    print(text)
    print("wrote", write_result("body_scan.md", text))


if __name__ == "__main__":
    main()
