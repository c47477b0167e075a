"""Jitter data: synthetic bodies photographed as several slightly altered copies.

For each body (drawn, posed, dressed and rendered as ``scripts/make_body_scan_data.py``
does for training): render the front and the side photo once, make the altered copies of
each (``fitroom.body.copies.altered_copies``: mirrored, cropped, rotated +2 and -3
degrees, JPEG quality 60, 0.7x size), send every copy through the real pipeline (JPEG,
MediaPipe, the gate, the features) and keep the features of each copy. How far a body's
copies differ from each other is the pipeline's own noise between near-identical photos:
``bench/body_scan.py`` runs the shipped models on each copy's features and reports how
far the girths move.

With ``--retakes N`` each body is instead photographed N separate times, as a shopper
scanning again a few minutes later would be: the same room, clothes, hair, light and
lens, but each take has its own arm angle (within 10 degrees of the body's habitual
one), stance, camera distance (within 0.25 m) and camera height (within 0.1 m), and the
side photo's arms and feet are drawn again. That is the repeatability a real shopper
sees, and what ``bench/body_scan.py`` checks against 3 cm between takes and 5 cm
between front-only and front + side.

``--roll-deg R`` also rolls each take's (or copy's) camera by up to R degrees: the
render is turned about its centre, as a phone held a little crooked would take it. The
rolls come from their own generator, so the bodies, poses and scenes stay those of the
same command without it. ``--no-upright`` reads the photos without turning them upright
first (``fitroom.body.scan.photo_features``), to measure what that step is worth.

Run (the benchmark's bodies): ``python scripts/make_body_scan_jitter.py --bodies 100
--seed 44 --out var/body_scan/leaknear/jitter/bench_s44.npz``, ``python
scripts/make_body_scan_jitter.py --bodies 100 --seed 45 --retakes 4 --out
var/body_scan/leaknear/jitter/retakes_s45.npz`` and the same with ``--roll-deg 3 --out
var/body_scan/leaknear/jitter/retakes_roll_s45.npz``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fitroom.body.anny_model import BodyMesh, BodyParams, build_meshes, sample_body_params
from fitroom.body.clothing import LooseTop, loose_top_prop, sample_loose_top
from fitroom.body.copies import COPY_NAMES, PhotoCopy, altered_copies, rotated
from fitroom.body.measure_model import MEASUREMENTS
from fitroom.body.mesh_measure import measure_mesh
from fitroom.body.render import Prop, Scene, render_view, retake_scene, sample_scene
from fitroom.body.scan import photo_features
from fitroom.errors import PhotoRejected
from fitroom.vision.photo import decode_photo
from fitroom.vision.pose import pose_estimator
from make_body_scan_data import (
    MEASURE_ARMS_DEG,
    SIDE_ARMS_DEG,
    SIDE_STANCE_M,
    STANCE_M,
    TRAIN_ARMS_DEG,
    add_level_shifts_option,
    hair_props,
)

FEATURES = 36  # fitroom.body.features.ViewFeatures.vector()
#: Retakes: how far each take's arm angle strays from the body's habitual one (degrees).
RETAKE_ARMS_DEG = 10.0


def retakes(
    rng: np.random.Generator, body: BodyParams, count: int
) -> tuple[list[BodyMesh], list[BodyMesh]]:
    """``count`` (front, side) mesh pairs of one body, each posed afresh."""
    habit = float(rng.uniform(TRAIN_ARMS_DEG[0] + 5, TRAIN_ARMS_DEG[1] - 5))
    fronts, sides = [], []
    for _ in range(count):
        arms = float(
            np.clip(habit + rng.uniform(-RETAKE_ARMS_DEG, RETAKE_ARMS_DEG), *TRAIN_ARMS_DEG)
        )
        fronts += build_meshes([body], "scan", arms, float(rng.uniform(*STANCE_M)))
        sides += build_meshes(
            [body], "scan", float(rng.uniform(*SIDE_ARMS_DEG)), float(rng.uniform(*SIDE_STANCE_M))
        )
    return fronts, sides


def props(
    hair: tuple[Prop, ...], loose: LooseTop | None, mesh: BodyMesh, scene: Scene
) -> tuple[Prop, ...]:
    """Hair, and the loose top (if any) fitted to this posed mesh in the scene's colour."""
    if loose is None:
        return hair
    return (*hair, loose_top_prop(mesh, loose, scene.top_rgb))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=150)
    parser.add_argument("--seed", type=int, default=43)
    parser.add_argument("--loose-top-share", type=float, default=0.4)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--retakes",
        type=int,
        default=0,
        help="photograph each body this many separate times instead of altering one photo",
    )
    parser.add_argument(
        "--roll-deg",
        type=float,
        default=0.0,
        help="roll each photo's camera by a random angle of at most this many degrees",
    )
    parser.add_argument(
        "--no-upright", action="store_true", help="do not turn leaning photos upright"
    )
    add_level_shifts_option(parser, "array features_shifted: body x view x copy x shift x feature")
    args = parser.parse_args()
    shifts = tuple(args.level_shifts)
    if args.retakes == 1 or args.retakes < 0:
        parser.error("--retakes needs at least 2 takes (0: altered copies of one photo)")
    rng = np.random.default_rng(args.seed)
    roll_rng = np.random.default_rng([args.seed, 1])  # its own draws: same bodies either way

    def rolled(rgb: np.ndarray) -> np.ndarray:
        """``rgb`` as a camera rolled by up to ``--roll-deg`` would have taken it."""
        if not args.roll_deg:
            return rgb
        return rotated(rgb, roll_rng.uniform(-1, 1) * args.roll_deg)

    started = time.perf_counter()
    names = [f"take {k + 1}" for k in range(args.retakes)] if args.retakes else list(COPY_NAMES)
    count, copies = args.bodies, len(names)
    features = np.zeros((count, 2, copies, FEATURES))
    features_shifted = np.zeros((count, 2, copies, len(shifts), FEATURES))
    ok = np.zeros((count, 2, copies), dtype=bool)
    targets = np.zeros((count, len(MEASUREMENTS)))
    heights, weights, sexes = np.zeros(count), np.zeros(count), []
    outcomes: Counter[str] = Counter()
    estimator = pose_estimator()
    for i, body in enumerate(sample_body_params(rng, count)):
        if args.retakes:
            fronts, sides = retakes(rng, body, args.retakes)
        else:
            fronts = build_meshes(
                [body], "scan", float(rng.uniform(*TRAIN_ARMS_DEG)), float(rng.uniform(*STANCE_M))
            )
            sides = build_meshes(
                [body],
                "scan",
                float(rng.uniform(*SIDE_ARMS_DEG)),
                float(rng.uniform(*SIDE_STANCE_M)),
            )
        truth = measure_mesh(build_meshes([body], "scan", MEASURE_ARMS_DEG, 0.25)[0])
        hair = hair_props(fronts[0], rng)
        loose = sample_loose_top(rng) if rng.random() < args.loose_top_share else None
        for v, (view, meshes) in enumerate((("front", fronts), ("side", sides))):
            scene = sample_scene(rng)
            for k in range(copies):
                if args.retakes:
                    shot = retake_scene(scene, rng)
                    rendered = render_view(
                        meshes[k], view, shot, props(hair, loose, meshes[k], shot)
                    ).image_rgb
                    jpeg = PhotoCopy(names[k], rolled(rendered), 92).jpeg()
                else:
                    if k == 0:
                        rendered = render_view(
                            meshes[0], view, scene, props(hair, loose, meshes[0], scene)
                        ).image_rgb
                        copy_jpegs = [c.jpeg() for c in altered_copies(rolled(rendered), view)]
                    jpeg = copy_jpegs[k]
                photo = decode_photo(jpeg, view=view)
                try:
                    reading = photo_features(
                        estimator, photo, upright=not args.no_upright, level_shifts=shifts
                    )
                    features[i, v, k] = reading.features.vector()
                    for s, shifted in enumerate(reading.shifted_features):
                        features_shifted[i, v, k, s] = shifted.vector()
                    ok[i, v, k] = True
                    outcomes[f"{view}:ok"] += 1
                except PhotoRejected as exc:
                    outcomes[f"{view}:{exc.type_slug}"] += 1
        targets[i] = [getattr(truth, name) for name in MEASUREMENTS]
        heights[i], weights[i] = truth.stature_cm, truth.mass_kg
        sexes.append(body.sex)
        if (i + 1) % 10 == 0 or i + 1 == count:
            rate = (i + 1) / (time.perf_counter() - started)
            print(f"{i + 1}/{count} bodies, {rate:.2f}/s, {dict(outcomes)}", flush=True)
    meta = {
        "bodies": count,
        "seed": args.seed,
        "loose_top_share": args.loose_top_share,
        "retakes": args.retakes,
        "roll_deg": args.roll_deg,
        "upright": not args.no_upright,
        "level_shifts": list(shifts),
        "copies": names,
        "copy_outcomes": dict(outcomes),
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        meta_json=np.array(json.dumps(meta)),
        features=features,
        ok=ok,
        **({"features_shifted": features_shifted} if shifts else {}),
        targets_cm=targets,
        height_cm=heights,
        weight_kg=weights,
        sex=np.array(sexes, dtype="<U6"),
    )
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
