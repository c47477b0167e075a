"""Synthetic body-scan data: Anny bodies, rendered, run through the real photo pipeline.

For each body: sample adult Anny parameters; pose it for the front photo (A-pose, arms
at a drawn angle, feet apart) and for the side photo (arms hanging, feet closer);
measure the body in the reference scan pose (arms at 40 degrees) the ISO 8559-1 way
(``fitroom.body.mesh_measure``); render both views in a drawn scene
(``fitroom.body.render``, with hair); run MediaPipe, the quality gate and the features
exactly as a shopper's photo would go. Bodies whose renders the gate refuses are kept
with ``ok_*`` false and the reason counted.

``--split test`` draws what training never sees: other seeds, arm angles outside the
training range, cameras lower/higher and further away, stronger lights.

``--loose-top-share P`` dresses that share of the bodies in a loose top
(``fitroom.body.clothing``: a shell 1-5 cm off the body, hanging from the chest, in the
top's colour) over the painted tight clothes; the targets stay the body's own girths.
The default 0 leaves every earlier command's output unchanged. ``--hanging-sides``
lets those tops' sides fall straight from the armpits when the arms are out, as a real
T-shirt does in the A-pose (``LooseTop.side_drape``); without it the sides follow the
body in every pose, as in all the data made before 2026-12-01. ``--sleeves`` gives
them sleeves over 30-90% of the upper arm (``LooseTop.sleeve_fraction``,
``fitroom.body.clothing.sleeve_props``), which hang below a raised arm.

Run: ``python scripts/make_body_scan_data.py --bodies 2000 --seed 3 --out var/body_scan/train2.npz``

Each view's features are averaged with those of its mirror image (near torso edges the
leak check replaced in only one of them, that level's width is the other's) and the
front view's torso edges pass the mask-leak check, as the scan does
(``fitroom.body.scan.photo_features``), and a render whose body axis leans more than
1.5 degrees is turned upright first (``fitroom.vision.upright``; few renders lean that
far). ``--legacy-features`` reads each render once with no leak check and no turning, as
all the data before the first two changes was made; ``--no-upright`` only skips the
turning, as the data from seed 26 to 2026-11-30 was made.

The shipped models' data (each ``config.json`` lists it; add ``--legacy-features`` to
remake the files before seed 26): that file, ``--bodies 1500`` with seeds 10-13,
``--bodies 2000`` with seeds 14-17 and ``--bodies 2500`` with seeds 18-19
(``var/body_scan/more/train_sS.npz``), ``--loose-top-share 0.4`` with ``--bodies 2500``
for seeds 20-21, ``--bodies 2000`` for seeds 22-23 and ``--bodies 1800`` for seeds 24-25
(``var/body_scan/more/train_loose_sS.npz``), ``--loose-top-share 0.4 --bodies 3000``
for seeds 26-29 (``var/body_scan/more/train_mirror_sS.npz``, add ``--no-upright``),
calibration ``--bodies 480 --seed 5 --split test`` (``var/body_scan/more/
val_shifted_s5.npz``, legacy). With today's features (upright): the test set ``--bodies 480
--seed 4 --split test`` (``var/body_scan/leaknear/test2.npz``), the loose-top test set ``--bodies
480 --seed 6 --split test --loose-top-share 1.0`` (``var/body_scan/leaknear/test_loose.npz``)
and the bodies that chose the leak threshold and the models since (39,600 and 45,600
bodies), ``--bodies 240 --split test --loose-top-share 0.5`` with seeds 7 and 8.

Long runs can stop and go on: every ``--checkpoint-minutes`` (and when
``--stop-after-minutes`` is reached) the bodies so far and the random generator's state
are saved next to ``--out`` (``OUT.partial.pkl``); the same command run again goes on
from there and gives the same file as one uninterrupted run. A partial file made with
other settings is refused, not mixed in.
"""

from __future__ import annotations

import argparse
import json
import pickle
import shlex
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from fitroom.body.anny_model import BodyMesh, build_meshes, sample_body_params
from fitroom.body.clothing import loose_top_prop, sample_loose_top, sleeve_props
from fitroom.body.measure_model import LEVEL_SHIFTS, MEASUREMENTS
from fitroom.body.mesh_measure import measure_mesh
from fitroom.body.render import Prop, Scene, nearest_distance_m, render_view, sample_scene
from fitroom.body.scan import photo_features
from fitroom.errors import PhotoRejected
from fitroom.vision.photo import photo_from_array
from fitroom.vision.pose import pose_estimator

