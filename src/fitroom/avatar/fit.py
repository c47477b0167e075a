"""Fit an Anny body to measurements: stature exact, girths within 1 cm where reachable.

Unknowns: Anny's height, weight and muscle sliders and the local changes that act on one
measurement each (bust, waist, hips, thigh, neck girths, shoulder width, upper-arm,
upper-leg and lower-leg length). The measurements are taken on the posed mesh exactly as
the training data's (``fitroom.body.mesh_measure``), so a scan's numbers and its avatar
agree by construction. Anny's height slider lands the stature within a few mm; the
fitted mesh is then scaled uniformly to the exact stature (``AvatarFit.scale``, within
about 1 %), and the other measurements aim at their targets allowing for that scale.

Method: damped Gauss-Newton. The start is the body of a shipped table of sampled bodies
(``models_dir/avatar/fit_table.npz``, made by ``scripts/make_avatar_fit_table.py``)
whose measurements are nearest the targets, and the first Jacobian is regressed on its
table neighbours; Broyden's rank-one updates then refine the Jacobian from each step's
actual change, so each iteration costs one mesh and one measurement. Local changes are
damped more than the sliders, so overall size comes from weight and muscle and the
local changes only shape.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fitroom.body.anny_model import ADULT_HEIGHT_RANGE, BodyMesh, BodyParams, Sex, build_meshes
from fitroom.body.mesh_measure import MeshMeasurements, measure_mesh
from fitroom.errors import InputError, ModelError

#: Measurements the fit matches (cm), in order; stature must be given.
FIT_TARGETS: tuple[str, ...] = (
    "stature_cm",
    "chest_cm",
    "waist_cm",
    "hip_cm",
    "thigh_cm",
    "neck_cm",
    "shoulder_breadth_cm",
    "arm_length_cm",
    "inseam_cm",
)
#: The unknowns: two global sliders, then one local change per shaped measurement.
FIT_PARAMETERS: tuple[str, ...] = (
    "height",
    "weight",
    "muscle",
    "measure-bust-circ-incr",
    "measure-waist-circ-incr",
    "measure-hips-circ-incr",
    "measure-thigh-circ-incr",
    "measure-neck-circ-incr",
    "measure-shoulder-dist-incr",
    "measure-upperarm-length-incr",
    "measure-upperleg-height-incr",
    "measure-lowerleg-height-incr",
)
#: Damping per parameter (bigger: used less); local changes cost more than sliders.
_DAMPING = np.array([0.01, 0.05, 0.05] + [0.1] * (len(FIT_PARAMETERS) - 3))
#: Weight per target in the fit (cm of stature matter most; then the girths).
_TARGET_WEIGHT = np.array([4.0, 1.0, 1.0, 1.0, 0.7, 0.7, 0.7, 0.5, 1.0])
_LOCAL = len(FIT_PARAMETERS) - 3
#: The box the unknowns stay in.
PARAMETER_LOW = np.array([ADULT_HEIGHT_RANGE[0] - 0.1, 0.0, 0.0] + [-1.0] * _LOCAL)
PARAMETER_HIGH = np.array([0.75, 1.0, 1.0] + [1.0] * _LOCAL)
#: Table bodies the first Jacobian is regressed on, and the ridge that steadies it.
NEIGHBOURS = 48
_RIDGE = 1e-3


@dataclass(frozen=True)
class AvatarFit:
    """The fitted body, its mesh in the scan pose, and how close it came."""

    params: BodyParams
    mesh: BodyMesh
    measurements: MeshMeasurements
    achieved_cm: dict[str, float]
    target_cm: dict[str, float]
    iterations: int
    elapsed_ms: float
    #: Uniform scale applied to Anny's mesh of ``params`` so the stature is exact (Anny's
    #: height slider lands within a few mm; girths move by the same small factor).
    scale: float = 1.0

    @property
    def residual_cm(self) -> dict[str, float]:
        return {k: self.achieved_cm[k] - v for k, v in self.target_cm.items()}


def with_vector(base: BodyParams, vector: NDArray[np.float64]) -> BodyParams:
    """``base`` with the unknowns (``FIT_PARAMETERS`` order) set from ``vector``."""
    clipped = np.clip(vector, PARAMETER_LOW, PARAMETER_HIGH)
    local = dict(base.local_changes)
    for name, value in zip(FIT_PARAMETERS[3:], clipped[3:], strict=True):
        local[name] = float(value)
    return replace(
        base,
        height=float(np.clip(clipped[0], 0.0, 1.0)),
        weight=float(clipped[1]),
        muscle=float(clipped[2]),
        local_changes=tuple(sorted(local.items())),
    )


def measured(measurements: MeshMeasurements) -> NDArray[np.float64]:
    """The fit's targets (``FIT_TARGETS`` order, cm) as measured on a mesh."""
    return np.array([float(getattr(measurements, name)) for name in FIT_TARGETS])


