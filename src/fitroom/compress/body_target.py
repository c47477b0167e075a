"""The body-measurement models as compression targets (``body_measure/<variant>``).

The shipped models (``models_dir/body_measure/<variant>/``, ``fitroom.body.
measure_model``) run in numpy. :class:`MeasurementNet` is their torch twin, built from
the same ``weights.npz``: the same input standardisation, Linear layers with SiLU
between them, and output transform (a ratio of stature and its log standard deviation,
both de-standardised and scaled by the height). It returns one array, the values and
then the standard deviations in cm, so the export check covers both.

Quality is the mean absolute error in cm on a held-out body-scan set (the ``.npz`` of
``scripts/make_body_scan_data.py --split test``; not committed, so its path is a
setting), lower is better. The graph is Linear layers only, so INT8 is dynamic (no
calibration set); pruning is not offered (the pruner thins convolution channels).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from fitroom.body.measure_model import WEIGHT_GIVEN_COLUMN
from fitroom.compress.export import InputSpec
from fitroom.compress.metrics import Feeds, Predictor
from fitroom.compress.targets import CompressionTarget
from fitroom.errors import InputError

if TYPE_CHECKING:
    from fitroom.body.measure_model import MeasurementModel

#: Prefix of body-measurement target names: ``body_measure/<variant>``.
BODY_MEASURE_PREFIX = "body_measure/"
#: The test set ``bench/body_scan.py`` reports on, relative to ``VAR_DIR``.
BODY_SCAN_TEST_DATA = Path("body_scan") / "test2.npz"
#: Names of the two inputs of the exported model.
FEATURES_INPUT = "features"
HEIGHT_INPUT = "height_cm"
#: Rows compared torch vs ONNX in the export check (real test rows, all four input
#: combinations of the first bodies).
EQUIVALENCE_ROWS = 64
#: Largest |torch - ONNX| accepted, in cm: a tenth of a millimetre, plus a millionth
#: part of the value. The check's random inputs (every feature uniform in [0, 1], far
#: outside some features' spread) drive outputs to thousands of cm through the
#: exponential of the log-sd, where float32 differs by about 2e-6 of the value between
#: runtimes; on real rows the two agree to about 2e-5 cm.
EQUIVALENCE_TOLERANCE_CM = 1e-2
EQUIVALENCE_RELATIVE_TOLERANCE = 1e-5


class MeasurementNet(nn.Module):
    """torch twin of :meth:`MeasurementModel.predict` (float32).

    ``forward(features, height_cm)``: rows of ``model_inputs`` (batch x inputs) and
    heights (batch x 1, cm) -> batch x 16: the 8 values in cm, then their 8 standard
    deviations in cm (``MEASUREMENTS`` order).
    """

    input_mean: Tensor
    input_std: Tensor
    target_mean: Tensor
    target_std: Tensor
    sd_scale: Tensor
    offset_ratio: Tensor

    def __init__(self, model: MeasurementModel) -> None:
        super().__init__()

        def tensor(array: npt.NDArray[Any]) -> Tensor:
            return torch.tensor(np.asarray(array), dtype=torch.float32)

        self.measurements = int(model.target_mean.shape[0])
        self.register_buffer("input_mean", tensor(model.input_mean))
        self.register_buffer("input_std", tensor(model.input_std))
        self.register_buffer("target_mean", tensor(model.target_mean))
        self.register_buffer("target_std", tensor(model.target_std))
        self.register_buffer("sd_scale", tensor(model.target_std * model.sd_scale))
        self.register_buffer("offset_ratio", tensor(model.offset_ratio))
        layers = []
        for weight, bias in model.layers:  # numpy stores weight as inputs x outputs
            linear = nn.Linear(weight.shape[0], weight.shape[1])
            with torch.no_grad():
                linear.weight.copy_(tensor(weight.T))
                linear.bias.copy_(tensor(bias))
            layers.append(linear)
        self.layers = nn.ModuleList(layers)
        self.eval()

    def forward(self, features: Tensor, height_cm: Tensor) -> Tensor:
        h = (features - self.input_mean) / self.input_std
        for index, layer in enumerate(self.layers):
            h = layer(h)
            if index < len(self.layers) - 1:
                h = F.silu(h)
        count = self.measurements
        mean_ratio = h[:, :count] * self.target_std + self.target_mean
        weight_given = features[:, WEIGHT_GIVEN_COLUMN : WEIGHT_GIVEN_COLUMN + 1]
        offset = self.offset_ratio[0] + weight_given * (self.offset_ratio[1] - self.offset_ratio[0])
        mean_ratio = mean_ratio - offset
        sd_ratio = torch.exp(h[:, count:]) * self.sd_scale
        return torch.cat([mean_ratio * height_cm, sd_ratio * height_cm], dim=1)


def body_measure_targets() -> list[str]:
    """``body_measure/<variant>`` for each variant the package knows."""
    from fitroom.body.measure_model import VARIANTS

    return [f"{BODY_MEASURE_PREFIX}{variant}" for variant in VARIANTS]


def _feeds(inputs: npt.NDArray[Any], heights_cm: npt.NDArray[Any]) -> Feeds:
    return {
        FEATURES_INPUT: np.ascontiguousarray(inputs, dtype=np.float32),
        HEIGHT_INPUT: np.ascontiguousarray(np.reshape(heights_cm, (-1, 1)), dtype=np.float32),
    }


class MeasurementEval:
    """Mean absolute error (cm) of the 8 measurements on a held-out scan set.

    Rows: every body whose photos for the variant passed the quality gate, each four
    times (weight given or not x sex given or not, as the API accepts), against the
    measurements taken on the body's mesh. One number: the mean over rows and
    measurements of |predicted - true|.
    """

    def __init__(self, path: Path, variant: str) -> None:
        from fitroom.body.measure_model import gate_passed, read_scan_data, scan_rows

        data = read_scan_data(path)
        index = gate_passed(data, variant)
        if not len(index):
            raise InputError(
                f"no body in {path} passed the photo gate for {variant}: nothing to score",
                path=str(path),
            )
        self.path = path
        self.bodies = len(index)
        inputs, self.truth_cm, heights_cm = scan_rows(data, index, variant)
        self.feeds = _feeds(inputs, heights_cm)

    @property
    def rows(self) -> int:
        return int(self.truth_cm.shape[0])

    def quality(self, predict: Predictor) -> float:
        """Mean |predicted - true| in cm over rows and the 8 measurements."""
        count = self.truth_cm.shape[1]
        values_cm = np.asarray(predict(self.feeds), dtype=np.float64)[:, :count]
        return float(np.mean(np.abs(values_cm - self.truth_cm)))


def body_measure_target(
    variant: str, test_data: Path, models_dir: Path | None = None
) -> CompressionTarget:
    """The compression target of the shipped (or ``models_dir``'s) ``variant`` model.

    ``test_data``: the held-out ``.npz``; read here, so a missing file is an InputError
    before anything is exported.
    """
    from fitroom.body.measure_model import load_measurement_model

    numpy_model = load_measurement_model(variant, models_dir)
    evaluation = MeasurementEval(test_data, variant)
    inputs = numpy_model.input_size

    def calibration(folder: Path | None) -> list[Feeds]:
        if folder is not None:
            raise InputError(
                f"{BODY_MEASURE_PREFIX}{variant} is quantized dynamically (Linear layers "
                "only) and takes no calibration set; leave out --calibration",
                field="calibration",
            )
        return []

    def real_feeds() -> list[Feeds]:
        return [{k: v[:EQUIVALENCE_ROWS] for k, v in evaluation.feeds.items()}]

    def latency_feeds() -> Feeds:
        # One shopper's scan, as the API measures one at a time.
        return {k: v[:1] for k, v in evaluation.feeds.items()}

    return CompressionTarget(
        name=f"{BODY_MEASURE_PREFIX}{variant}",
        metric="test MAE, 8 measurements (cm)",
        load_model=lambda: MeasurementNet(numpy_model),
        inputs=(
            InputSpec(FEATURES_INPUT, (4, inputs), dynamic_axes={0: "batch"}),
            InputSpec(HEIGHT_INPUT, (4, 1), dynamic_axes={0: "batch"}, value_range=(140, 200)),
        ),
        calibration=calibration,
        quality=lambda: evaluation.quality,
        real_feeds=real_feeds,
        latency_feeds=latency_feeds,
        fine_tune_batches=None,
        higher_is_better=False,
        equivalence_tolerance=EQUIVALENCE_TOLERANCE_CM,
        equivalence_relative_tolerance=EQUIVALENCE_RELATIVE_TOLERANCE,
        definition=(
            f"Quality: mean absolute error in cm of the 8 measurements against those "
            f"taken on the mesh, over the {evaluation.bodies} bodies of {test_data} whose "
            f"{variant.replace('_', '+')} photos passed the gate, each with and without "
            f"weight and sex ({evaluation.rows} rows); lower is better."
        ),
    )
