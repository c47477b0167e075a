"""Decode a body photo: size limits from the header, EXIF orientation, 8-bit RGB."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import ImageTooLarge, InvalidImage, PhotoTooSmall

#: A full body needs room: below this short side the landmarks are too coarse.
MIN_SHORT_SIDE_PX = 256
#: Decoding past this is refused from the header (a 12-MP phone photo is 12e6).
DEFAULT_MAX_PHOTO_PIXELS = 50_000_000


@dataclass(frozen=True)
class Photo:
    """An upright photo as H x W x 3 uint8 RGB, and the view it was taken as."""

    rgb: NDArray[np.uint8]
    view: str

    @property
    def width_px(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.rgb.shape[0])


def decode_photo(data: bytes, view: str, max_pixels: int = DEFAULT_MAX_PHOTO_PIXELS) -> Photo:
    """Bytes of a JPEG/PNG/WebP/... photo -> upright RGB ``Photo``.

    The EXIF orientation is applied (phones store portrait photos sideways with a tag);
    the pixel count is checked from the header before any decoding.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise InvalidImage(f"the {view} photo is empty (0 bytes)", view=view)
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"the {view} photo is far past the size limit", view=view) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidImage(
            f"the {view} photo is not an image fitroom can read (JPEG, PNG, WebP, HEIC "
            "converted to JPEG...)",
            view=view,
        ) from exc
    width_px, height_px = image.size
    if width_px * height_px > max_pixels:
        raise ImageTooLarge(
            f"the {view} photo is {width_px}x{height_px} px; at most {max_pixels} pixels "
            "are accepted (send the phone's normal photo size, not a panorama)",
            view=view,
            width_px=width_px,
            height_px=height_px,
            max_pixels=max_pixels,
        )
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
        rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImage(
            f"the {view} photo is corrupt or truncated ({exc}); take or upload it again",
            view=view,
        ) from exc
    return photo_from_array(rgb, view)


def photo_from_array(rgb: NDArray[np.uint8], view: str) -> Photo:
    """Wrap upright RGB pixels as a ``Photo`` after the minimum-size check."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InvalidImage(f"the {view} photo must be H x W x 3 uint8 RGB", view=view)
    height_px, width_px = rgb.shape[:2]
    if min(width_px, height_px) < MIN_SHORT_SIDE_PX:
        raise PhotoTooSmall(
            f"the {view} photo is {width_px}x{height_px} px; at least {MIN_SHORT_SIDE_PX} px "
            "on the short side is needed",
            view=view,
            advice="send the photo at the camera's full resolution (not a thumbnail)",
            width_px=width_px,
            height_px=height_px,
            min_short_side_px=MIN_SHORT_SIDE_PX,
        )
    return Photo(rgb=rgb, view=view)
