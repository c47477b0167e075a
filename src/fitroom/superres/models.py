"""Super-resolution networks: bicubic baseline, ESPCN, FSRCNN and FitSR.

Every model maps an N x 3 x H x W RGB tensor in [0, 1] to N x 3 x sH x sW (not
clamped; callers clamp). They are plain ``nn.Module``s with no data-dependent control
flow, so they export to ONNX (opset 17) as one static graph and quantize to INT8.

``receptive_radius_px`` is how many input pixels on each side can influence an output
pixel; tiled inference uses it as the tile overlap, which makes tiled output equal to
whole-image output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from fitroom.errors import InputError

SCALES = (2, 3, 4)


def bicubic_phase_kernels(scale: int) -> Tensor:
    """The 5 x 5 filters of MATLAB bicubic *upscaling* by an integer ``scale``.

    Upscaling by an integer factor is a polyphase filter: output pixel ``(s*h+i,
    s*w+j)`` is a fixed 4-tap-per-axis (Keys, a = -0.5) weighting of the input around
    ``(h, w)``. With output coordinate ``u = x/s + (1 - 1/s)/2`` (MATLAB ``imresize.m``)
    the sub-pixel offset of phase ``p`` is ``(p + 0.5)/s - 0.5``. Returns a
    ``(s*s, 1, 5, 5)`` tensor in pixel-shuffle channel order.
    """
    from fitroom.superres.data import cubic_kernel

    taps = np.arange(-2, 3, dtype=np.float64)
    phases = []
    for p in range(scale):
        offset = (p + 0.5) / scale - 0.5
        weights = cubic_kernel(offset - taps)
        phases.append(weights / weights.sum())
    kernels = [np.outer(phases[i], phases[j]) for i in range(scale) for j in range(scale)]
    return torch.from_numpy(np.stack(kernels)[:, None].astype(np.float32))


def symmetric_pad(x: Tensor, pad_px: int) -> Tensor:
    """Mirror-pad H and W by ``pad_px``, repeating the edge pixel (MATLAB 'symmetric').

    Built from slices and concatenation so it exports to ONNX for any input size.
    """
    if pad_px == 0:
        return x
    top = torch.flip(x[:, :, :pad_px], dims=[2])
    bottom = torch.flip(x[:, :, -pad_px:], dims=[2])
    x = torch.cat([top, x, bottom], dim=2)
    left = torch.flip(x[:, :, :, :pad_px], dims=[3])
    right = torch.flip(x[:, :, :, -pad_px:], dims=[3])
    return torch.cat([left, x, right], dim=3)


class BicubicPhases(nn.Module):
    """MATLAB bicubic upscaling *before* the pixel shuffle: N x C*s*s x H x W.

    Kept separate so residual networks can add their learned phases to it and do one
    shuffle at the end (the global bicubic skip of VDSR, at low resolution).

    One dense convolution with block-diagonal weights (output channel ``c*s*s + p``
    reads only input channel ``c``) rather than a grouped one: the same numbers, but
    ONNX Runtime's INT8 convolution runs the grouped form about 4x slower (10 of the
    48 ms of a FitSR x4 pass on 256 x 256, measured with its profiler).
    """

    def __init__(self, scale: int, channels: int = 3) -> None:
        super().__init__()
        self.scale = scale
        self.channels = channels
        phase_kernels = bicubic_phase_kernels(scale)
        phases = scale * scale
        kernels = torch.zeros(channels * phases, channels, 5, 5)
        for channel in range(channels):
            kernels[channel * phases : (channel + 1) * phases, channel] = phase_kernels[:, 0]
        self.register_buffer("kernels", kernels, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        kernels: Tensor = self.kernels  # type: ignore[assignment]
        return F.conv2d(symmetric_pad(x, 2), kernels)


class Bicubic(nn.Module):
    """Baseline: MATLAB ``imresize(x, s, 'bicubic')`` for integer s, as a fixed net."""

    receptive_radius_px = 2

    def __init__(self, scale: int, channels: int = 3) -> None:
        super().__init__()
        self.scale = scale
        self.phases = BicubicPhases(scale, channels)

    def sub_pixel_phases(self, x: Tensor) -> Tensor:
        phases: Tensor = self.phases(x)
        return phases

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_shuffle(self.sub_pixel_phases(x), self.scale)


class ESPCN(nn.Module):
    """ESPCN (Shi et al., CVPR 2016): two tanh conv layers and a sub-pixel conv.

    The paper works on Y only; here on RGB, like the other models, so one network
    serves colour product images.
    """

    def __init__(self, scale: int, features: int = 64) -> None:
        super().__init__()
        self.scale = scale
        self.body = nn.Sequential(
            nn.Conv2d(3, features, 5, padding=2),
            nn.Tanh(),
            nn.Conv2d(features, features // 2, 3, padding=1),
            nn.Tanh(),
            nn.Conv2d(features // 2, 3 * scale * scale, 3, padding=1),
        )
        self.receptive_radius_px = 4

    def sub_pixel_phases(self, x: Tensor) -> Tensor:
        phases: Tensor = self.body(x)
        return phases

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_shuffle(self.sub_pixel_phases(x), self.scale)


class FSRCNN(nn.Module):
    """FSRCNN (Dong et al., ECCV 2016), FSRCNN(d=56, s=12, m=4) on RGB.

    Feature extraction, shrinking, m mapping layers, expanding, and a 9 x 9
    transposed convolution with stride = scale (output exactly s times the input).
    """

    def __init__(self, scale: int, d: int = 56, s: int = 12, m: int = 4) -> None:
        super().__init__()
        self.scale = scale
        layers: list[nn.Module] = [nn.Conv2d(3, d, 5, padding=2), nn.PReLU(d)]
        layers += [nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            layers += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        layers += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
        self.body = nn.Sequential(*layers)
        self.deconv = nn.ConvTranspose2d(d, 3, 9, stride=scale, padding=4, output_padding=scale - 1)
        self.receptive_radius_px = 2 + m + 5

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.deconv(self.body(x))
        return out


class ResidualBlock(nn.Module):
    """EDSR block: conv-ReLU-conv with an identity skip and no batch norm."""

    def __init__(self, features: int, res_scale: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1)
        self.conv2 = nn.Conv2d(features, features, 3, padding=1)
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        residual: Tensor = self.conv2(F.relu(self.conv1(x)))
        return x + residual * self.res_scale


class FitSR(nn.Module):
    """fitroom's compact residual SR net (EDSR-baseline, shrunk for a CPU).

    Head conv, ``blocks`` EDSR residual blocks of ``features`` channels, a conv with a
    long skip, then a conv to ``3*s*s`` sub-pixel phases that are *added to the
    bicubic phases* of the input before one pixel shuffle: the net only learns the
    detail bicubic misses (VDSR's global residual), which trains fast and keeps the
    whole computation at low resolution. 8 x 32: about 0.17 M parameters.
    """

    def __init__(
        self, scale: int, blocks: int = 8, features: int = 32, res_scale: float = 1.0
    ) -> None:
        super().__init__()
        self.scale = scale
        self.head = nn.Conv2d(3, features, 3, padding=1)
        self.body = nn.Sequential(*(ResidualBlock(features, res_scale) for _ in range(blocks)))
        self.body_tail = nn.Conv2d(features, features, 3, padding=1)
        self.tail = nn.Conv2d(features, 3 * scale * scale, 3, padding=1)
        self.bicubic = BicubicPhases(scale)
        self.receptive_radius_px = 2 * blocks + 3

    def sub_pixel_phases(self, x: Tensor) -> Tensor:
        features: Tensor = self.head(x - 0.5)
        features = self.body_tail(self.body(features)) + features
        phases: Tensor = self.tail(features) + self.bicubic(x)
        return phases

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_shuffle(self.sub_pixel_phases(x), self.scale)


class SubPixelOutput(nn.Module):
    """A model's output *before* its pixel shuffle: N x 3*s*s x H x W (serving form).

    The shuffle is a pure reordering; done by the graph on float data it costs more
    (4 ms of a 48 ms x4 pass) than done by the caller on the final 8-bit pixels, so
    the exported serving graphs stop here and :func:`fitroom.superres.infer.
    output_to_uint8_hwc` interleaves. Channel ``c*s*s + i*s + j`` is output pixel
    ``(s*y + i, s*x + j)`` of colour ``c`` (``torch.nn.functional.pixel_shuffle``).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.scale = int(getattr(model, "scale"))  # noqa: B009
        self.receptive_radius_px = receptive_radius_px(model)

    def forward(self, x: Tensor) -> Tensor:
        sub_pixel_phases: Callable[[Tensor], Tensor] = self.model.sub_pixel_phases  # type: ignore[assignment]
        return sub_pixel_phases(x)


def serving_form(model: nn.Module) -> nn.Module:
    """The graph to deploy: sub-pixel phases where the model has them, else the image."""
    if callable(getattr(model, "sub_pixel_phases", None)):
        return SubPixelOutput(model).eval()
    return model


ModelFactory = Callable[..., nn.Module]

#: Model name -> constructor taking ``scale`` and the architecture's hyper-parameters.
MODELS: dict[str, ModelFactory] = {
    "bicubic": Bicubic,
    "espcn": ESPCN,
    "fsrcnn": FSRCNN,
    "fitsr": FitSR,
}


def build_model(name: str, scale: int, **hyper_parameters: Any) -> nn.Module:
    """A fresh (randomly initialised) model by registry name."""
    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; choose one of {', '.join(sorted(MODELS))}")
    if scale not in SCALES:
        raise InputError(f"scale must be one of {SCALES}; got {scale}")
    return MODELS[name](scale, **hyper_parameters)


def receptive_radius_px(model: nn.Module) -> int:
    """Input pixels each side that influence one output pixel (tile overlap)."""
    return int(getattr(model, "receptive_radius_px", 16))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
