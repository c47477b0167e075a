"""The measurement model: silhouette features (+ height, weight, sex) -> cm with +/-.

A small multilayer perceptron, trained by ``scripts/train_body_measure.py`` on
synthetic Anny bodies run through the real photo pipeline, predicts each measurement
as a ratio of stature together with its own standard deviation (Gaussian negative
log-likelihood); the standard deviations are then rescaled per measurement so that
about 68% of held-out errors fall within +/- 1 sd. Two variants ship: ``front`` (one
photo) and ``front_side``. Inference is plain numpy; weights are an ``.npz`` without
pickles next to a ``config.json`` that says everything needed to use them.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import InputError, ModelError

#: What the model measures (ISO 8559-1 definitions in ``fitroom.body.definitions``).
MEASUREMENTS: tuple[str, ...] = (
    "chest_cm",
    "waist_cm",
    "hip_cm",
    "neck_cm",
    "shoulder_breadth_cm",
    "arm_length_cm",
    "inseam_cm",
    "thigh_cm",
)
VARIANTS = ("front", "front_side")
#: Height and weight are fed scaled by these (so the inputs are near 1).
HEIGHT_SCALE_CM = 170.0
WEIGHT_SCALE_KG = 70.0
#: (weight hidden, sex hidden): every combination of the optional inputs the API takes.
OPTIONAL_INPUTS_HIDDEN: tuple[tuple[bool, bool], ...] = (
    (False, False),
    (True, False),
    (False, True),
    (True, True),
)
#: Level grids the scan reads each photo at (fractions of stature added to every level of
#: ``fitroom.body.features``; 0 = the grid the models were trained on). The model runs on
#: each grid and the answers are averaged (``predict_over_level_grids``): the levels are
#: 2% of stature apart, and where the crotch or a bust falls between two of them
#: changes one reading more than it changes the body. Chosen on validation bodies; see
#: the README, "Body scan from photos", step 6.
LEVEL_SHIFTS: tuple[float, ...] = (-0.01, -0.005, 0.0, 0.005, 0.01)
#: Arrays every scan-data ``.npz`` (``scripts/make_body_scan_data.py``) holds.
SCAN_DATA_ARRAYS = (
    "front",
    "side",
    "ok_front",
    "ok_front_side",
    "height_cm",
    "weight_kg",
    "sex",
    "targets_cm",
)


#: Column of ``model_inputs`` that says whether the weight was given (1) or not (0).
WEIGHT_GIVEN_COLUMN = -3


def model_inputs(
    front: NDArray[np.float64],
    side: NDArray[np.float64] | None,
    height_cm: float,
    weight_kg: float | None,
    sex: str | None,
) -> NDArray[np.float64]:
    """One input row: view features, then height, weight (and whether given), sex."""
    parts = [front] if side is None else [front, side]
    extra = [
        height_cm / HEIGHT_SCALE_CM,
        0.0 if weight_kg is None else weight_kg / WEIGHT_SCALE_KG,
        0.0 if weight_kg is None else 1.0,
        1.0 if sex == "male" else 0.0,
        1.0 if sex == "female" else 0.0,
    ]
    return np.concatenate([*parts, np.array(extra, dtype=np.float64)])


def read_scan_data(path: Path) -> dict[str, NDArray[Any]]:
    """The arrays of a scan-data ``.npz`` written by ``scripts/make_body_scan_data.py``.

    Per body: view features (``front``, ``side``), whether each view passed the photo
    gate (``ok_front``, ``ok_front_side``), ``height_cm``, ``weight_kg``, ``sex`` and the
    measurements taken on the mesh (``targets_cm``, in ``MEASUREMENTS`` order).
    """
    if not path.is_file():
        raise InputError(
            f"no body-scan data at {path}; make it with python scripts/make_body_scan_data.py "
            f"--bodies 480 --seed 4 --split test --out {path}",
            path=str(path),
        )
    try:
        with np.load(path, allow_pickle=False) as raw:
            data = {k: raw[k] for k in raw.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not a body-scan .npz: {exc}", path=str(path)) from exc
    missing = [name for name in SCAN_DATA_ARRAYS if name not in data]
    if missing:
        raise InputError(
            f"{path} lacks the arrays {missing}; it was not written by "
            "scripts/make_body_scan_data.py",
            path=str(path),
        )
    return data


def stored_grid_index(data: dict[str, NDArray[Any]], shift: float, array: str) -> int:
    """Where the features at level ``shift`` sit in ``data[array]``'s shift axis (the
    order of ``--level-shifts``, recorded in ``meta_json``); a clear error when the data
    scripts were not asked to keep that grid."""
    meta = json.loads(str(data["meta_json"])) if "meta_json" in data else {}
    stored = [round(float(d), 6) for d in meta.get("level_shifts", [])]
    if round(shift, 6) not in stored or array not in data:
        raise InputError(
            f"the scan data lacks the features at level shift {shift:+g}; make it again "
            f"with --level-shifts {' '.join(f'{d:g}' for d in LEVEL_SHIFTS if d)}",
            level_shift=shift,
        )
    return stored.index(round(shift, 6))


def level_grid_data(data: dict[str, NDArray[Any]]) -> list[dict[str, NDArray[Any]]]:
    """``data`` once per grid of ``LEVEL_SHIFTS``, its ``front`` and ``side`` features read
    at that grid (the arrays ``front_shifted`` and ``side_shifted`` that
    ``scripts/make_body_scan_data.py --level-shifts`` keeps; the 0 grid is ``front``
    and ``side`` themselves)."""
    grids = []
    for shift in LEVEL_SHIFTS:
        if shift == 0.0:
            grids.append(data)
            continue
        j = stored_grid_index(data, shift, "front_shifted")
        grids.append(
            {**data, "front": data["front_shifted"][:, j], "side": data["side_shifted"][:, j]}
        )
    return grids


def gate_passed(data: dict[str, NDArray[Any]], variant: str) -> NDArray[np.int64]:
    """Indexes of the bodies whose photos for ``variant`` passed the quality gate."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown measurement model variant {variant!r}; one of {VARIANTS}")
    ok = data["ok_front_side"] if variant == "front_side" else data["ok_front"]
    return np.flatnonzero(ok).astype(np.int64)


