"""Fit an Anny body to measurements: stature exact, girths within 1 cm where reachable.

Unknowns: Anny's height, weight and muscle sliders and the local changes that act on one
measurement each (bust, waist, hips, thigh, neck girths, shoulder width, upper-arm and
upper-leg length). The measurements are taken on the posed mesh exactly as the
training data's (``fitroom.body.mesh_measure``), so a scan's numbers and its avatar
agree by construction.

Method: damped Gauss-Newton. The Jacobian is measured once per sex by finite
differences around the average body (cached for the process), then refined with
Broyden's rank-one updates from each step's actual change; each iteration costs one
mesh and one measurement. Local changes are damped more than the sliders, so overall
size comes from weight and muscle and the local changes only shape.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fitroom.body.anny_model import ADULT_HEIGHT_RANGE, BodyMesh, BodyParams, Sex, build_meshes
from fitroom.body.mesh_measure import MeshMeasurements, measure_mesh
from fitroom.errors import InputError

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
)
#: Damping per parameter (bigger: used less); local changes cost more than sliders.
_DAMPING = np.array([0.01, 0.05, 0.05, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2])
#: Weight per target in the fit (cm of stature matter most; then the girths).
_TARGET_WEIGHT = np.array([4.0, 1.0, 1.0, 1.0, 0.7, 0.7, 0.7, 0.5, 0.7])
_FD_STEP = 0.05
_LOCAL = len(FIT_PARAMETERS) - 3
_LOW = np.array([ADULT_HEIGHT_RANGE[0] - 0.1, 0.0, 0.0] + [-1.0] * _LOCAL)
_HIGH = np.array([0.75, 1.0, 1.0] + [1.0] * _LOCAL)


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

    @property
    def residual_cm(self) -> dict[str, float]:
        return {k: self.achieved_cm[k] - v for k, v in self.target_cm.items()}


def _vector(params: BodyParams) -> NDArray[np.float64]:
    local = dict(params.local_changes)
    return np.array(
        [params.height, params.weight, params.muscle]
        + [local.get(name, 0.0) for name in FIT_PARAMETERS[3:]]
    )


def _with_vector(base: BodyParams, vector: NDArray[np.float64]) -> BodyParams:
    clipped = np.clip(vector, _LOW, _HIGH)
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


def _measured(measurements: MeshMeasurements) -> NDArray[np.float64]:
    return np.array([float(getattr(measurements, name)) for name in FIT_TARGETS])


@functools.cache
def _start_and_jacobian(sex: Sex) -> tuple[BodyParams, NDArray[np.float64], NDArray[np.float64]]:
    """The average body, its measurements and d(measurements)/d(parameters)."""
    base = BodyParams.average(sex)
    x0 = _vector(base)
    candidates = [base]
    for index in range(len(FIT_PARAMETERS)):
        step = np.zeros_like(x0)
        step[index] = _FD_STEP
        candidates.append(_with_vector(base, x0 + step))
    meshes = build_meshes(candidates, "scan")
    values = np.array([_measured(measure_mesh(mesh)) for mesh in meshes])
    jacobian = (values[1:] - values[0]).T / _FD_STEP
    return base, values[0], jacobian


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
    base, current, jacobian = _start_and_jacobian(sex)
    jacobian = jacobian.copy()
    rows = np.array([name in target_cm for name in FIT_TARGETS])
    target = np.array([float(target_cm.get(name, 0.0)) for name in FIT_TARGETS])
    x = _vector(base)
    best: tuple[float, BodyParams, BodyMesh, MeshMeasurements] | None = None
    iterations = 0
    for iteration in range(1, max_iterations + 1):
        iterations = iteration
        residual = np.where(rows, target - current, 0.0) * _TARGET_WEIGHT
        j = jacobian * _TARGET_WEIGHT[:, None] * rows[:, None]
        # Levenberg-Marquardt: (J'J + diag(damping * diag(J'J))) dx = J' r.
        normal = j.T @ j
        lhs = normal + np.diag(_DAMPING * np.diag(normal) + 1e-6)
        step = np.linalg.solve(lhs, j.T @ residual)
        x_new = np.clip(x + step, _LOW, _HIGH)
        params = _with_vector(base, x_new)
        mesh = build_meshes([params], "scan", anthropometry=False)[0]
        measurements = measure_mesh(mesh)
        measured = _measured(measurements)
        # Broyden: make the Jacobian reproduce the change this step actually caused.
        dx, dy = x_new - x, measured - current
        if float(dx @ dx) > 1e-12:
            jacobian += np.outer(dy - jacobian @ dx, dx) / float(dx @ dx)
        x, current = x_new, measured
        error = np.abs(np.where(rows, target - current, 0.0))
        if best is None or error.max() < best[0]:
            best = (float(error.max()), params, mesh, measurements)
        if error.max() <= tolerance_cm:
            break
    if best is None:
        raise InputError("max_iterations must be at least 1", field="max_iterations")
    _, params, mesh, measurements = best
    return AvatarFit(
        params=params,
        mesh=mesh,
        measurements=measurements,
        achieved_cm={name: float(getattr(measurements, name)) for name in FIT_TARGETS},
        target_cm={name: float(v) for name, v in target_cm.items()},
        iterations=iterations,
        elapsed_ms=(time.perf_counter() - started) * 1000.0,
    )


def fit_summary(fit: AvatarFit) -> dict[str, Any]:
    """Targets, achieved values and residuals (cm) of a fit, for APIs and reports."""
    return {
        "iterations": fit.iterations,
        "elapsed_ms": round(fit.elapsed_ms, 1),
        "measurements": {
            name: {
                "target_cm": round(value, 1),
                "avatar_cm": round(fit.achieved_cm[name], 1),
                "difference_cm": round(fit.achieved_cm[name] - value, 1),
            }
            for name, value in fit.target_cm.items()
        },
    }