def scaled_mesh(mesh: BodyMesh, factor: float) -> BodyMesh:
    """``mesh`` scaled uniformly about its origin (feet stay on the floor, centred)."""
    return replace(
        mesh,
        vertices_m=mesh.vertices_m * factor,
        keypoints_m={name: point * factor for name, point in mesh.keypoints_m.items()},
        anny_stature_m=mesh.anny_stature_m * factor,
        anny_mass_kg=mesh.anny_mass_kg * factor**3,
        anny_waist_m=mesh.anny_waist_m * factor,
    )


def scaled_measurements(measurements: MeshMeasurements, factor: float) -> MeshMeasurements:
    """The measurements of a mesh scaled by ``factor``: lengths and girths (convex
    perimeters) and levels scale with it, mass with its cube."""
    lengths = {
        name: getattr(measurements, name) * factor for name in (*FIT_TARGETS, "anny_waist_cm")
    }
    return replace(
        measurements,
        **lengths,
        mass_kg=measurements.mass_kg * factor**3,
        level_heights_m={k: v * factor for k, v in measurements.level_heights_m.items()},
    )


def fit_table_path() -> Path:
    return Path(__file__).resolve().parent.parent / "models_dir" / "avatar" / "fit_table.npz"


@functools.cache
def fit_table(sex: Sex) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The shipped table's unknowns (bodies x ``FIT_PARAMETERS``) and measurements
    (bodies x ``FIT_TARGETS``, cm) for ``sex``."""
    path = fit_table_path()
    try:
        with np.load(path) as table:
            params = np.asarray(table[f"{sex}_parameters"], dtype=np.float64)
            values = np.asarray(table[f"{sex}_measurements_cm"], dtype=np.float64)
    except (OSError, KeyError) as exc:
        raise ModelError(
            f"the avatar fit table {path} is missing or unreadable ({exc}); remake it with "
            "python scripts/make_avatar_fit_table.py"
        ) from exc
    if params.shape != (len(values), len(FIT_PARAMETERS)) or values.shape[1] != len(FIT_TARGETS):
        raise ModelError(
            f"the avatar fit table {path} does not match this fitroom's parameters; remake "
            "it with python scripts/make_avatar_fit_table.py"
        )
    return params, values


def start_and_jacobian(
    sex: Sex, target: NDArray[np.float64], rows: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The table body nearest ``target`` (on the given ``rows``, each measurement in units
    of its spread over the table): its unknowns, its measurements, and
    d(measurements)/d(unknowns) regressed (ridge) on its ``NEIGHBOURS`` nearest."""
    params, values = fit_table(sex)
    spread = values[:, rows].std(axis=0)
    distance = (((values[:, rows] - target[rows]) / spread) ** 2).sum(axis=1)
    near = np.argsort(distance)[:NEIGHBOURS]
    dx = params[near] - params[near].mean(axis=0)
    dy = values[near] - values[near].mean(axis=0)
    normal = dx.T @ dx
    coefficients = np.linalg.solve(
        normal + _RIDGE * np.trace(normal) * np.eye(len(normal)), dx.T @ dy
    )
    return params[near[0]].copy(), values[near[0]].copy(), coefficients.T