def scan_rows(
    data: dict[str, NDArray[Any]],
    index: NDArray[np.int64],
    variant: str,
    hidden: tuple[tuple[bool, bool], ...] = OPTIONAL_INPUTS_HIDDEN,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Model inputs, true measurements (cm) and heights (cm) of the bodies in ``index``.

    Each body gives one row per ``(weight hidden, sex hidden)`` pair in ``hidden``
    (default: all four, as the API accepts each), body by body.
    """
    inputs, targets_cm, heights_cm = [], [], []
    for i in index:
        front = data["front"][i]
        side = data["side"][i] if variant == "front_side" else None
        height = float(data["height_cm"][i])
        for hide_weight, hide_sex in hidden:
            weight = None if hide_weight else float(data["weight_kg"][i])
            sex = None if hide_sex else str(data["sex"][i])
            inputs.append(model_inputs(front, side, height, weight, sex))
            targets_cm.append(data["targets_cm"][i])
            heights_cm.append(height)
    return np.array(inputs), np.array(targets_cm), np.array(heights_cm)


@dataclass(frozen=True)
class MeasurementModel:
    """An MLP with standardised inputs; outputs mean ratio and log-sd per measurement."""

    variant: str
    input_mean: NDArray[np.float64]
    input_std: NDArray[np.float64]
    layers: tuple[tuple[NDArray[np.float64], NDArray[np.float64]], ...]
    target_mean: NDArray[np.float64]
    target_std: NDArray[np.float64]
    sd_scale: NDArray[np.float64]
    config: dict[str, Any]
    #: Mean error of the values as a ratio of stature, measured on calibration bodies
    #: and taken off every prediction: row 0 without the weight, row 1 with it
    #: (``scripts/calibrate_body_measure.py``; zeros for a model never calibrated).
    offset_ratio: NDArray[np.float64] = field(
        default_factory=lambda: np.zeros((2, len(MEASUREMENTS)))
    )

    @property
    def input_size(self) -> int:
        return int(self.input_mean.shape[0])

    def predict(
        self, inputs: NDArray[np.float64], height_cm: NDArray[np.float64] | float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Rows of inputs -> (values_cm, sd_cm), each rows x len(MEASUREMENTS)."""
        x = np.atleast_2d(inputs)
        if x.shape[1] != self.input_size:
            raise ModelError(
                f"the {self.variant} measurement model takes {self.input_size} inputs; "
                f"got {x.shape[1]}"
            )
        h = (x - self.input_mean) / self.input_std
        for index, (weight, bias) in enumerate(self.layers):
            h = h @ weight + bias
            if index < len(self.layers) - 1:
                h = h * (1.0 / (1.0 + np.exp(-h)))  # SiLU
        count = len(MEASUREMENTS)
        # The flag is 0 or 1 in real rows; read linearly, as the ONNX twin does.
        weight_given = x[:, WEIGHT_GIVEN_COLUMN : WEIGHT_GIVEN_COLUMN + 1]
        offset = self.offset_ratio[0] + weight_given * (self.offset_ratio[1] - self.offset_ratio[0])
        mean_ratio = h[:, :count] * self.target_std + self.target_mean - offset
        sd_ratio = np.exp(h[:, count:]) * self.target_std * self.sd_scale
        heights = np.reshape(np.asarray(height_cm, dtype=np.float64), (-1, 1))
        return mean_ratio * heights, sd_ratio * heights

    def save(self, folder: Path) -> None:
        """Write ``weights.npz`` (no pickles) and ``config.json`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, NDArray[np.float64]] = {
            "input_mean": self.input_mean,
            "input_std": self.input_std,
            "target_mean": self.target_mean,
            "target_std": self.target_std,
            "sd_scale": self.sd_scale,
            "offset_ratio": self.offset_ratio,
        }
        for index, (weight, bias) in enumerate(self.layers):
            arrays[f"layer{index}_weight"] = weight
            arrays[f"layer{index}_bias"] = bias
        # Compressed: a merged ensemble (merge_members) is mostly zero blocks.
        np.savez_compressed(
            folder / "weights.npz", **{k: v.astype(np.float32) for k, v in arrays.items()}
        )
        config = {**self.config, "variant": self.variant, "layers": len(self.layers)}
        config["measurements"] = list(MEASUREMENTS)
        (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> MeasurementModel:
        """Read a model written by ``save``; refuses one made for other measurements."""
        try:
            config = json.loads((folder / "config.json").read_text())
            with np.load(folder / "weights.npz", allow_pickle=False) as data:
                arrays = {k: data[k].astype(np.float64) for k in data.files}
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read the measurement model in {folder}: {exc}") from exc
        if tuple(config.get("measurements", ())) != MEASUREMENTS:
            raise ModelError(
                f"the measurement model in {folder} measures {config.get('measurements')}, "
                f"not {list(MEASUREMENTS)}; retrain it with scripts/train_body_measure.py"
            )
        layers = tuple(
            (arrays[f"layer{i}_weight"], arrays[f"layer{i}_bias"])
            for i in range(int(config["layers"]))
        )
        return cls(
            variant=str(config["variant"]),
            input_mean=arrays["input_mean"],
            input_std=arrays["input_std"],
            layers=layers,
            target_mean=arrays["target_mean"],
            target_std=arrays["target_std"],
            sd_scale=arrays["sd_scale"],
            config=config,
            offset_ratio=arrays.get("offset_ratio", np.zeros((2, len(MEASUREMENTS)))),
        )


def _same_frame(a: MeasurementModel, b: MeasurementModel) -> bool:
    """Whether two models share the variant, the layer count and the input and target
    standardisation: what merging or blending their layers needs."""
    return (
        a.variant == b.variant
        and len(a.layers) == len(b.layers)
        and all(
            np.array_equal(getattr(a, name), getattr(b, name))
            for name in ("input_mean", "input_std", "target_mean", "target_std")
        )
    )


def merge_members(members: list[MeasurementModel]) -> MeasurementModel:
    """One MLP that averages ``members``' outputs (their means and their log-sds).

    The members must share the input and target standardisation (trained on the same
    rows) and the layer count. Their hidden layers sit side by side: the first layer's
    columns are concatenated, the hidden-to-hidden layers become block-diagonal, and the
    last layer's rows are stacked and divided by the member count, so the merged net
    computes the mean of the members' outputs exactly. Inference (and its torch twin in
    ``fitroom.compress``) stays one plain MLP.
    """
    if not members:
        raise ModelError("cannot merge an empty list of measurement models")
    first = members[0]
    for other in members[1:]:
        if not _same_frame(first, other):
            raise ModelError(
                "measurement models can only be merged when they share the variant, the "
                "layer count and the input and target standardisation"
            )
    count = len(members)
    last = len(first.layers) - 1
    layers = []
    for index in range(len(first.layers)):
        weights = [m.layers[index][0] for m in members]
        biases = [m.layers[index][1] for m in members]
        if index == 0:
            weight, bias = np.hstack(weights), np.concatenate(biases)
        elif index < last:
            rows = sum(w.shape[0] for w in weights)
            cols = sum(w.shape[1] for w in weights)
            weight = np.zeros((rows, cols))
            r = c = 0
            for w in weights:
                weight[r : r + w.shape[0], c : c + w.shape[1]] = w
                r, c = r + w.shape[0], c + w.shape[1]
            bias = np.concatenate(biases)
        else:
            weight, bias = np.vstack(weights) / count, np.mean(biases, axis=0)
        layers.append((weight, bias))
    return dataclasses.replace(first, layers=tuple(layers))


def split_members(model: MeasurementModel, count: int) -> list[MeasurementModel]:
    """The ``count`` member MLPs that ``merge_members`` put side by side in ``model``.

    Each member gets its column block of the first layer, its diagonal block of every
    hidden-to-hidden layer and its row block of the last (times ``count``, which the
    merge divided by). The merge kept only the mean of the last biases, so every member
    gets that mean: the members' average, and so the merged model, is unchanged.
    Refuses a model whose layers do not split that way (off-block weights not zero).
    """
    if count < 1 or len(model.layers) < 2:
        raise ModelError("split a merged model of at least two layers into 1+ members")
    width = model.layers[0][0].shape[1]
    if width % count:
        raise ModelError(f"a hidden width of {width} does not split into {count} members")
    size = width // count
    blocks = [slice(i * size, (i + 1) * size) for i in range(count)]
    last = len(model.layers) - 1
    for weight, _ in model.layers[1:last]:
        inside = np.zeros_like(weight, dtype=bool)
        for block in blocks:
            inside[block, block] = True
        if np.any(weight[~inside] != 0.0):
            raise ModelError(f"the model's hidden layers are not {count} merged members")
    members = []
    for block in blocks:
        layers = []
        for index, (weight, bias) in enumerate(model.layers):
            if index == 0:
                layers.append((weight[:, block], bias[block]))
            elif index < last:
                layers.append((weight[block, block], bias[block]))
            else:
                layers.append((weight[block, :] * count, bias))
        members.append(dataclasses.replace(model, layers=tuple(layers)))
    return members


def blend_models(
    start: MeasurementModel, tuned: MeasurementModel, tuned_share: float
) -> MeasurementModel:
    """``tuned`` with every weight and bias ``tuned_share`` of its own and the rest of
    ``start``'s: weight-space ensembling of a fine-tuned model with the model it started
    from (WiSE-FT, Wortsman et al. 2022). A fine-tune stays near its start, so the blend
    keeps most of what the start read well and most of what the fine-tune added.

    The two must share the variant, the standardisation and every layer's shape (a
    fine-tune keeps them); the sds and offsets are ``tuned``'s, to be calibrated again.
    """
    if not 0.0 <= tuned_share <= 1.0:
        raise ModelError(f"tuned_share is {tuned_share}; use 0 to 1")
    same = _same_frame(start, tuned) and all(
        a.shape == b.shape and c.shape == d.shape
        for (a, c), (b, d) in zip(start.layers, tuned.layers, strict=True)
    )
    if not same:
        raise ModelError(
            "measurement models can only be blended when they share the variant, the layer "
            "shapes and the input and target standardisation (a fine-tune and its start)"
        )
    keep = 1.0 - tuned_share
    layers = tuple(
        (keep * w0 + tuned_share * w1, keep * b0 + tuned_share * b1)
        for (w0, b0), (w1, b1) in zip(start.layers, tuned.layers, strict=True)
    )
    return dataclasses.replace(tuned, layers=layers)


def shipped_model_dir() -> Path:
    """Folder of the shipped measurement models (one sub-folder per variant)."""
    return Path(__file__).resolve().parent.parent / "models_dir" / "body_measure"


def predict_over_level_grids(
    model: MeasurementModel,
    inputs_by_grid: Sequence[NDArray[np.float64]],
    height_cm: NDArray[np.float64] | float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The model on the same rows read at several level grids (``LEVEL_SHIFTS``): the
    mean of the values and of the standard deviations (cm), rows x measurements.

    For a body whose readings change smoothly with the levels the mean of symmetric
    shifts is the centre grid's reading; where one grid lands on an edge (the crotch,
    under the bust) its jump is diluted.
    """
    if not inputs_by_grid:
        raise ModelError("no level grids to predict on")
    values, sds = zip(*(model.predict(rows, height_cm) for rows in inputs_by_grid), strict=True)
    return np.mean(values, axis=0), np.mean(sds, axis=0)


