"""Is the shopper wearing a loose top? A warning, since a silhouette cannot see through it.

A loose T-shirt widens the silhouette where the tape would not go: on synthetic bodies
in loose tops (``fitroom.body.clothing``, 1-5 cm off the body) the tight-clothes
models read the waist about 25 cm large. The measurement cannot undo that from the
outline alone, but the outline's shape gives the top away (it falls straight from the
chest, flares to a hem), so a detector can tell the shopper to scan again in fitted
clothes instead of handing over figures that look precise.

The detector is an L2-regularised logistic regression on the measurement model's own
inputs with weight and sex left out (``fitroom.body.measure_model.model_inputs``),
fitted by Newton's method (deterministic, plain numpy) by
``scripts/train_loose_top_detector.py`` on synthetic bodies with and without loose
tops. Its threshold is set on held-out tight-clothed bodies so that a chosen share of
them (the false-alarm rate) is flagged.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import InputError, ModelError

WARNING = (
    "your top looks loose: the chest, waist and hip may read several centimetres large; "
    "for precise figures scan again in fitted clothes (a tight top or sports wear)"
)


@dataclass(frozen=True)
class LooseTopDetector:
    """Probability that the photographed top is loose, from one row of model inputs."""

    variant: str
    input_mean: NDArray[np.float64]
    input_std: NDArray[np.float64]
    coef: NDArray[np.float64]
    intercept: float
    threshold: float
    config: dict[str, Any]

    def probability(self, inputs: NDArray[np.float64]) -> NDArray[np.float64]:
        """P(loose top) for each row of ``inputs`` (rows x features)."""
        rows = np.atleast_2d(np.asarray(inputs, dtype=np.float64))
        if rows.shape[1] != self.input_mean.shape[0]:
            raise InputError(
                f"the loose-top detector takes {self.input_mean.shape[0]} inputs; "
                f"got {rows.shape[1]}"
            )
        z = ((rows - self.input_mean) / self.input_std) @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0))), dtype=np.float64)

    def flags(self, inputs: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Whether each row's probability reaches the threshold."""
        return np.asarray(self.probability(inputs) >= self.threshold, dtype=np.bool_)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(
            folder / "weights.npz",
            input_mean=self.input_mean,
            input_std=self.input_std,
            coef=self.coef,
        )
        config = {
            **self.config,
            "variant": self.variant,
            "intercept": self.intercept,
            "threshold": self.threshold,
        }
        (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> LooseTopDetector:
        try:
            config = json.loads((folder / "config.json").read_text())
            with np.load(folder / "weights.npz", allow_pickle=False) as weights:
                arrays = {k: np.asarray(weights[k], dtype=np.float64) for k in weights.files}
            return cls(
                variant=str(config["variant"]),
                input_mean=arrays["input_mean"],
                input_std=arrays["input_std"],
                coef=arrays["coef"],
                intercept=float(config["intercept"]),
                threshold=float(config["threshold"]),
                config=config,
            )
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"loose-top detector in {folder} is unreadable: {exc}") from exc


def fit_logistic(
    inputs: NDArray[np.float64],
    labels: NDArray[np.bool_],
    l2: float = 1.0,
    iterations: int = 50,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float]:
    """(mean, std, coef, intercept) of an L2 logistic regression on standardised inputs.

    Newton's method on the penalised log-likelihood (the intercept is not penalised);
    it stops when the step is below 1e-10 or after ``iterations``.
    """
    x = np.asarray(inputs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise InputError("inputs must be rows x features with one label per row")
    if y.min() == y.max():
        raise InputError("labels must contain both classes")
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    design = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    w = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -50.0, 50.0)))
        gradient = design.T @ (p - y) + penalty * w
        hessian = (design * (p * (1.0 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return mean, std, w[:-1], float(w[-1])


def shipped_detector_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "models_dir" / "loose_top"


def load_loose_top_detector(variant: str, folder: Path | None = None) -> LooseTopDetector | None:
    """The detector for ``variant`` (``front`` or ``front_side``), or None if none ships."""
    root = folder if folder is not None else shipped_detector_dir()
    return _load(str(root / variant))


@functools.cache
def _load(path: str) -> LooseTopDetector | None:
    folder = Path(path)
    if not (folder / "config.json").is_file():
        return None
    return LooseTopDetector.load(folder)