#: Front-photo arm angle (degrees from vertical) and stance (ankle centres apart, m).
TRAIN_ARMS_DEG = (20.0, 80.0)
TEST_ARMS_DEG = ((15.0, 20.0), (80.0, 88.0))
HAIR_RGB = ((20, 15, 10), (60, 40, 25), (110, 75, 40), (170, 130, 80), (120, 120, 120))
STANCE_M = (0.18, 0.34)
SIDE_ARMS_DEG = (3.0, 10.0)
MEASURE_ARMS_DEG = 40.0
SIDE_STANCE_M = (0.08, 0.16)
BATCH = 8


def test_scene(scene: Scene, rng: np.random.Generator) -> Scene:
    """Shift a scene outside the training draws: further, other heights, harder light."""
    height = float(rng.choice([rng.uniform(0.75, 0.9), rng.uniform(1.4, 1.55)]))
    # Training draws the distance from the nearest that frames 0-2.05 m to 0.8 m more;
    # the test draws it from its far end and past it (0.75-0.95 m more).
    return replace(
        scene,
        distance_m=nearest_distance_m(scene, height) + float(rng.uniform(0.75, 0.95)),
        camera_height_m=height,
        light_intensities=(float(rng.uniform(0.8, 0.95)), float(rng.uniform(0.0, 0.15))),
        ambient=float(rng.uniform(0.1, 0.2)),
    )


def hair_props(mesh: BodyMesh, rng: np.random.Generator) -> tuple[Prop, ...]:
    """Hair: none (25 %), a cap 0.5-4 cm thick over the back and top of the head, and in
    a third of those a ponytail or bun behind; real heads are rarely bald, and hair
    moves the top of the silhouette and the neck's outline in profile."""
    import trimesh

    if rng.random() < 0.25:
        return ()
    vertices = mesh.vertices_m
    neck_y = mesh.keypoints_m["neck01"][1]
    head = vertices[vertices[:, 1] > neck_y + 0.08]
    low, high = head.min(axis=0), head.max(axis=0)
    centre, radii = (low + high) / 2, (high - low) / 2
    thickness = float(rng.uniform(0.005, 0.04))
    colour = HAIR_RGB[int(rng.integers(0, len(HAIR_RGB)))]
    cap = trimesh.creation.icosphere(subdivisions=3)
    cap_vertices = cap.vertices * (radii + thickness) * np.array([1.02, 1.0, 1.0])
    # Shifted up and back so the face stays uncovered (face detection needs it).
    cap_vertices += centre + np.array([0.0, 0.35 * thickness + 0.01, -0.35 * radii[2]])
    props = [Prop(cap_vertices, np.asarray(cap.faces, np.int64), colour)]
    if rng.random() < 0.33:
        length = float(rng.uniform(0.04, 0.25))
        radius = float(rng.uniform(0.02, 0.045))
        tail = trimesh.creation.capsule(height=length, radius=radius, count=[12, 12])
        tail_vertices = np.asarray(tail.vertices)[:, [0, 2, 1]]  # capsule along Y
        top = centre + np.array([0.0, 0.0, -radii[2] - thickness - radius * 0.6])
        tail_vertices += top - np.array([0.0, length / 2, 0.0])
        faces = np.asarray(tail.faces, np.int64)[:, [0, 2, 1]]  # keep outward winding
        props.append(Prop(tail_vertices, faces, colour))
    return tuple(props)


def observe_view(
    rendered_rgb: np.ndarray,
    view: str,
    legacy: bool,
    upright: bool = True,
    level_shifts: tuple[float, ...] = (),
) -> tuple[np.ndarray | None, np.ndarray | None, str, int]:
    """Features of one render through the real pipeline (or None and the refusal type),
    the features at each of ``level_shifts`` (one row each), and how many torso edges
    the mask-leak check replaced."""
    photo = photo_from_array(rendered_rgb, view)
    try:
        reading = photo_features(
            pose_estimator(),
            photo,
            mirror=not legacy,
            leak_check=not legacy,
            upright=upright and not legacy,
            level_shifts=level_shifts,
        )
    except PhotoRejected as exc:
        return None, None, exc.type_slug, 0
    shifted = np.array([f.vector() for f in reading.shifted_features])
    return reading.features.vector(), shifted, "ok", reading.features.leak_rows


