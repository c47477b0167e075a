"""Quality functions the compression report scores variants with.

A quality function takes a *predictor* (named input arrays in, the first output array
out: a torch module or an ONNX Runtime session behind one signature) and returns one
number. Two ready-made ones: PSNR of a variant's outputs against reference outputs
(FP32's, by default, for models without a task metric), and any task metric the caller
writes, e.g. Set5 Y-PSNR for super-resolution (``targets.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from fitroom.errors import InputError

#: Named input arrays for one inference call (ONNX input name -> array).
Feeds = Mapping[str, npt.NDArray[Any]]
#: One inference call: feeds in, the model's first output out.
Predictor = Callable[[Feeds], npt.NDArray[Any]]
#: A score of a predictor: higher is better (dB, NDCG) unless the report's
#: ``QualityBudget(higher_is_better=False)`` says it is an error (a MAE in cm).
QualityFn = Callable[[Predictor], float]


def psnr_db(
    prediction: npt.NDArray[Any],
    reference: npt.NDArray[Any],
    peak: float = 1.0,
) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(peak^2 / MSE)``; inf when equal."""
    if prediction.shape != reference.shape:
        raise InputError(f"PSNR needs equal shapes; got {prediction.shape} and {reference.shape}")
    mse = float(np.mean((prediction.astype(np.float64) - reference.astype(np.float64)) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(peak * peak / mse)


def output_psnr_quality(
    feeds: Sequence[Feeds],
    reference_outputs: Sequence[npt.NDArray[Any]],
    peak: float | None = None,
) -> QualityFn:
    """Quality = PSNR (dB) of a variant's outputs against reference outputs, pooled.

    For models without a task metric: the reference is the FP32 model's outputs, so
    the score says how far compression moved the outputs. ``peak`` defaults to the
    reference's value range (max - min), so it works for any output scale.
    """
    if len(feeds) != len(reference_outputs) or not feeds:
        raise InputError("output_psnr_quality needs one reference output per input, at least one")
    reference = np.concatenate([np.asarray(r, dtype=np.float64).ravel() for r in reference_outputs])
    value_range = float(reference.max() - reference.min())
    chosen_peak = peak if peak is not None else (value_range if value_range > 0 else 1.0)

    def quality(predict: Predictor) -> float:
        outputs = np.concatenate([np.asarray(predict(f), dtype=np.float64).ravel() for f in feeds])
        return psnr_db(outputs, reference, peak=chosen_peak)

    return quality
