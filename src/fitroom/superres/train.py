"""Training of SR networks on random patches: L1 (or L2) loss, Adam, warm-up + cosine.

Deterministic for a given ``seed`` and step count on a CPU (one seeded patch sampler,
seeded torch, deterministic kernels). The learning rate is a function of the step only,
so a run resumed from a checkpoint follows the same curve as an uninterrupted one.
``max_minutes`` is a wall-clock guard: the run stops and saves when it is reached,
even before ``steps`` (the result then depends on machine speed, and says so).

On a lent GPU (``device="cuda"``) runs are for speed and are not reproducible step
for step: cuDNN picks its fastest kernels, patches are cut by a background thread so
the GPU does not wait for numpy, and ``schedule_minutes`` can make the learning-rate
schedule span a wall-clock budget instead of a step count, since the step rate is not
known in advance (the steps done are recorded). ``teacher_from`` distils from a
stronger network (:mod:`fitroom.compress.distill` explains the loss).
"""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fitroom.errors import InputError
from fitroom.superres.data import (
    ImagePair,
    PatchCrops,
    PatchSampler,
    check_sample_by,
    list_images,
    make_pairs,
    sampled_pairs,
)
from fitroom.superres.infer import ENSEMBLE_CODES, check_ensemble
from fitroom.superres.metrics import psnr_y
from fitroom.superres.models import ResidualBlock, build_model, count_parameters


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved into checkpoints and config.json)."""

    model: str
    scale: int
    data_dirs: list[str]
    out_dir: str
    steps: int = 20_000
    batch_size: int = 16
    lr_patch_px: int = 48
    learning_rate: float = 1e-3
    final_lr_fraction: float = 0.01
    warmup_steps: int = 200
    seed: int = 0
    threads: int = 1
    holdout_images: int = 5
    validate_every_steps: int = 500
    checkpoint_every_minutes: float = 3.0
    max_minutes: float | None = None
    init_from: str | None = None
    hyper_parameters: dict[str, Any] = field(default_factory=dict)
    loss: str = "l1"
    device: str = "cpu"
    schedule_minutes: float | None = None
    teacher_model: str | None = None
    teacher_hyper_parameters: dict[str, Any] = field(default_factory=dict)
    teacher_from: str | None = None
    teacher_weight: float = 0.5
    #: ``numpy`` cuts patches on the CPU (:class:`PatchSampler`, reproducible step for
    #: step); ``tensor`` on the training device (:class:`TensorPatchSampler`); ``auto``
    #: picks ``tensor`` on a GPU and ``numpy`` on the CPU.
    patch_sampler: str = "auto"
    #: ``area`` or ``image``: how images are drawn for patches (``data.SAMPLE_BY``).
    sample_by: str = "area"
    #: The teacher's output averaged over this many flipped/turned copies of each batch
    #: (1, 2, 4 or 8, the sets of ``infer.ENSEMBLE_CODES``): a net can be taught its
    #: own self-ensemble, which scores above its single pass (see the README).
    teacher_ensemble: int = 1


@dataclass
class TrainProgress:
    """One report to the caller's progress display."""

    step: int
    steps: int
    loss: float
    learning_rate: float
    elapsed_minutes: float
    val_psnr_db: float | None


@dataclass
class TrainResult:
    """Where the weights are and how the run went."""

    weights_path: Path
    config_path: Path
    steps_done: int
    minutes: float
    val_psnr_db: float
    stopped_by_deadline: bool
    history: list[dict[str, float]]
    #: Training images smaller than one patch at full size: never sampled.
    images_too_small: int = 0


