"""Thin-plate-spline warps of a garment cut-out onto target points in the person photo.

``ThinPlateSpline.fit(src, dst)`` solves the classic TPS system (Bookstein 1989) with a
small regulariser, so it maps every ``src`` point (nearly) onto its ``dst`` point and
bends as little as possible in between. Warping an image needs the *inverse* map (for
each output pixel, where to sample the garment), so ``warp_to`` fits target -> source,
evaluates it on a coarse grid over the output box, upsamples the grid linearly and
samples with ``cv2.remap``: a 768x1024 warp costs a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

#: The inverse map is evaluated every this many output pixels, then interpolated.
GRID_STEP_PX = 8


def _kernel(r2: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        values = 0.5 * r2 * np.log(r2)
    result: NDArray[np.float64] = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    return result


@dataclass(frozen=True)
class ThinPlateSpline:
    """A fitted 2-D thin-plate spline: ``transform`` maps points like ``src`` to ``dst``."""

    control: NDArray[np.float64]
    weights: NDArray[np.float64]
    affine: NDArray[np.float64]

    @classmethod
    def fit(
        cls, src: NDArray[np.float64], dst: NDArray[np.float64], smoothing: float = 1e-3
    ) -> ThinPlateSpline:
        """Fit on N >= 3 point pairs (N x 2 each); ``smoothing`` relaxes exact interpolation."""
        src = np.asarray(src, dtype=np.float64)
        dst = np.asarray(dst, dtype=np.float64)
        if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or src.shape[0] < 3:
            raise ValueError("TPS needs matching N x 2 point arrays with N >= 3")
        count = src.shape[0]
        centre = src.mean(axis=0)
        spread = float(np.abs(src - centre).max()) or 1.0
        normal = (src - centre) / spread
        d2 = ((normal[:, None, :] - normal[None, :, :]) ** 2).sum(-1)
        kernel = _kernel(d2) + smoothing * np.eye(count)
        ones = np.hstack([np.ones((count, 1)), normal])
        system = np.zeros((count + 3, count + 3))
        system[:count, :count] = kernel
        system[:count, count:] = ones
        system[count:, :count] = ones.T
        rhs = np.zeros((count + 3, 2))
        rhs[:count] = dst
        solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
        return cls(
            control=np.vstack([normal, centre[None, :], np.array([[spread, spread]])]),
            weights=solution[:count],
            affine=solution[count:],
        )

    def transform(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map M x 2 points."""
        centre = self.control[-2]
        spread = self.control[-1, 0]
        normal = (np.asarray(points, dtype=np.float64) - centre) / spread
        control = self.control[:-2]
        d2 = ((normal[:, None, :] - control[None, :, :]) ** 2).sum(-1)
        mapped: NDArray[np.float64] = (
            _kernel(d2) @ self.weights + self.affine[0] + normal @ self.affine[1:]
        )
        return mapped


def warp_to(
    image: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    src_points: NDArray[np.float64],
    dst_points: NDArray[np.float64],
    out_shape: tuple[int, int],
    box: tuple[int, int, int, int] | None = None,
) -> tuple[NDArray[np.uint8], NDArray[np.float32], tuple[int, int, int, int]]:
    """Warp ``image``/``mask`` so ``src_points`` land on ``dst_points``.

    Returns the warped pixels and alpha (float 0-1) for the output box
    ``(x0, y0, x1, y1)`` (clipped to ``out_shape`` = (height, width)); only that box is
    computed. ``box`` defaults to the bounding box of ``dst_points`` plus 25% margin.
    """
    height_px, width_px = out_shape
    if box is None:
        lo = dst_points.min(axis=0)
        hi = dst_points.max(axis=0)
        pad = 0.25 * (hi - lo)
        box = (
            int(lo[0] - pad[0]),
            int(lo[1] - pad[1]),
            int(hi[0] + pad[0]) + 1,
            int(hi[1] + pad[1]) + 1,
        )
    x0, y0 = max(0, box[0]), max(0, box[1])
    x1, y1 = min(width_px, box[2]), min(height_px, box[3])
    if x1 <= x0 or y1 <= y0:
        empty = np.zeros((0, 0), dtype=np.float32)
        return np.zeros((0, 0, 3), dtype=np.uint8), empty, (x0, y0, x0, y0)
    inverse = ThinPlateSpline.fit(dst_points, src_points)
    grid_x = np.arange(x0, x1 + GRID_STEP_PX, GRID_STEP_PX, dtype=np.float64)
    grid_y = np.arange(y0, y1 + GRID_STEP_PX, GRID_STEP_PX, dtype=np.float64)
    gx, gy = np.meshgrid(grid_x, grid_y)
    mapped = inverse.transform(np.stack([gx.ravel(), gy.ravel()], axis=1))
    coarse_x = mapped[:, 0].reshape(gx.shape).astype(np.float32)
    coarse_y = mapped[:, 1].reshape(gy.shape).astype(np.float32)
    # Coarse node k sits at output offset k * step: bilinear lookup at offset / step.
    node_x = np.arange(x1 - x0, dtype=np.float32) / GRID_STEP_PX
    node_y = np.arange(y1 - y0, dtype=np.float32) / GRID_STEP_PX
    lookup_x, lookup_y = np.meshgrid(node_x, node_y)
    lookup_x = np.ascontiguousarray(lookup_x, dtype=np.float32)
    lookup_y = np.ascontiguousarray(lookup_y, dtype=np.float32)
    map_x = np.asarray(cv2.remap(coarse_x, lookup_x, lookup_y, cv2.INTER_LINEAR), dtype=np.float32)
    map_y = np.asarray(cv2.remap(coarse_y, lookup_x, lookup_y, cv2.INTER_LINEAR), dtype=np.float32)
    warped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    alpha_src = mask.astype(np.float32)
    alpha = cv2.remap(alpha_src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return np.asarray(warped, dtype=np.uint8), np.asarray(alpha, dtype=np.float32), (x0, y0, x1, y1)
