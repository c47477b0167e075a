"""Slightly altered copies of a photo, for measuring how repeatable a scan is.

The same person photographed twice never gives the same pixels: the phone sits a little
higher, the frame is cut a little tighter, the camera tilts a degree or two, the photo is
compressed harder or sent smaller. ``altered_copies`` makes those changes to one photo.
The benchmark measures each copy and reports how far the measurements move
(``bench/body_scan.py``), on the real photos and on synthetic bodies whose copies'
features ``scripts/make_body_scan_jitter.py`` records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Copy names, in the order ``altered_copies`` returns them.
COPY_NAMES: tuple[str, ...] = (
    "original",
    "mirrored",
    "cropped",
    "rotated +2",
    "rotated -3",
    "jpeg q60",
    "0.7x size",
)
#: Cropped copy: fractions of the height cut at the top and bottom, and of the width cut
#: on each side (front, side view). On a 1280 x 960 photo: 20 and 5 px, 40 or 60 px.
CROP_TOP, CROP_BOTTOM = 0.015625, 0.0039
CROP_SIDES = {"front": 0.0417, "side": 0.0625}


@dataclass(frozen=True)
class PhotoCopy:
    """One altered copy: its name, pixels (H x W x 3 uint8 RGB) and the JPEG quality to
    send it at."""

    name: str
    rgb: NDArray[np.uint8]
    jpeg_quality: int

    def jpeg(self) -> bytes:
        """The copy as the JPEG file a phone would send."""
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(self.rgb).save(buffer, format="JPEG", quality=self.jpeg_quality)
        return buffer.getvalue()


def rotated(rgb: NDArray[np.uint8], degrees: float) -> NDArray[np.uint8]:
    """``rgb`` turned ``degrees`` anticlockwise about its centre, same size, edges
    repeated into the corners."""
    import cv2

    height_px, width_px = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width_px / 2, height_px / 2), degrees, 1.0)
    out = cv2.warpAffine(rgb, matrix, (width_px, height_px), borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(out, dtype=np.uint8)


def altered_copies(rgb: NDArray[np.uint8], view: str) -> list[PhotoCopy]:
    """The photo itself (JPEG quality 92) and six altered copies (``COPY_NAMES``)."""
    import cv2

    if view not in CROP_SIDES:
        raise ValueError(f"view is {view!r}; expected 'front' or 'side'")
    height_px, width_px = rgb.shape[:2]
    top, bottom = round(CROP_TOP * height_px), round(CROP_BOTTOM * height_px)
    side = round(CROP_SIDES[view] * width_px)
    smaller = cv2.resize(rgb, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    pixels = (
        rgb,
        rgb[:, ::-1],
        rgb[top : height_px - bottom, side : width_px - side],
        rotated(rgb, 2.0),
        rotated(rgb, -3.0),
        rgb,
        smaller,
    )
    qualities = (92, 92, 92, 92, 92, 60, 92)
    return [
        PhotoCopy(name, np.ascontiguousarray(p), q)
        for name, p, q in zip(COPY_NAMES, pixels, qualities, strict=True)
    ]