def predict_scan_data(
    model: MeasurementModel,
    grids: Sequence[dict[str, NDArray[Any]]],
    index: NDArray[np.int64],
    variant: str,
    hidden: tuple[tuple[bool, bool], ...] = OPTIONAL_INPUTS_HIDDEN,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(values cm, sd cm, truth cm, heights cm) of ``scan_rows(grid, index, variant,
    hidden)``, the model run on each of ``grids`` (``level_grid_data``, or ``[data]``)
    and averaged as the scan averages them."""
    per_grid = [scan_rows(grid, index, variant, hidden=hidden) for grid in grids]
    heights_cm = per_grid[0][2]
    values_cm, sd_cm = predict_over_level_grids(
        model, [rows for rows, _, _ in per_grid], heights_cm
    )
    return values_cm, sd_cm, per_grid[0][1], heights_cm


@functools.cache
def load_measurement_model(variant: str, folder: Path | None = None) -> MeasurementModel:
    """The shipped (or given) model of one variant, loaded once per process."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown measurement model variant {variant!r}; one of {VARIANTS}")
    base = folder or shipped_model_dir()
    path = base / variant
    if not (path / "config.json").is_file():
        raise ModelError(
            f"no {variant} measurement model at {path}; train one with "
            "scripts/train_body_measure.py"
        )
    return MeasurementModel.load(path)
