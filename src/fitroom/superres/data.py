"""Images for super-resolution: loading, MATLAB-like bicubic resize, Y channel, patches.

The SR literature (SRCNN, ESPCN, FSRCNN, EDSR...) makes low-resolution inputs with
MATLAB's ``imresize(hr, 1/scale, 'bicubic')``: a Keys cubic kernel (a = -0.5) that is
*widened* by the scale when shrinking (antialiasing), with mirrored borders, on uint8
images with the result rounded back to uint8. Published Set5 figures are only
comparable under the same degradation, so :func:`imresize` re-implements it in numpy
(after the reference ``contributions`` routine of MATLAB's ``imresize.m``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import InputError

IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")

U8Image = NDArray[np.uint8]
FloatImage = NDArray[np.float64]


def cubic_kernel(x: NDArray[np.float64], a: float = -0.5) -> NDArray[np.float64]:
    """Keys' cubic convolution kernel (a = -0.5 as in MATLAB ``imresize``)."""
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    near = (a + 2.0) * ax3 - (a + 3.0) * ax2 + 1.0
    far = a * ax3 - 5.0 * a * ax2 + 8.0 * a * ax - 4.0 * a
    return np.where(ax <= 1.0, near, np.where(ax < 2.0, far, 0.0))


def _contributions(
    in_length: int, out_length: int, scale: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Weights and source indices of each output sample (MATLAB ``imresize.m``).

    When shrinking (scale < 1) the kernel is stretched by 1/scale, which low-pass
    filters before subsampling (MATLAB's default ``'Antialiasing', true``). Indices
    past the border are mirrored including the edge sample (``symmetric``).
    """
    kernel_width = 4.0
    if scale < 1.0:
        kernel_width /= scale
    # 1-based output coordinates mapped back to 1-based input coordinates.
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    taps = int(np.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]  # 1-based
    distance = u[:, None] - indices
    shrink = scale < 1.0
    weights = scale * cubic_kernel(scale * distance) if shrink else cubic_kernel(distance)
    weights = weights / weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    zero_based = mirror[np.mod(indices.astype(np.int64) - 1, mirror.size)]
    keep = np.any(weights != 0.0, axis=0)
    return weights[:, keep], zero_based[:, keep]


def _resize_axis(image: FloatImage, axis: int, out_length: int, scale: float) -> FloatImage:
    weights, indices = _contributions(image.shape[axis], out_length, scale)
    moved = np.moveaxis(image, axis, 0)
    out = np.zeros((out_length, *moved.shape[1:]), dtype=np.float64)
    for tap in range(weights.shape[1]):
        w = weights[:, tap].reshape((-1,) + (1,) * (moved.ndim - 1))
        out += w * moved[indices[:, tap]]
    return np.moveaxis(out, 0, axis)


def imresize(image: NDArray[np.generic], scale: float) -> NDArray[np.generic]:
    """Resize an H x W (x C) image by ``scale`` like MATLAB ``imresize(..., 'bicubic')``.

    Output size is ``ceil(size * scale)``. A uint8 input gives a uint8 output, rounded
    and clipped as MATLAB does; a float input stays float64 (no clipping).
    """
    if image.ndim not in (2, 3):
        raise InputError(f"image must be H x W or H x W x C; got shape {image.shape}")
    if scale <= 0:
        raise InputError(f"scale must be positive; got {scale}")
    height, width = image.shape[:2]
    out_h, out_w = int(np.ceil(height * scale)), int(np.ceil(width * scale))
    data = image.astype(np.float64)
    # MATLAB resizes the dimension with the smaller scale first; equal scales: rows first.
    data = _resize_axis(data, 0, out_h, scale)
    data = _resize_axis(data, 1, out_w, scale)
    if image.dtype == np.uint8:
        return np.clip(np.round(data), 0, 255).astype(np.uint8)
    return data


def modcrop(image: U8Image, scale: int) -> U8Image:
    """Crop the bottom/right so both sides are multiples of ``scale`` (standard protocol)."""
    height, width = image.shape[:2]
    return image[: height - height % scale, : width - width % scale]


def bicubic_degrade(hr: U8Image, scale: int) -> U8Image:
    """The standard SR degradation: MATLAB-like bicubic downscale of a uint8 image."""
    lr: U8Image = imresize(hr, 1.0 / scale)  # type: ignore[assignment]
    return lr


def rgb_to_y(image: NDArray[np.generic]) -> FloatImage:
    """Luma Y of an RGB image in [0, 255] as MATLAB ``rgb2ycbcr`` (ITU-R BT.601).

    Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, in [16, 235]. Kept in float
    (no rounding), as the common SR evaluation code does.
    """
    rgb = image.astype(np.float64)
    if rgb.ndim == 2:
        return rgb
    luma: FloatImage = (
        16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0
    )
    return luma


def load_rgb(path: Path) -> U8Image:
    """Read an image file as H x W x 3 uint8 RGB (palette, gray and alpha converted)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{path} is not a readable image: {exc}", path=str(path)) from exc


def list_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name (so runs are reproducible)."""
    if not folder.is_dir():
        raise InputError(f"image folder {folder} does not exist", path=str(folder))
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}", path=str(folder))
    return files


@dataclass(frozen=True)
class ImagePair:
    """A ground-truth image and its bicubic-degraded input, both uint8 H x W x 3."""

    name: str
    hr: U8Image
    lr: U8Image


def make_pairs(paths: list[Path], scale: int) -> list[ImagePair]:
    """Modcrop each image and degrade it once; training samples aligned crops of both."""
    pairs = []
    for path in paths:
        hr = modcrop(load_rgb(path), scale)
        pairs.append(ImagePair(name=path.stem, hr=hr, lr=bicubic_degrade(hr, scale)))
    return pairs


@dataclass(frozen=True)
class PatchCrops:
    """Aligned uint8 crops, N x h x w x 3, with the transform each one is due.

    Patch ``i`` is to be rotated ``rotations[i]`` quarter turns (``numpy.rot90`` on
    its two image axes), then mirrored left-right where ``flips[i]``.
    """

    lr: NDArray[np.uint8]
    hr: NDArray[np.uint8]
    rotations: NDArray[np.int64]
    flips: NDArray[np.bool_]

    def groups(self) -> list[tuple[int, bool, NDArray[np.int64]]]:
        """(quarter turns, flip, indices of the patches due that transform), non-empty."""
        out = []
        for rotations in range(4):
            for flip in (False, True):
                members = np.flatnonzero((self.rotations == rotations) & (self.flips == flip))
                if members.size:
                    out.append((rotations, flip, members))
        return out


#: How a patch sampler draws its images: ``area`` in proportion to their area (every
#: pixel about equally likely: BSD200's 481 x 321 scenes then give about 85% of the
#: patches of T91 + BSD200), ``image`` each image equally often (T91's small close-ups
#: about a third).
SAMPLE_BY = ("area", "image")


def check_sample_by(sample_by: str) -> None:
    """Refuse a way of drawing images other than those of :data:`SAMPLE_BY`."""
    if sample_by not in SAMPLE_BY:
        raise InputError(
            f"sample_by must be one of {', '.join(SAMPLE_BY)}; got {sample_by!r}",
            field="sample_by",
        )


def image_probabilities(lr_sizes: NDArray[np.int64], sample_by: str) -> NDArray[np.float64]:
    """Each image's chance of giving a patch, from its LR (height, width) rows."""
    check_sample_by(sample_by)
    weights = (
        lr_sizes[:, 0].astype(np.float64) * lr_sizes[:, 1]
        if sample_by == "area"
        else np.ones(len(lr_sizes), dtype=np.float64)
    )
    probabilities: NDArray[np.float64] = weights / weights.sum()
    return probabilities


def sampled_pairs(
    pairs: list[ImagePair], scale: int, lr_patch_px: int, sample_by: str
) -> tuple[list[ImagePair], NDArray[np.int64], NDArray[np.float64]]:
    """The pairs a patch sampler draws from (those at least one patch big at full
    size), their LR (height, width) rows and each one's chance of being drawn; shared
    by the numpy sampler and the trainer's on-device one."""
    hr_patch = lr_patch_px * scale
    kept = [p for p in pairs if min(p.hr.shape[:2]) >= hr_patch]
    if not kept:
        raise InputError(
            f"no training image is at least {hr_patch} px on its short side; use a smaller --patch"
        )
    lr_sizes = np.array([p.lr.shape[:2] for p in kept], dtype=np.int64)
    return kept, lr_sizes, image_probabilities(lr_sizes, sample_by)


class PatchSampler:
    """Random aligned LR/HR patches with the 8 flips/rotations (dihedral group).

    Images are drawn with probability proportional to their area (``sample_by="area"``,
    so every pixel of the training set is about equally likely) or equally often
    (``"image"``); images smaller than a patch are skipped. All randomness comes from
    one seeded ``numpy.random.Generator``.
    """

    def __init__(
        self,
        pairs: list[ImagePair],
        scale: int,
        lr_patch_px: int,
        seed: int,
        sample_by: str = "area",
    ) -> None:
        self.pairs, _, self.probabilities = sampled_pairs(pairs, scale, lr_patch_px, sample_by)
        self.scale = scale
        self.lr_patch_px = lr_patch_px
        self.rng = np.random.default_rng(seed)

    @property
    def image_count(self) -> int:
        """Images large enough for one patch: the ones sampled."""
        return len(self.pairs)

    def sample(self, batch_size: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """A batch as float32 N x 3 x h x w in [0, 1]: (lr, hr), flips and rotations applied."""
        crops = self.sample_crops(batch_size)
        lr_batch, hr_batch = crops.lr.copy(), crops.hr.copy()
        for rotations, flip, members in crops.groups():
            lr_group = np.rot90(crops.lr[members], rotations, axes=(1, 2))
            hr_group = np.rot90(crops.hr[members], rotations, axes=(1, 2))
            if flip:
                lr_group, hr_group = lr_group[:, :, ::-1], hr_group[:, :, ::-1]
            lr_batch[members], hr_batch[members] = lr_group, hr_group
        return (
            np.divide(lr_batch.transpose(0, 3, 1, 2), 255.0, dtype=np.float32),
            np.divide(hr_batch.transpose(0, 3, 1, 2), 255.0, dtype=np.float32),
        )

    def sample_crops(self, batch_size: int) -> PatchCrops:
        """A batch of aligned crops, still untransformed, and each one's flip and rotation.

        Copying plain crops is fast; the eight flips/rotations can then be applied by
        whoever holds the batch (numpy in :meth:`sample`, torch on a GPU in training).
        """
        size, s = self.lr_patch_px, self.scale
        lr_batch = np.empty((batch_size, size, size, 3), dtype=np.uint8)
        hr_batch = np.empty((batch_size, size * s, size * s, 3), dtype=np.uint8)
        rotations = np.zeros(batch_size, dtype=np.int64)
        flips = np.zeros(batch_size, dtype=np.bool_)
        choices = self.rng.choice(len(self.pairs), size=batch_size, p=self.probabilities)
        for i, index in enumerate(choices):
            pair = self.pairs[int(index)]
            top = int(self.rng.integers(0, pair.lr.shape[0] - size + 1))
            left = int(self.rng.integers(0, pair.lr.shape[1] - size + 1))
            lr_batch[i] = pair.lr[top : top + size, left : left + size]
            hr_batch[i] = pair.hr[top * s : (top + size) * s, left * s : (left + size) * s]
            rotations[i] = int(self.rng.integers(0, 4))
            flips[i] = bool(self.rng.integers(0, 2))
        return PatchCrops(lr_batch, hr_batch, rotations, flips)

    def state(self) -> dict[str, Any]:
        """The generator's state, saved in checkpoints so ``--resume`` continues exactly."""
        return dict(self.rng.bit_generator.state)

    def set_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state