def add_level_shifts_option(parser: argparse.ArgumentParser, arrays: str) -> None:
    """``--level-shifts``: the level grids whose features are kept besides the 0 grid."""
    parser.add_argument(
        "--level-shifts",
        type=float,
        nargs="*",
        default=[d for d in LEVEL_SHIFTS if d],
        help="also keep the features with every level moved by these fractions of stature "
        f"({arrays}; default: the scan's own grids, fitroom.body.measure_model.LEVEL_SHIFTS)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--split", choices=("train", "test"), default="train")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--loose-top-share", type=float, default=0.0)
    parser.add_argument(
        "--hanging-sides",
        action="store_true",
        help="loose tops whose sides fall from the armpits when the arms are out "
        "(LooseTop.side_drape; one more draw per top, so other bodies follow)",
    )
    parser.add_argument(
        "--sleeves",
        action="store_true",
        help="loose tops with sleeves over 30-90%% of the upper arm (LooseTop."
        "sleeve_fraction; one more draw per top)",
    )
    parser.add_argument(
        "--legacy-features",
        action="store_true",
        help="read each render once, with no mask-leak check (how the data before the "
        "mirror average and the leak check was made)",
    )
    parser.add_argument(
        "--no-upright",
        action="store_true",
        help="do not turn leaning renders upright (how the data before 2026-11-30 was made)",
    )
    add_level_shifts_option(parser, "arrays front_shifted, side_shifted: body x shift x feature")
    parser.add_argument(
        "--checkpoint-minutes",
        type=float,
        default=5.0,
        help="save the bodies so far to OUT.partial.pkl this often (default 5)",
    )
    parser.add_argument(
        "--stop-after-minutes",
        type=float,
        default=None,
        help="save and stop after the first batch past this many minutes; run the same "
        "command again to go on",
    )
    args = parser.parse_args()
    shifts = tuple(args.level_shifts)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    rows: dict[str, list[object]] = {
        k: [] for k in ("front", "side", "ok_front", "ok_front_side", "height_cm", "weight_kg")
    }
    rows.update({"sex": [], "targets_cm": [], "arm_deg": [], "loose_top": []})
    rows["leak_rows_front"] = []  # the leak check is front-only
    rows.update({"front_shifted": [], "side_shifted": []})
    outcomes: Counter[str] = Counter()
    feature_size = 0
    params = sample_body_params(rng, args.bodies)
    partial = Path(f"{args.out}.partial.pkl")
    settings = {
        key: getattr(args, key)
        for key in ("bodies", "seed", "split", "loose_top_share", "legacy_features", "no_upright")
    } | {"level_shifts": list(shifts)}
    for flag in ("hanging_sides", "sleeves"):  # only when set: older partial files go on
        if getattr(args, flag):
            settings[flag] = True
    first, minutes_before = 0, 0.0
    if partial.is_file():
        with partial.open("rb") as file:  # this script's own file (see the docstring)
            saved = pickle.load(file)
        if saved["settings"] != settings:
            sys.exit(
                f"{partial} holds bodies made with other settings ({saved['settings']}); "
                "run the command that made it, or delete it to start again"
            )
        rows, outcomes, feature_size = saved["rows"], saved["outcomes"], saved["feature_size"]
        rng.bit_generator.state = saved["rng_state"]
        first, minutes_before = saved["next_body"], saved["minutes"]
        print(f"going on from {partial}: {first}/{args.bodies} bodies done", flush=True)
    last_saved = time.perf_counter()

    def save_partial(next_body: int) -> None:
        state = {
            "settings": settings,
            "rows": rows,
            "outcomes": outcomes,
            "feature_size": feature_size,
            "rng_state": rng.bit_generator.state,
            "next_body": next_body,
            "minutes": minutes_before + (time.perf_counter() - started) / 60,
        }
        partial.parent.mkdir(parents=True, exist_ok=True)
        scratch = partial.with_suffix(".tmp")
        with scratch.open("wb") as file:
            pickle.dump(state, file)
        scratch.replace(partial)  # a stop mid-write leaves the previous partial whole

    for start in range(first, args.bodies, BATCH):
        batch = params[start : start + BATCH]
        if args.split == "train":
            arms = float(rng.uniform(*TRAIN_ARMS_DEG))
        else:
            arms = float(rng.uniform(*TEST_ARMS_DEG[int(rng.integers(0, 2))]))
        fronts = build_meshes(batch, "scan", arms, float(rng.uniform(*STANCE_M)))
        # The truth is a property of the body, not of the photo: always measured in the
        # reference scan pose (arms at 40 degrees), whatever pose the photo shows.
        references = build_meshes(batch, "scan", MEASURE_ARMS_DEG, 0.25)
        sides = build_meshes(
            batch, "scan", float(rng.uniform(*SIDE_ARMS_DEG)), float(rng.uniform(*SIDE_STANCE_M))
        )
        for body, front_mesh, side_mesh, reference in zip(
            batch, fronts, sides, references, strict=True
        ):
            truth = measure_mesh(reference)
            hair = hair_props(front_mesh, rng)
            loose = None
            if args.loose_top_share > 0 and rng.random() < args.loose_top_share:
                loose = sample_loose_top(rng, args.hanging_sides, args.sleeves)
            features = {}
            for view, mesh in (("front", front_mesh), ("side", side_mesh)):
                scene = sample_scene(rng)
                if args.split == "test":
                    scene = test_scene(scene, rng)
                props = hair
                if loose is not None:
                    shirt = loose_top_prop(mesh, loose, scene.top_rgb)
                    props = (*hair, shirt, *sleeve_props(mesh, loose, scene.top_rgb))
                rendered = render_view(mesh, view, scene, props)
                vector, shifted, outcome, leaks = observe_view(
                    rendered.image_rgb, view, args.legacy_features, not args.no_upright, shifts
                )
                rows[f"{view}_shifted"].append(shifted)
                if view == "front":
                    rows["leak_rows_front"].append(leaks)
                outcomes[f"{view}:{outcome}"] += 1
                features[view] = vector
                if vector is not None:
                    feature_size = vector.shape[0]
            rows["front"].append(features["front"])
            rows["side"].append(features["side"])
            rows["ok_front"].append(features["front"] is not None)
            rows["ok_front_side"].append(
                features["front"] is not None and features["side"] is not None
            )
            rows["height_cm"].append(truth.stature_cm)
            rows["weight_kg"].append(truth.mass_kg)
            rows["sex"].append(body.sex)
            rows["targets_cm"].append([getattr(truth, name) for name in MEASUREMENTS])
            rows["arm_deg"].append(arms)
            rows["loose_top"].append(loose is not None)
        done = min(start + BATCH, args.bodies)
        rate = (done - first) / (time.perf_counter() - started)
        print(f"{done}/{args.bodies} bodies, {rate:.2f}/s, {dict(outcomes)}", flush=True)
        minutes = (time.perf_counter() - started) / 60
        stop = args.stop_after_minutes
        if done < args.bodies and stop is not None and minutes >= stop:
            save_partial(done)
            print(
                f"stopped at {done}/{args.bodies} bodies; saved in {partial}: run the "
                "same command again to go on",
                flush=True,
            )
            return
        if done < args.bodies and time.perf_counter() - last_saved >= 60 * args.checkpoint_minutes:
            save_partial(done)
            last_saved = time.perf_counter()
    blank = np.zeros(feature_size)
    arrays = {
        "front": np.array([blank if v is None else v for v in rows["front"]]),
        "side": np.array([blank if v is None else v for v in rows["side"]]),
        "ok_front": np.array(rows["ok_front"], dtype=bool),
        "ok_front_side": np.array(rows["ok_front_side"], dtype=bool),
        "height_cm": np.array(rows["height_cm"], dtype=np.float64),
        "weight_kg": np.array(rows["weight_kg"], dtype=np.float64),
        "sex": np.array(rows["sex"], dtype="<U6"),
        "targets_cm": np.array(rows["targets_cm"], dtype=np.float64),
        "arm_deg": np.array(rows["arm_deg"], dtype=np.float64),
        "loose_top": np.array(rows["loose_top"], dtype=bool),
        "leak_rows_front": np.array(rows["leak_rows_front"], dtype=np.int64),
    }
    if shifts:
        blank_shifted = np.zeros((len(shifts), feature_size))
        for view in ("front", "side"):
            arrays[f"{view}_shifted"] = np.array(
                [blank_shifted if v is None else v for v in rows[f"{view}_shifted"]]
            )
    meta = {
        "bodies": args.bodies,
        "seed": args.seed,
        "split": args.split,
        "loose_top_share": args.loose_top_share,
        "hanging_sides": args.hanging_sides,
        "sleeves": args.sleeves,
        "features": "legacy"
        if args.legacy_features
        else "mirror average (the leak-free width near replaced edges), leak check"
        + ("" if args.no_upright else ", upright"),
        "level_shifts": list(shifts),
        "gate_outcomes": dict(outcomes),
        "minutes": round(minutes_before + (time.perf_counter() - started) / 60, 1),
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, meta_json=np.array(json.dumps(meta)), **arrays)
    partial.unlink(missing_ok=True)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