def fit_avatar(
    target_cm: Mapping[str, float],
    sex: Sex,
    max_iterations: int = 6,
    tolerance_cm: float = 0.5,
) -> AvatarFit:
    """Anny parameters whose scan-pose mesh measures ``target_cm`` (``stature_cm`` needed).

    Targets not given are left to the body model (their rows drop out of the fit).
    Stops when every given target is within ``tolerance_cm`` or after
    ``max_iterations`` meshes.
    """
    if sex not in ("male", "female"):
        raise InputError(f"sex must be male or female to fit an avatar; got {sex!r}", field="sex")
    unknown = set(target_cm) - set(FIT_TARGETS)
    if unknown:
        raise InputError(
            f"cannot fit {sorted(unknown)}; known measurements: {', '.join(FIT_TARGETS)}",
            field="measurements",
        )
    if "stature_cm" not in target_cm:
        raise InputError("the avatar needs stature_cm (the height)", field="stature_cm")
    started = time.perf_counter()
    base = BodyParams.average(sex)
    rows = np.array([name in target_cm for name in FIT_TARGETS])
    target = np.array([float(target_cm.get(name, 0.0)) for name in FIT_TARGETS])
    x, current, jacobian = start_and_jacobian(sex, target, rows)
    best: tuple[float, BodyParams, BodyMesh, MeshMeasurements] | None = None
    iterations = 0
    for iteration in range(1, max_iterations + 1):
        iterations = iteration
        # The mesh will be scaled to the stated stature (``scaled_mesh``), so the
        # other measurements aim at the targets shrunk or grown by the same factor.
        goal = target * (current[0] / target[0])
        goal[0] = target[0]
        residual = np.where(rows, goal - current, 0.0) * _TARGET_WEIGHT
        j = jacobian * _TARGET_WEIGHT[:, None] * rows[:, None]
        # Levenberg-Marquardt: (J'J + diag(damping * diag(J'J))) dx = J' r.
        normal = j.T @ j
        lhs = normal + np.diag(_DAMPING * np.diag(normal) + 1e-6)
        step = np.linalg.solve(lhs, j.T @ residual)
        x_new = np.clip(x + step, PARAMETER_LOW, PARAMETER_HIGH)
        params = with_vector(base, x_new)
        mesh = build_meshes([params], "scan", anthropometry=False)[0]
        measurements = measure_mesh(mesh)
        values = measured(measurements)
        # Broyden: make the Jacobian reproduce the change this step actually caused.
        dx, dy = x_new - x, values - current
        if float(dx @ dx) > 1e-12:
            jacobian += np.outer(dy - jacobian @ dx, dx) / float(dx @ dx)
        x, current = x_new, values
        error = np.abs(np.where(rows, values * (target[0] / values[0]) - target, 0.0))
        score = float(np.sum((error * _TARGET_WEIGHT) ** 2))
        if best is None or score < best[0]:
            best = (score, params, mesh, measurements)
        if error.max() <= tolerance_cm:
            break
    if best is None:
        raise InputError("max_iterations must be at least 1", field="max_iterations")
    _, params, mesh, measurements = best
    factor = target[0] / measurements.stature_cm
    mesh, measurements = scaled_mesh(mesh, factor), scaled_measurements(measurements, factor)
    return AvatarFit(
        params=params,
        mesh=mesh,
        measurements=measurements,
        achieved_cm={name: float(getattr(measurements, name)) for name in FIT_TARGETS},
        target_cm={name: float(v) for name, v in target_cm.items()},
        iterations=iterations,
        elapsed_ms=(time.perf_counter() - started) * 1000.0,
        scale=float(factor),
    )


def fit_summary(fit: AvatarFit) -> dict[str, Any]:
    """Targets, achieved values and residuals (cm) of a fit, for APIs and reports."""
    return {
        "iterations": fit.iterations,
        "elapsed_ms": round(fit.elapsed_ms, 1),
        "scale_to_stature": round(fit.scale, 5),
        "measurements": {
            name: {
                "target_cm": round(value, 1),
                "avatar_cm": round(fit.achieved_cm[name], 1),
                "difference_cm": round(fit.achieved_cm[name] - value, 1),
            }
            for name, value in fit.target_cm.items()
        },
    }
