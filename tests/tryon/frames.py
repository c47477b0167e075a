"""Camera-like frames for the live try-on tests: a person photo letterboxed into 640x480."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray


def letterboxed_bgr(path: Path, shift_px: int = 0) -> NDArray[np.uint8]:
    """The photo scaled to 480 px high, centred in 640x480 (shifted ``shift_px``
    sideways), the sides filled with its edge colour; BGR, as OpenCV reads it."""
    bgr = cv2.imread(str(path))
    scale = 480 / bgr.shape[0]
    small = cv2.resize(bgr, (round(bgr.shape[1] * scale), 480), interpolation=cv2.INTER_AREA)
    frame = np.empty((480, 640, 3), np.uint8)
    frame[:] = small[:, :4].reshape(-1, 3).mean(axis=0)
    x0 = (640 - small.shape[1]) // 2 + shift_px
    frame[:, x0 : x0 + small.shape[1]] = small
    return frame


def letterboxed_person(path: Path, shift_px: int = 0) -> NDArray[np.uint8]:
    """``letterboxed_bgr`` as RGB (what the try-on takes)."""
    rgb: NDArray[np.uint8] = cv2.cvtColor(letterboxed_bgr(path, shift_px), cv2.COLOR_BGR2RGB)
    return rgb
