"""Known fitroom models as compression targets: how to load each, feed it, and score it.

The compression library (export, quantize, prune, report) knows nothing about any
domain. This adapter does: for each model fitroom ships it says how to build it with
its weights, its inputs (shape and dynamic axes), which data calibrates INT8, which data
evaluates it and with which metric, and what to fine-tune a pruned copy on.

Targets:

- ``superres/<name>``: the super-resolution models shipped under
  ``models_dir/superres/<name>/`` (``model.pt`` + ``config.json`` written by
  ``fitroom.superres.train``), scored by Set5 Y-PSNR and calibrated on T91
  low-resolution images, both under the data folder (``FITROOM_DATA_DIR``, default
  ``../shared/data``). Defined here.
- ``body_measure/<variant>``: the shipped measurement MLPs, scored by the test-set
  MAE in cm (lower is better); ``body_target.py``.
- ``recsys/sasrec``: the SASRec network of a saved recommender (the served one), scored
  by leave-last-out NDCG@10 on the shopper histories it was fitted on;
  ``recsys_target.py``. Listed only when such a recommender exists.

Domain modules are imported lazily, so a missing domain only affects its own targets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor, nn

from fitroom.compress.export import InputSpec
from fitroom.compress.metrics import Feeds, Predictor, QualityFn
from fitroom.errors import InputError, ModelError

#: Name of the single input of image models in exported ONNX files.
IMAGE_INPUT = "input"
#: Prefix of super-resolution target names: ``superres/<folder>`` (e.g. superres/fitsr_x4).
SUPERRES_PREFIX = "superres/"
#: LR size of the calibration crops and of the latency input (Set5-like, px).
SUPERRES_LATENCY_LR_PX = (64, 64)


@dataclass(frozen=True)
class ShippedModel:
    """A model folder in ``models_dir`` (weights + config.json)."""

    name: str
    architecture: str
    scale: int
    path: Path
    config: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class CompressionTarget:
    """Everything the compression chain needs to know about one model.

    ``calibration(folder)`` returns INT8 calibration feeds (from ``folder`` when given,
    else the target's default set); ``quality()`` returns the task metric as a
    :data:`QualityFn`, higher better unless ``higher_is_better`` is False (an error);
    ``fine_tune_batches()`` yields (input, truth) tensors for the short fine-tuning
    after pruning (None: the model is not pruned); ``latency_feeds`` is the fixed input
    timed. ``equivalence_tolerance`` bounds |torch - ONNX FP32| in the output's unit,
    plus ``equivalence_relative_tolerance`` times |torch| for outputs that can be large;
    ``definition`` says exactly what ``metric`` measures (it opens the report's notes).
    """

    name: str
    metric: str
    load_model: Callable[[], nn.Module]
    inputs: tuple[InputSpec, ...]
    calibration: Callable[[Path | None], list[Feeds]]
    quality: Callable[[], QualityFn]
    real_feeds: Callable[[], list[Feeds]]
    latency_feeds: Callable[[], Feeds]
    fine_tune_batches: Callable[[], Iterator[tuple[Tensor, Tensor]]] | None = None
    higher_is_better: bool = True
    equivalence_tolerance: float = 1e-4
    equivalence_relative_tolerance: float = 0.0
    definition: str = ""


def superres_models_dir() -> Path:
    """``src/fitroom/models_dir/superres`` (may not exist before models are shipped)."""
    return Path(str(resources.files("fitroom") / "models_dir" / "superres"))


def find_shipped_superres(models_dir: Path | None = None) -> list[ShippedModel]:
    """Shipped SR model folders (those with both ``config.json`` and ``model.pt``)."""
    root = models_dir or superres_models_dir()
    found: list[ShippedModel] = []
    if not root.is_dir():
        return found
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        config_path, weights = folder / "config.json", folder / "model.pt"
        if not (config_path.is_file() and weights.is_file()):
            continue
        try:
            config = json.loads(config_path.read_text())
            found.append(
                ShippedModel(
                    name=f"{SUPERRES_PREFIX}{folder.name}",
                    architecture=str(config["model"]),
                    scale=int(config["scale"]),
                    path=folder,
                    config=config,
                )
            )
        except (ValueError, KeyError) as exc:
            raise ModelError(
                f"{config_path} is not a valid SR model config: {exc}", path=str(config_path)
            ) from exc
    return found


def load_shipped_superres(model: ShippedModel) -> nn.Module:
    """Build the architecture named in config.json and load ``model.pt`` (CPU, eval)."""
    from fitroom.superres.models import build_model

    network = build_model(
        model.architecture, model.scale, **model.config.get("hyper_parameters", {})
    )
    state = torch.load(model.path / "model.pt", map_location="cpu", weights_only=True)
    try:
        network.load_state_dict(state.get("model", state))
    except RuntimeError as exc:
        raise ModelError(
            f"{model.path / 'model.pt'} does not match its config.json: {exc}",
            path=str(model.path),
        ) from exc
    network.eval()
    return network


def _to_feed(image_u8: npt.NDArray[np.uint8]) -> Feeds:
    """H x W x 3 uint8 -> {"input": 1 x 3 x H x W float32 in [0, 1]}."""
    array = image_u8.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return {IMAGE_INPUT: np.ascontiguousarray(array)}


@dataclass(frozen=True)
class SuperResolutionEval:
    """Set5-style evaluation: LR by MATLAB bicubic, SR clamped to 8 bits, Y-PSNR.

    The protocol of the SR literature (and of ``fitroom.superres.train.validate``):
    mean over images of the PSNR on Y (BT.601) with ``scale`` border pixels shaved.
    """

    scale: int
    hr_images: tuple[npt.NDArray[np.uint8], ...]
    lr_images: tuple[npt.NDArray[np.uint8], ...]

    @classmethod
    def from_folder(cls, folder: Path, scale: int) -> SuperResolutionEval:
        from fitroom.superres.data import list_images, make_pairs

        pairs = make_pairs(list_images(folder), scale)
        return cls(scale, tuple(p.hr for p in pairs), tuple(p.lr for p in pairs))

    @classmethod
    def set5(cls, data_dir: Path, scale: int) -> SuperResolutionEval:
        folder = data_dir / "superres" / "Set5"
        if not folder.is_dir():
            raise InputError(
                f"Set5 is not at {folder}; set FITROOM_DATA_DIR to the shared data folder",
                path=str(folder),
            )
        return cls.from_folder(folder, scale)

    def feeds(self) -> list[Feeds]:
        return [_to_feed(lr) for lr in self.lr_images]

    def quality(self, predict: Predictor) -> float:
        """Mean Y-PSNR (dB) of ``predict`` over the images."""
        from fitroom.superres.metrics import psnr_y

        scores = []
        for lr, hr in zip(self.lr_images, self.hr_images, strict=True):
            sr = np.asarray(predict(_to_feed(lr)), dtype=np.float32)[0].transpose(1, 2, 0)
            sr_u8 = np.round(np.clip(sr, 0.0, 1.0) * 255.0).astype(np.uint8)
            scores.append(psnr_y(sr_u8, hr, shave_px=self.scale))
        return float(np.mean(scores))

    def evaluate_torch(self, model: nn.Module) -> float:
        """Mean Y-PSNR (dB) of a torch model (evaluated in eval mode, no gradients)."""
        return self.quality(torch_predictor(model))


def torch_predictor(model: nn.Module) -> Predictor:
    """A torch module behind the :data:`Predictor` signature (inputs in feed order)."""

    def predict(feeds: Feeds) -> npt.NDArray[Any]:
        model.eval()
        with torch.no_grad():
            args = [torch.from_numpy(np.ascontiguousarray(v)) for v in feeds.values()]
            out = model(*args)
        if isinstance(out, tuple | list):
            out = out[0]
        result: npt.NDArray[Any] = out.detach().numpy()
        return result

    return predict


def superres_calibration(
    folder: Path, scale: int, count: int = 16, lr_px: tuple[int, int] = SUPERRES_LATENCY_LR_PX
) -> list[Feeds]:
    """INT8 calibration feeds: centre LR crops of the first ``count`` images of ``folder``."""
    from fitroom.superres.data import bicubic_degrade, list_images, load_rgb, modcrop

    feeds: list[Feeds] = []
    for path in list_images(folder)[:count]:
        lr = bicubic_degrade(modcrop(load_rgb(path), scale), scale)
        height, width = lr.shape[:2]
        crop_h, crop_w = min(lr_px[0], height), min(lr_px[1], width)
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        feeds.append(_to_feed(lr[top : top + crop_h, left : left + crop_w]))
    return feeds


def superres_target(model: ShippedModel, data_dir: Path) -> CompressionTarget:
    """The compression target of one shipped SR model."""
    scale = model.scale

    def calibration(folder: Path | None) -> list[Feeds]:
        return superres_calibration(folder or data_dir / "superres" / "T91", scale)

    def quality() -> QualityFn:
        return SuperResolutionEval.set5(data_dir, scale).quality

    def real_feeds() -> list[Feeds]:
        return SuperResolutionEval.set5(data_dir, scale).feeds()[:2]

    def latency_feeds() -> Feeds:
        rng = np.random.default_rng(0)
        lr = rng.uniform(0, 1, size=(1, 3, *SUPERRES_LATENCY_LR_PX)).astype(np.float32)
        return {IMAGE_INPUT: lr}

    def fine_tune_batches() -> Iterator[tuple[Tensor, Tensor]]:
        from fitroom.superres.data import PatchSampler, list_images, make_pairs

        pairs = make_pairs(list_images(data_dir / "superres" / "T91"), scale)
        sampler = PatchSampler(pairs, scale, lr_patch_px=24, seed=0)
        while True:
            lr, hr = sampler.sample(16)
            yield torch.from_numpy(lr), torch.from_numpy(hr)

    return CompressionTarget(
        name=model.name,
        metric=f"Set5 x{scale} Y-PSNR (dB)",
        load_model=lambda: load_shipped_superres(model),
        inputs=(
            InputSpec(
                IMAGE_INPUT,
                (1, 3, *SUPERRES_LATENCY_LR_PX),
                dynamic_axes={0: "batch", 2: "height", 3: "width"},
            ),
        ),
        calibration=calibration,
        quality=quality,
        real_feeds=real_feeds,
        latency_feeds=latency_feeds,
        fine_tune_batches=fine_tune_batches,
    )


def known_targets(
    models_dir: Path | None = None,
    *,
    body_models_dir: Path | None = None,
    recsys_model_dir: Path | None = None,
) -> list[str]:
    """Names of every model ``fitroom compress`` can take today.

    ``models_dir``: the super-resolution models folder (default: the shipped one);
    ``body_models_dir``: the measurement models folder (default: the shipped one);
    ``recsys_model_dir``: a saved recommender (the served version); ``recsys/sasrec``
    is listed when it holds a SASRec network.
    """
    from fitroom.compress.body_target import body_measure_targets
    from fitroom.compress.recsys_target import RECSYS_SASREC, holds_sasrec

    try:
        names = [m.name for m in find_shipped_superres(models_dir)]
    except ModelError:
        names = []
    body_root = body_models_dir or _shipped_body_models_dir()
    names += [
        name
        for name in body_measure_targets()
        if (body_root / name.split("/", 1)[1] / "config.json").is_file()
    ]
    if recsys_model_dir is not None and holds_sasrec(recsys_model_dir):
        names.append(RECSYS_SASREC)
    return names


def _shipped_body_models_dir() -> Path:
    from fitroom.body.measure_model import shipped_model_dir

    return shipped_model_dir()


def get_target(
    name: str,
    data_dir: Path,
    models_dir: Path | None = None,
    *,
    var_dir: Path | None = None,
    eval_data: Path | None = None,
    body_models_dir: Path | None = None,
    recsys_model_dir: Path | None = None,
) -> CompressionTarget:
    """The target called ``name``; InputError listing the known ones when there is none.

    ``eval_data``: the held-out set of targets that read one from a file
    (``body_measure/*``: a test ``.npz``, default ``VAR_DIR/body_scan/test2.npz`` with
    ``var_dir`` default ``var``). ``recsys_model_dir``: the saved recommender whose
    SASRec ``recsys/sasrec`` compresses (normally the served version).
    """
    if name.startswith(SUPERRES_PREFIX):
        try:
            import fitroom.superres.models  # noqa: F401
        except ImportError as exc:  # pragma: no cover - the domain is part of the package
            raise ModelError(f"super-resolution models are not available: {exc}") from exc
        for model in find_shipped_superres(models_dir):
            if model.name == name:
                return superres_target(model, data_dir)
    from fitroom.compress.body_target import (
        BODY_MEASURE_PREFIX,
        BODY_SCAN_TEST_DATA,
        body_measure_target,
    )
    from fitroom.compress.recsys_target import RECSYS_SASREC, sasrec_target

    known = known_targets(
        models_dir, body_models_dir=body_models_dir, recsys_model_dir=recsys_model_dir
    )
    if name.startswith(BODY_MEASURE_PREFIX) and name in known:
        variant = name.removeprefix(BODY_MEASURE_PREFIX)
        default_var_dir = var_dir if var_dir is not None else Path("var")
        test_data = eval_data or default_var_dir / BODY_SCAN_TEST_DATA
        return body_measure_target(variant, test_data, body_models_dir)
    if name == RECSYS_SASREC:
        return sasrec_target(recsys_model_dir)
    raise InputError(
        f"unknown model {name!r}; known: {', '.join(known) if known else 'none shipped yet'}",
        field="model",
        known=known,
    )
