"""Live try-on use cases: frames in and out as JPEG, garments from the catalogue or an upload.

The stream face (``api/routes/tryon_stream.py``) only moves bytes; this module decodes
and checks them (byte limit, JPEG signature, pixel limit read from the header before
decoding), resolves a product to its garment photo, and prepares garments once
(products are cached, keyed by the image file's path and modification time).

Product photos: ``Product.images[0]`` served from this server's ``/media`` folder. The
demo store's products are flat-lay pictures drawn by ``fitroom.demo.images`` (no real
photographs ship), which the garment step cuts out like a photo; a store's own product
photos work the same way when they are stored under ``/media``.
"""

from __future__ import annotations

import base64
import binascii
import io

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image
from sqlalchemy.orm import Session

from fitroom.config import Settings
from fitroom.errors import ImageTooLarge, InvalidImage
from fitroom.services import tryon
from fitroom.tryon.garment import PreparedGarment
from fitroom.tryon.live import MAX_FRAME_PIXELS

JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: JPEG quality of the frames sent back (80: ~40 KB at 640x480, no visible blocking).
FRAME_JPEG_QUALITY = 80
#: Largest garment photo, in pixels (a 24 Mpx camera photo; larger is refused).
MAX_GARMENT_PIXELS = 6000 * 4000


def _pixel_count(data: bytes, what: str) -> int:
    try:
        with Image.open(io.BytesIO(data)) as header:
            width_px, height_px = header.size
    except Exception as exc:  # PIL raises many types for a corrupt header
        raise InvalidImage(f"{what} is not a readable image: {exc}") from None
    return int(width_px) * int(height_px)


def decode_image(
    data: bytes, *, max_bytes: int, max_pixels: int, what: str, allow_png: bool = False
) -> NDArray[np.uint8]:
    """JPEG (or PNG) bytes -> RGB uint8, refusing past ``max_bytes`` or ``max_pixels``."""
    if len(data) > max_bytes:
        raise ImageTooLarge(
            f"{what} is {len(data)} bytes; at most {max_bytes} are taken",
            max_upload_bytes=max_bytes,
        )
    is_png = data.startswith(PNG_SIGNATURE)
    if not data.startswith(JPEG_SIGNATURE) and not (allow_png and is_png):
        kinds = "a JPEG or PNG" if allow_png else "a JPEG"
        raise InvalidImage(f"{what} is not {kinds} image (its first bytes are {data[:4]!r})")
    pixels = _pixel_count(data, what)
    if pixels > max_pixels:
        raise ImageTooLarge(
            f"{what} has {pixels} pixels; at most {max_pixels} are taken", max_pixels=max_pixels
        )
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InvalidImage(f"{what} is a damaged image that cannot be decoded")
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def decode_frame(data: bytes, settings: Settings) -> NDArray[np.uint8]:
    """One webcam frame (JPEG bytes) -> RGB, within the upload and frame limits."""
    return decode_image(
        data, max_bytes=settings.max_upload_bytes, max_pixels=MAX_FRAME_PIXELS, what="frame"
    )


def encode_frame(rgb: NDArray[np.uint8], quality: int = FRAME_JPEG_QUALITY) -> bytes:
    """RGB -> JPEG bytes (OpenCV's libjpeg-turbo: ~2 ms at 640x480)."""
    ok, buffer = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise InvalidImage("the frame could not be encoded as JPEG")
    return bytes(buffer)


def garment_from_upload(encoded: str, category: str, settings: Settings) -> PreparedGarment:
    """A garment photo sent as base64 text (JPEG or PNG), prepared for try-on."""
    if len(encoded) > settings.max_upload_bytes * 4 // 3 + 4:
        raise ImageTooLarge(
            f"garment photo is larger than {settings.max_upload_bytes} bytes",
            max_upload_bytes=settings.max_upload_bytes,
        )
    payload = encoded.split(",", 1)[1] if encoded.startswith("data:") else encoded
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidImage("garment is not valid base64 text") from None
    rgb = decode_image(
        data,
        max_bytes=settings.max_upload_bytes,
        max_pixels=MAX_GARMENT_PIXELS,
        what="garment photo",
        allow_png=True,
    )
    return tryon.prepare_garment_photo(rgb, category)


def garment_for_product(session: Session, settings: Settings, product_id: str) -> PreparedGarment:
    """The product's garment for a live session: the photo try-on's prepared garment
    (same category rules, same cache), so both faces dress a product the same way."""
    return tryon.prepared_garment_for_product(session, product_id, settings.resolved_media_dir)
