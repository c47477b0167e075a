"""The avatar fit's start table: sampled Anny bodies and their measurements, per sex.

``fitroom.avatar.fit`` starts each fit from the table body whose measurements are
nearest the targets, with a Jacobian regressed on the table bodies around it, instead of
from the average body and one finite-difference Jacobian there. For each sex the script
draws ``--bodies`` parameter vectors over the fit's unknowns (``FIT_PARAMETERS``: the
height, weight and muscle sliders over their whole fit range, the local changes within
+-``--local-range``; Latin hypercube, seeded), on the sex's average body
(``BodyParams.average``), builds each in the scan pose and measures it exactly as the fit
does (``fitroom.body.mesh_measure``).

Run (the shipped table): ``python scripts/make_avatar_fit_table.py --bodies 800 --seed 0``
(writes ``src/fitroom/models_dir/avatar/fit_table.npz`` and its ``config.json``; 6.5
minutes on one core).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from fitroom.avatar.fit import (
    FIT_PARAMETERS,
    FIT_TARGETS,
    PARAMETER_HIGH,
    PARAMETER_LOW,
    measured,
    with_vector,
)
from fitroom.body.anny_model import BodyParams, build_meshes
from fitroom.body.mesh_measure import measure_mesh

OUT_DIR = Path(__file__).resolve().parents[1] / "src/fitroom/models_dir/avatar"
BATCH = 16


def latin_hypercube(rng: np.random.Generator, count: int, dims: int) -> np.ndarray:
    """``count`` points in [0, 1)^dims, one in each of ``count`` slices of every axis."""
    slices = (np.arange(count)[:, None] + rng.random((count, dims))) / count
    for d in range(dims):
        slices[:, d] = slices[rng.permutation(count), d]
    return slices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=500, help="bodies per sex")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--local-range", type=float, default=0.7)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    low, high = PARAMETER_LOW.copy(), PARAMETER_HIGH.copy()
    low[3:], high[3:] = -args.local_range, args.local_range
    arrays: dict[str, np.ndarray] = {}
    for sex in ("female", "male"):
        base = BodyParams.average(sex)
        vectors = low + latin_hypercube(rng, args.bodies, len(FIT_PARAMETERS)) * (high - low)
        values = np.zeros((args.bodies, len(FIT_TARGETS)))
        for start in range(0, args.bodies, BATCH):
            chunk = vectors[start : start + BATCH]
            meshes = build_meshes(
                [with_vector(base, v) for v in chunk], "scan", anthropometry=False
            )
            for k, mesh in enumerate(meshes):
                values[start + k] = measured(measure_mesh(mesh))
            print(f"{sex}: {start + len(chunk)}/{args.bodies}", flush=True)
        arrays[f"{sex}_parameters"] = vectors.astype(np.float32)
        arrays[f"{sex}_measurements_cm"] = values.astype(np.float32)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "fit_table.npz", **arrays)
    config = {
        "what": "sampled Anny bodies (scan pose) and their measurements, per sex",
        "parameters": list(FIT_PARAMETERS),
        "measurements_cm": list(FIT_TARGETS),
        "bodies_per_sex": args.bodies,
        "seed": args.seed,
        "local_range": args.local_range,
        "anny_version": metadata.version("anny"),
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
    }
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(json.dumps(config))


if __name__ == "__main__":
    main()