def learning_rate_at(step: int, config: TrainConfig, elapsed_minutes: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to ``final_lr_fraction`` of the peak at ``steps``.

    With ``schedule_minutes`` the decay spans that wall-clock budget instead (the
    warm-up still counts steps).
    """
    peak = config.learning_rate
    if step < config.warmup_steps:
        return peak * (step + 1) / config.warmup_steps
    if config.schedule_minutes is not None:
        progress = min(1.0, elapsed_minutes / config.schedule_minutes)
    else:
        progress = min(
            1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        )
    floor = peak * config.final_lr_fraction
    return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


#: Training losses. ``l1``/``l2`` on RGB; the ``-luma`` forms on BT.601 YCbCr with the
#: chroma planes at :data:`CHROMA_WEIGHT`: PSNR and the eye both weigh luma, and the
#: SR literature (SRCNN, FSRCNN, VDSR) trains on Y alone; colour keeps a weight here
#: because product photos are shown in colour.
LOSSES = ("l1", "l2", "l1-luma", "l2-luma")
CHROMA_WEIGHT = 0.25
#: RGB [0, 1] -> (Y, Cb, Cr) offsets removed (they cancel in a difference), BT.601.
_YCBCR = (
    torch.tensor(
        [
            [65.481, 128.553, 24.966],
            [-37.797, -74.203, 112.0],
            [112.0, -93.786, -18.214],
        ]
    )
    / 255.0
)


def make_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The training loss ``name`` (one of :data:`LOSSES`) as ``loss(prediction, target)``."""
    if name not in LOSSES:
        raise InputError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    distance = (
        nn.L1Loss(reduction="none") if name.startswith("l1") else nn.MSELoss(reduction="none")
    )
    if not name.endswith("-luma"):

        def plain(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            value: torch.Tensor = distance(prediction, target).mean()
            return value

        return plain
    weights = torch.tensor([1.0, CHROMA_WEIGHT, CHROMA_WEIGHT]).view(1, 3, 1, 1)

    def luma_weighted(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        to_ycbcr, plane_weights = _YCBCR.to(prediction.device), weights.to(prediction.device)
        difference = torch.einsum("kc,nchw->nkhw", to_ycbcr, prediction - target)
        per_plane: torch.Tensor = distance(difference, torch.zeros_like(difference))
        value: torch.Tensor = (per_plane * plane_weights).sum(dim=1).mean() / float(
            plane_weights.sum()
        )
        return value

    return luma_weighted


def split_holdout(paths: list[Path], holdout: int) -> tuple[list[Path], list[Path]]:
    """Hold out ``holdout`` images, evenly spaced over all training images, to validate on.

    Validation never looks at the test set (Set5 is scored only at the end).
    """
    if holdout <= 0:
        return paths, []
    stride = max(1, len(paths) // holdout)
    held = paths[stride // 2 :: stride][:holdout]
    return [p for p in paths if p not in held], held


@torch.no_grad()
def validate(model: nn.Module, pairs: list[ImagePair], scale: int) -> float:
    """Mean PSNR (Y, border of ``scale`` shaved) of the model on whole validation images."""
    model.eval()
    device = next(model.parameters()).device
    scores = []
    for pair in pairs:
        lr = torch.from_numpy(pair.lr.transpose(2, 0, 1).copy()).float()[None] / 255.0
        sr = model(lr.to(device)).clamp(0.0, 1.0)[0].permute(1, 2, 0).cpu().numpy()
        sr_u8 = np.round(sr * 255.0).astype(np.uint8)
        scores.append(psnr_y(sr_u8, pair.hr, shave_px=scale))
    model.train()
    return float(np.mean(scores)) if scores else float("nan")


def _save_atomic(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


def _load_matching(model: nn.Module, path: Path) -> int:
    """Copy every tensor of a checkpoint whose name and shape match; return the count.

    Growing a trained net: residual blocks the checkpoint does not have (a FitSR with
    more ``blocks`` than the one saved) start as the identity (their second conv is
    zero), so the grown net computes exactly what the loaded one did and training
    continues from there instead of from a random perturbation (Net2Net's
    function-preserving deepening).
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    state = checkpoint.get("model", checkpoint)
    own = model.state_dict()
    matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    own.update(matched)
    model.load_state_dict(own)
    for name, module in model.named_modules():
        if isinstance(module, ResidualBlock) and f"{name}.conv1.weight" not in matched:
            nn.init.zeros_(module.conv2.weight)
            if module.conv2.bias is not None:
                nn.init.zeros_(module.conv2.bias)
    return len(matched)


def _check_config(config: TrainConfig) -> torch.device:
    """Refuse settings that cannot work, before any data is loaded; return the device."""
    if config.schedule_minutes is not None and config.schedule_minutes <= 0:
        raise InputError(f"schedule_minutes must be positive; got {config.schedule_minutes}")
    if not 0.0 <= config.teacher_weight <= 1.0:
        raise InputError(f"teacher_weight must be in [0, 1]; got {config.teacher_weight}")
    if config.patch_sampler not in ("auto", "numpy", "tensor"):
        raise InputError(
            f"patch_sampler must be auto, numpy or tensor; got {config.patch_sampler!r}"
        )
    if (config.teacher_from is None) != (config.teacher_model is None):
        raise InputError("a teacher needs both its model name and its weights (teacher_from)")
    check_ensemble(config.teacher_ensemble)
    if config.teacher_ensemble > 1 and config.teacher_from is None:
        raise InputError("teacher_ensemble needs a teacher (teacher_from)")
    check_sample_by(config.sample_by)
    try:
        device = torch.device(config.device)
    except RuntimeError as error:
        raise InputError(f"unknown device {config.device!r}: {error}") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {config.device!r} asked for, but torch sees no CUDA GPU")
    return device


def _batches(sampler: PatchSampler, batch_size: int, prefetch: bool) -> Iterator[PatchCrops]:
    """Endless batches of crops; with ``prefetch`` a daemon thread prepares them ahead.

    The thread is the only consumer of the sampler's generator, so the batches come
    in the same order either way (a checkpoint's sampler state is then a few batches
    ahead of the step it was saved at).
    """
    if not prefetch:
        while True:
            yield sampler.sample_crops(batch_size)
    ready: queue.Queue[PatchCrops] = queue.Queue(8)

    def produce() -> None:
        while True:
            ready.put(sampler.sample_crops(batch_size))

    threading.Thread(target=produce, daemon=True, name="sr-patches").start()
    while True:
        yield ready.get()


def crops_to_tensors(crops: PatchCrops, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(lr, hr) float N x 3 x h x w in [0, 1] on ``device``, each crop flipped/rotated.

    Equal to :meth:`PatchSampler.sample` for the same crops; the uint8 crops travel to
    the device and are transformed there, a few batched ops instead of a strided copy
    per patch.
    """
    out = []
    for images in (crops.lr, crops.hr):
        batch = torch.from_numpy(images).to(device, non_blocking=True).permute(0, 3, 1, 2)
        batch = batch.float().div_(255.0)
        transformed = batch.clone()
        for rotations, flip, members in crops.groups():
            index = torch.from_numpy(members).to(device)
            group = torch.rot90(batch[index], rotations, dims=(2, 3))
            transformed[index] = group.flip(3) if flip else group
        out.append(transformed.contiguous())
    return out[0], out[1]


class TensorPatchSampler:
    """Random aligned LR/HR patches cut and transformed on the training device.

    The numpy :class:`~fitroom.superres.data.PatchSampler` cuts one patch at a time in
    Python; on a GPU that, not the network, set the pace (about 37 steps a second in
    the first H200 round). Here every training image waits on the device, zero-padded
    into one uint8 tensor, and a batch is one gather: images drawn with probability
    proportional to their area (as the numpy sampler does), a random top-left corner
    inside each image, and one of the eight flips/rotations per patch (transpose,
    then up-down and left-right mirrors). All randomness comes from one seeded
    ``torch.Generator`` on the device, whose state checkpoints save. ``sample_by="image"``
    draws every image equally often instead.
    """

    def __init__(
        self,
        pairs: list[ImagePair],
        scale: int,
        lr_patch_px: int,
        seed: int,
        device: torch.device,
        sample_by: str = "area",
    ) -> None:
        kept, lr_sizes, probabilities = sampled_pairs(pairs, scale, lr_patch_px, sample_by)
        height, width = (int(v) for v in lr_sizes.max(axis=0))
        lr_all = np.zeros((len(kept), height, width, 3), dtype=np.uint8)
        hr_all = np.zeros((len(kept), height * scale, width * scale, 3), dtype=np.uint8)
        for i, pair in enumerate(kept):
            h, w = pair.lr.shape[:2]
            lr_all[i, :h, :w] = pair.lr
            hr_all[i, : h * scale, : w * scale] = pair.hr[: h * scale, : w * scale]
        self.device = device
        self.scale = scale
        self.lr_patch_px = lr_patch_px
        self.image_count = len(kept)
        self.lr = torch.from_numpy(lr_all).to(device)
        self.hr = torch.from_numpy(hr_all).to(device)
        sizes = torch.from_numpy(lr_sizes).to(device)
        self.corner_range = (sizes - lr_patch_px + 1).to(torch.float64)  # top/left choices
        self.probabilities = torch.from_numpy(probabilities).to(device)
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed)
        self.lr_offsets = torch.arange(lr_patch_px, device=device)
        self.hr_offsets = torch.arange(lr_patch_px * scale, device=device)

    def sample_indices(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(image index, LR top-left corner as N x 2, transform code 0-7) of a batch."""
        g = self.generator
        images = torch.multinomial(self.probabilities, batch_size, replacement=True, generator=g)
        unit = torch.rand(batch_size, 2, generator=g, device=self.device, dtype=torch.float64)
        corners = (unit * self.corner_range[images]).floor().long()
        transforms = torch.randint(0, 8, (batch_size,), generator=g, device=self.device)
        return images, corners, transforms

    def sample(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch as float N x 3 x h x w in [0, 1] on the device: (lr, hr)."""
        images, corners, transforms = self.sample_indices(batch_size)
        s = self.scale
        lr = self._cut(self.lr, images, corners, self.lr_offsets)
        hr = self._cut(self.hr, images, corners * s, self.hr_offsets)
        return apply_dihedral(lr, transforms), apply_dihedral(hr, transforms)

    @staticmethod
    def _cut(
        stack: torch.Tensor, images: torch.Tensor, corners: torch.Tensor, offsets: torch.Tensor
    ) -> torch.Tensor:
        rows = corners[:, 0, None] + offsets[None, :]
        cols = corners[:, 1, None] + offsets[None, :]
        patches = stack[images[:, None, None], rows[:, :, None], cols[:, None, :]]
        return patches.permute(0, 3, 1, 2).float().div_(255.0)

    def state(self) -> dict[str, Any]:
        return {"torch_generator": self.generator.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["torch_generator"])


def _device_batches(
    sampler: PatchSampler | TensorPatchSampler, batch_size: int, device: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (lr, hr) float batches on ``device`` from either sampler (the numpy one's
    crops are prepared ahead by a thread when the device is not the CPU)."""
    if isinstance(sampler, TensorPatchSampler):
        while True:
            yield sampler.sample(batch_size)
    for crops in _batches(sampler, batch_size, prefetch=device.type != "cpu"):
        yield crops_to_tensors(crops, device)


def apply_dihedral(batch: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
    """Each square patch of N x C x h x h through its own of the 8 flips/rotations.

    Bit 0 of ``transforms[i]`` transposes patch ``i``, bit 1 mirrors it up-down, bit 2
    left-right; the eight combinations are the dihedral group of the square.
    """
    shape = (-1, 1, 1, 1)
    out = torch.where((transforms & 1).bool().view(shape), batch.transpose(2, 3), batch)
    out = torch.where((transforms & 2).bool().view(shape), out.flip(2), out)
    return torch.where((transforms & 4).bool().view(shape), out.flip(3), out).contiguous()


def dihedral_mean(model: nn.Module, batch: torch.Tensor, passes: int) -> torch.Tensor:
    """``model``'s output averaged over ``passes`` flipped/turned copies of ``batch``.

    The torch twin of :func:`fitroom.superres.infer.ensemble_predict` for training (same
    codes: bit 4 transposes, bit 1 mirrors left-right, bit 2 up-down); each copy's
    output is turned back before averaging. Transposing needs square patches unless the
    set has no transpose (1, 2 or 4 passes).
    """
    if passes == 1:
        plain: torch.Tensor = model(batch)
        return plain
    layout = torch.channels_last if batch.is_cuda else torch.contiguous_format
    total: torch.Tensor | None = None
    for code in ENSEMBLE_CODES[passes]:
        turned = batch.transpose(2, 3) if code & 4 else batch
        dims = [d for bit, d in ((1, 3), (2, 2)) if code & bit]
        turned = turned.flip(dims) if dims else turned
        out = model(turned.contiguous(memory_format=layout))
        out = out.flip(dims) if dims else out
        out = out.transpose(2, 3) if code & 4 else out
        total = out if total is None else total + out
    assert total is not None
    return total / len(ENSEMBLE_CODES[passes])


#: Steps between reads of the running loss on a GPU (each read waits for the GPU).
LOSS_READ_EVERY = 50


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().cpu() for name, value in model.state_dict().items()}


def train(
    config: TrainConfig,
    resume: bool = False,
    on_progress: Callable[[TrainProgress], None] | None = None,
) -> TrainResult:
    """Train ``config.model`` and write ``model.pt`` + ``config.json`` into ``out_dir``.

    Checkpoints (``last.pt``) are written every ``checkpoint_every_minutes`` and at the
    end; with ``resume`` the run continues from ``last.pt`` in ``out_dir``.
    """
    started = time.monotonic()
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out_dir / "last.pt"
    device = _check_config(config)
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    if device.type == "cuda":
        # A GPU run is for speed: cuDNN may pick its fastest (non-deterministic)
        # convolution kernels. The first H200 round, with deterministic kernels forced,
        # ran only about 37 steps a second with a 0.17 M-parameter net.
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.benchmark = True
    else:
        torch.use_deterministic_algorithms(True)

    paths: list[Path] = []
    for folder in config.data_dirs:
        paths.extend(list_images(Path(folder)))
    train_paths, val_paths = split_holdout(paths, config.holdout_images)
    on_device = config.patch_sampler == "tensor" or (
        config.patch_sampler == "auto" and device.type != "cpu"
    )
    train_pairs = make_pairs(train_paths, config.scale)
    sampler: PatchSampler | TensorPatchSampler = (
        TensorPatchSampler(
            train_pairs, config.scale, config.lr_patch_px, config.seed, device, config.sample_by
        )
        if on_device
        else PatchSampler(
            train_pairs, config.scale, config.lr_patch_px, config.seed, config.sample_by
        )
    )
    # Images under one patch at full size are skipped by both samplers; with 48 px
    # patches at x4 that was 51 of T91's 91 images, and every run got worse for it.
    too_small = len(train_pairs) - sampler.image_count
    val_pairs = make_pairs(val_paths, config.scale)

    model = build_model(config.model, config.scale, **config.hyper_parameters)
    if count_parameters(model) == 0:
        raise InputError(f"model {config.model!r} has nothing to train")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    step = 0
    prior_minutes = 0.0
    history: list[dict[str, float]] = []
    if resume and checkpoint_path.exists():
        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        sampler.set_state(checkpoint["sampler"])
        torch.set_rng_state(checkpoint["torch_rng"])
        step = int(checkpoint["step"])
        prior_minutes = float(checkpoint["minutes"])
        history = list(checkpoint["history"])
    elif resume:
        raise InputError(f"--resume: no checkpoint at {checkpoint_path}")
    elif config.init_from:
        _load_matching(model, Path(config.init_from))
    model.to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    for state in optimizer.state.values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and key != "step":
                state[key] = value.to(device)
    teacher: nn.Module | None = None
    if config.teacher_model is not None and config.teacher_from is not None:
        teacher = build_model(config.teacher_model, config.scale, **config.teacher_hyper_parameters)
        loaded = torch.load(config.teacher_from, map_location="cpu", weights_only=True)
        teacher.load_state_dict(loaded.get("model", loaded))
        teacher.to(device).eval()
        for parameter in teacher.parameters():
            parameter.requires_grad_(False)

    def minutes_now() -> float:
        return prior_minutes + (time.monotonic() - started) / 60.0

    def save_checkpoint() -> None:
        _save_atomic(
            {
                "model": _cpu_state(model),
                "optimizer": optimizer.state_dict(),
                "sampler": sampler.state(),
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "minutes": minutes_now(),
                "history": history,
                "config": asdict(config),
            },
            checkpoint_path,
        )

    loss_fn = make_loss(config.loss)
    batches = _device_batches(sampler, config.batch_size, device)
    # On a GPU, reading the loss every step would stall the queue of kernels: the
    # running loss is kept on the device and read every ``LOSS_READ_EVERY`` steps.
    read_every = 1 if device.type == "cpu" else LOSS_READ_EVERY
    running_on_device: torch.Tensor | None = None
    model.train()
    last_checkpoint = time.monotonic()
    running_loss = 0.0
    val_psnr = history[-1]["val_psnr_db"] if history else float("nan")
    stopped_by_deadline = False
    while step < config.steps:
        if config.max_minutes is not None and (time.monotonic() - started) / 60.0 >= (
            config.max_minutes
        ):
            stopped_by_deadline = True
            break
        if config.schedule_minutes is not None and minutes_now() >= config.schedule_minutes:
            break
        lr_now = learning_rate_at(step, config, minutes_now())
        for group in optimizer.param_groups:
            group["lr"] = lr_now
        lr_batch, hr_batch = next(batches)
        if device.type == "cuda":
            lr_batch = lr_batch.contiguous(memory_format=torch.channels_last)
        prediction = model(lr_batch)
        loss = loss_fn(prediction, hr_batch)
        if teacher is not None and config.teacher_weight > 0.0:
            with torch.no_grad():
                taught = dihedral_mean(teacher, lr_batch, config.teacher_ensemble)
            loss = (1.0 - config.teacher_weight) * loss + config.teacher_weight * loss_fn(
                prediction, taught
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        step += 1
        validating = step % config.validate_every_steps == 0 or step == config.steps
        if read_every == 1:
            running_loss = 0.98 * running_loss + 0.02 * loss.item() if step > 1 else loss.item()
        else:
            detached = loss.detach()
            running_on_device = (
                detached
                if running_on_device is None
                else 0.98 * running_on_device + 0.02 * detached
            )
            if validating or step % read_every == 0:
                running_loss = float(running_on_device.item())
        reported_val: float | None = None
        if validating:
            val_psnr = validate(model, val_pairs, config.scale)
            reported_val = val_psnr
            history.append(
                {
                    "step": float(step),
                    "minutes": minutes_now(),
                    "loss": running_loss,
                    "val_psnr_db": val_psnr,
                }
            )
        if time.monotonic() - last_checkpoint >= config.checkpoint_every_minutes * 60.0:
            save_checkpoint()
            last_checkpoint = time.monotonic()
        if on_progress is not None:
            on_progress(
                TrainProgress(step, config.steps, running_loss, lr_now, minutes_now(), reported_val)
            )

    if running_on_device is not None:
        running_loss = float(running_on_device.item())
    if not history or history[-1]["step"] != step:
        val_psnr = validate(model, val_pairs, config.scale)
        history.append(
            {
                "step": float(step),
                "minutes": minutes_now(),
                "loss": running_loss,
                "val_psnr_db": val_psnr,
            }
        )
    save_checkpoint()
    weights_path = out_dir / "model.pt"
    _save_atomic(_cpu_state(model), weights_path)
    config_path = out_dir / "config.json"
    config_path.write_text(
        json.dumps(
            {
                "model": config.model,
                "scale": config.scale,
                "hyper_parameters": config.hyper_parameters,
                "parameters": count_parameters(model),
                "training": {
                    **asdict(config),
                    "steps_done": step,
                    "minutes": round(minutes_now(), 2),
                    "stopped_by_deadline": stopped_by_deadline,
                    "train_images": len(train_paths),
                    "images_too_small_for_patch": too_small,
                    "holdout_images_used": [p.name for p in val_paths],
                    "final_val_psnr_db": val_psnr,
                },
            },
            indent=2,
        )
    )
    return TrainResult(
        weights_path,
        config_path,
        step,
        minutes_now(),
        val_psnr,
        stopped_by_deadline,
        history,
        too_small,
    )
