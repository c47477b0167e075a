"""Jitter data: synthetic bodies photographed as several slightly altered copies.

For each body (drawn, posed, dressed and rendered as ``scripts/make_body_scan_data.py``
does for training): render the front and the side photo once, make the altered copies of
each (``fitroom.body.copies.altered_copies``: mirrored, cropped, rotated +2 and -3
degrees, JPEG quality 60, 0.7x size), send every copy through the real pipeline (JPEG,
MediaPipe, the gate, the features) and keep the features of each copy. How far a body's
copies differ from each other is the pipeline's own noise between near-identical photos:
``bench/body_scan.py`` runs the shipped models on each copy's features and reports how
far the girths move.

Run (the benchmark's bodies): ``python scripts/make_body_scan_jitter.py --bodies 100
--seed 44 --out var/body_scan/jitter/bench_s44.npz``.
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
from fitroom.body.anny_model import build_meshes, sample_body_params
from fitroom.body.clothing import loose_top_prop, sample_loose_top
from fitroom.body.copies import COPY_NAMES, altered_copies
from fitroom.body.measure_model import MEASUREMENTS
from fitroom.body.mesh_measure import measure_mesh
from fitroom.body.render import render_view, sample_scene
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
    hair_props,
)

FEATURES = 36  # fitroom.body.features.ViewFeatures.vector()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=150)
    parser.add_argument("--seed", type=int, default=43)
    parser.add_argument("--loose-top-share", type=float, default=0.4)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    count, copies = args.bodies, len(COPY_NAMES)
    features = np.zeros((count, 2, copies, FEATURES))
    ok = np.zeros((count, 2, copies), dtype=bool)
    targets = np.zeros((count, len(MEASUREMENTS)))
    heights, weights, sexes = np.zeros(count), np.zeros(count), []
    outcomes: Counter[str] = Counter()
    estimator = pose_estimator()
    for i, body in enumerate(sample_body_params(rng, count)):
        front = build_meshes(
            [body], "scan", float(rng.uniform(*TRAIN_ARMS_DEG)), float(rng.uniform(*STANCE_M))
        )[0]
        side = build_meshes(
            [body], "scan", float(rng.uniform(*SIDE_ARMS_DEG)), float(rng.uniform(*SIDE_STANCE_M))
        )[0]
        truth = measure_mesh(build_meshes([body], "scan", MEASURE_ARMS_DEG, 0.25)[0])
        hair = hair_props(front, rng)
        loose = sample_loose_top(rng) if rng.random() < args.loose_top_share else None
        for v, (view, mesh) in enumerate((("front", front), ("side", side))):
            scene = sample_scene(rng)
            props = hair if loose is None else (*hair, loose_top_prop(mesh, loose, scene.top_rgb))
            rendered = render_view(mesh, view, scene, props).image_rgb
            for k, copy in enumerate(altered_copies(rendered, view)):
                photo = decode_photo(copy.jpeg(), view=view)
                try:
                    features[i, v, k] = photo_features(estimator, photo)[3].vector()
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
        "copies": list(COPY_NAMES),
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
        targets_cm=targets,
        height_cm=heights,
        weight_kg=weights,
        sex=np.array(sexes, dtype="<U6"),
    )
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
