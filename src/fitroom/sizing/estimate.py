"""Estimate missing body measurements from height, weight and sex (runtime, numpy only).

A shopper often gives only height, weight and sex, or a few tape measurements. The
model shipped in ``models_dir/measurement_estimator/model.json`` (made by
``scripts/train_measurement_estimator.py`` from the ANSUR II survey) predicts the
missing zones per sex as ``log(zone_cm) = X @ coefficients``, with a Gaussian residual
in log space whose covariance across zones is stored too. That covariance is what lets
us

- give every estimate a standard deviation in cm (``value_cm * log_sd``), and
- estimate the missing zones *conditionally* on the ones the shopper did type
  (Gaussian conditioning on the residuals: a chest bigger than predicted moves the
  waist estimate up and makes it surer).

When the weight is unknown a second, height-only model (with its own, wider, residual
covariance) is used. Nothing is read at import time; ``load_estimator`` reads the file
on first use and caches it per path.

``waist`` is the natural waist (ISO 8559-1 5.3.10, as in ``zones.py``), not ANSUR II's
navel-level waist: the training script folds a navel-to-natural conversion fitted on
bdims into the waist coefficients and covariance (recorded under ``waist_definition``
in the model file), so this runtime reads it like any other zone.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fitroom.errors import (
    InputError,
    ModelError,
)
from fitroom.sizing.units import check_length_cm, check_weight_kg
from fitroom.sizing.zones import (
    Sex,
    Zone,
)

FloatArray = npt.NDArray[np.float64]

#: ``format`` field of a measurement-estimator model file.
MODEL_FORMAT = "fitroom-measurement-estimator"
#: The only layout this runtime reads; bump it when the file layout changes.
MODEL_FORMAT_VERSION = 1
#: Key of the model used when the weight is known, and of the height-only one.
HEIGHT_WEIGHT_MODEL = "height_weight"
HEIGHT_ONLY_MODEL = "height_only"
#: Targets the runtime can invert: ``log_cm`` means the model predicts log(cm).
SUPPORTED_TARGET = "log_cm"

#: BMI the quadratic BMI feature is centred on (kg/m^2), so its linear coefficient
#: stays the slope at an ordinary body.
BMI_CENTRE_KG_M2 = 25.0

#: Regressors a model file may name. ``const`` is the intercept.
FEATURE_NAMES: frozenset[str] = frozenset(
    {"const", "log_height_cm", "log_weight_kg", "log_bmi_dev_sq", "height_cm", "weight_kg"}
)
_FEATURES_NEEDING_WEIGHT: frozenset[str] = frozenset(
    {"log_weight_kg", "log_bmi_dev_sq", "weight_kg"}
)


@dataclass(frozen=True)
class EstimatedMeasurement:
    """One estimated zone: the median estimate and its standard deviation, in cm."""

    value_cm: float
    sd_cm: float


def design_matrix(
    feature_names: Sequence[str],
    height_cm: FloatArray,
    weight_kg: FloatArray | None,
) -> FloatArray:
    """Regressor matrix (n, len(feature_names)) for bodies of the given height and weight.

    Shared by the fitting code and the runtime so that both compute the same features.
    ``log_bmi_dev_sq`` is ``(log(BMI) - log(25))**2`` with BMI in kg/m^2.
    """
    height = np.asarray(height_cm, dtype=np.float64)
    columns: list[FloatArray] = []
    for name in feature_names:
        if name not in FEATURE_NAMES:
            raise ValueError(f"unknown feature {name!r}; known: {sorted(FEATURE_NAMES)}")
        if name in _FEATURES_NEEDING_WEIGHT and weight_kg is None:
            raise ValueError(f"feature {name!r} needs the weight")
        if name == "const":
            columns.append(np.ones_like(height))
        elif name == "log_height_cm":
            columns.append(np.log(height))
        elif name == "height_cm":
            columns.append(height)
        else:
            weight = np.asarray(weight_kg, dtype=np.float64)
            if name == "log_weight_kg":
                columns.append(np.log(weight))
            elif name == "weight_kg":
                columns.append(weight)
            else:  # log_bmi_dev_sq
                log_bmi = np.log(weight) - 2.0 * np.log(height / 100.0)
                columns.append((log_bmi - math.log(BMI_CENTRE_KG_M2)) ** 2)
    return np.stack(columns, axis=-1)


def condition_gaussian(
    mean: FloatArray,
    cov: FloatArray,
    known_index: Sequence[int],
    known_value: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Mean and covariance of the unknown components given the known ones.

    Standard Gaussian conditioning: for x = (u, k) ~ N(mean, cov),
    u | k ~ N(mean_u + S_uk S_kk^-1 (k - mean_k), S_uu - S_uk S_kk^-1 S_ku).
    Returns the conditioned (mean, cov) of the components not in ``known_index``,
    in their original order.
    """
    n = mean.shape[0]
    known = list(known_index)
    unknown = [i for i in range(n) if i not in set(known)]
    if not known:
        return mean.copy(), cov.copy()
    s_kk = cov[np.ix_(known, known)]
    s_uk = cov[np.ix_(unknown, known)]
    # S_uk S_kk^-1 via a solve on the symmetric S_kk (no explicit inverse).
    gain = np.linalg.solve(s_kk, s_uk.T).T
    mean_u = mean[unknown] + gain @ (known_value - mean[known])
    cov_u = cov[np.ix_(unknown, unknown)] - gain @ s_uk.T
    return mean_u, cov_u


@dataclass(frozen=True)
class _Regression:
    """One fitted regression: log(zone_cm) = design_matrix(features) @ coefficients."""

    feature_names: tuple[str, ...]
    coefficients: FloatArray  # (n_features, n_zones)
    residual_cov_log: FloatArray  # (n_zones, n_zones), covariance of log residuals

    def predictive(
        self, height_cm: float, weight_kg: float | None
    ) -> tuple[FloatArray, FloatArray]:
        """Mean and covariance of log(zone_cm) for one body.

        The covariance is the residual covariance alone: the parameter uncertainty
        x'(X'X)^-1 x of a fit on thousands of bodies adds under 5 % to the variance
        even at 250 kg, and the real risk off-sample (a wrong functional form) is not
        something it would measure anyway.
        """
        weight = None if weight_kg is None else np.array([weight_kg])
        x = design_matrix(self.feature_names, np.array([height_cm]), weight)[0]
        return x @ self.coefficients, self.residual_cov_log


class MeasurementEstimator:
    """Per-sex log-linear estimator of body zones, with conditional estimation.

    Build it with ``from_file`` (or ``load_estimator``); the constructor is internal.
    """

    def __init__(self, zones: tuple[Zone, ...], models: dict[Sex, dict[str, _Regression]]) -> None:
        self._zones = zones
        self._models = models

    @property
    def zones(self) -> tuple[Zone, ...]:
        """Zones this estimator can estimate, in the model's order."""
        return self._zones

    @classmethod
    def from_file(cls, path: Path) -> MeasurementEstimator:
        """Read a model file; raise ModelError if it is missing or malformed."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelError(
                f"cannot read measurement-estimator model {path}: {exc.strerror or exc}; "
                "run scripts/train_measurement_estimator.py to make it",
                path=str(path),
            ) from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(
                f"measurement-estimator model {path} is not valid JSON "
                f"(line {exc.lineno}: {exc.msg})",
                path=str(path),
            ) from exc
        return cls.from_document(document, source=str(path))

    @classmethod
    def from_document(cls, document: Any, *, source: str = "<document>") -> MeasurementEstimator:
        """Build from the parsed JSON document; raise ModelError if it is malformed."""
        try:
            return cls._parse(document)
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, np.linalg.LinAlgError) as exc:
            raise ModelError(
                f"measurement-estimator model {source} is malformed: {exc!r}", path=source
            ) from exc

    @classmethod
    def _parse(cls, document: Any) -> MeasurementEstimator:
        if not isinstance(document, dict):
            raise TypeError("top level is not a JSON object")
        if document.get("format") != MODEL_FORMAT:
            raise ValueError(f"format is {document.get('format')!r}, expected {MODEL_FORMAT!r}")
        if document.get("format_version") != MODEL_FORMAT_VERSION:
            raise ValueError(
                f"format_version is {document.get('format_version')!r}; "
                f"this fitroom reads version {MODEL_FORMAT_VERSION}"
            )
        if document.get("target") != SUPPORTED_TARGET:
            raise ValueError(f"target is {document.get('target')!r}, expected {SUPPORTED_TARGET!r}")
        zones = tuple(Zone(name) for name in document["zones"])
        if not zones or Zone.height in zones or len(set(zones)) != len(zones):
            raise ValueError(f"zones {list(document['zones'])} must be distinct and exclude height")
        models: dict[Sex, dict[str, _Regression]] = {}
        for sex in Sex:
            per_sex = document["models"][sex.value]
            models[sex] = {
                key: _parse_regression(per_sex[key], zones, f"models.{sex.value}.{key}")
                for key in (HEIGHT_WEIGHT_MODEL, HEIGHT_ONLY_MODEL)
            }
            if any(
                name in _FEATURES_NEEDING_WEIGHT
                for name in models[sex][HEIGHT_ONLY_MODEL].feature_names
            ):
                raise ValueError(f"models.{sex.value}.{HEIGHT_ONLY_MODEL} uses the weight")
        return cls(zones, models)

    def estimate(
        self,
        *,
        height_cm: float,
        sex: Sex,
        weight_kg: float | None = None,
        known_cm: Mapping[Zone, float] | None = None,
    ) -> dict[Zone, EstimatedMeasurement]:
        """Estimates for every estimable zone NOT in known_cm (conditioned on the known ones).

        ``value_cm`` is the median estimate exp(mean of log); ``sd_cm`` is
        ``value_cm * sd`` of the log, which is the sd in cm to first order.
        Raises MeasurementOutOfRange / LikelyWrongUnit for implausible inputs and
        InputError for a zone this model does not know.
        """
        sex_checked = check_sex(sex)
        check_length_cm(Zone.height, height_cm, field="height_cm")
        if weight_kg is not None:
            check_weight_kg(weight_kg)
        known = self._check_known(known_cm or {})

        key = HEIGHT_ONLY_MODEL if weight_kg is None else HEIGHT_WEIGHT_MODEL
        regression = self._models[sex_checked][key]
        mean_log, cov_log = regression.predictive(
            float(height_cm), None if weight_kg is None else float(weight_kg)
        )
        known_index = [self._zones.index(zone) for zone in known]
        known_log = np.log(np.array([known[zone] for zone in known], dtype=np.float64))
        mean_u, cov_u = condition_gaussian(mean_log, cov_log, known_index, known_log)
        unknown_zones = [zone for zone in self._zones if zone not in known]
        sd_log = np.sqrt(np.clip(np.diag(cov_u), 0.0, None))
        result: dict[Zone, EstimatedMeasurement] = {}
        for zone, mu, sd in zip(unknown_zones, mean_u, sd_log, strict=True):
            value_cm = math.exp(float(mu))
            result[zone] = EstimatedMeasurement(value_cm=value_cm, sd_cm=value_cm * float(sd))
        return result

    def _check_known(self, known_cm: Mapping[Zone, float]) -> dict[Zone, float]:
        checked: dict[Zone, float] = {}
        for raw_zone, value in known_cm.items():
            try:
                zone = Zone(raw_zone)
            except ValueError as exc:
                raise InputError(
                    f"unknown zone {raw_zone!r} in known_cm; known zones: "
                    f"{', '.join(z.value for z in self._zones)}",
                    field="known_cm",
                    value=str(raw_zone),
                ) from exc
            if zone not in self._zones:
                hint = "; pass it as height_cm" if zone is Zone.height else ""
                raise InputError(
                    f"zone {zone.value!r} cannot be a known measurement here{hint}; "
                    f"known_cm takes {', '.join(z.value for z in self._zones)}",
                    field="known_cm",
                    value=zone.value,
                )
            check_length_cm(zone, value, field=f"known_cm[{zone.value}]")
            checked[zone] = float(value)
        return checked


def _parse_regression(raw: Any, zones: tuple[Zone, ...], where: str) -> _Regression:
    feature_names = tuple(str(name) for name in raw["features"])
    unknown = [name for name in feature_names if name not in FEATURE_NAMES]
    if unknown or not feature_names:
        raise ValueError(f"{where}.features has unknown names {unknown}")
    coefficients_by_zone = raw["coefficients"]
    if set(coefficients_by_zone) != {zone.value for zone in zones}:
        raise ValueError(f"{where}.coefficients must have exactly the zones {list(zones)}")
    coefficients = np.array(
        [coefficients_by_zone[zone.value] for zone in zones], dtype=np.float64
    ).T
    cov = np.array(raw["residual_cov_log"], dtype=np.float64)
    n_features, n_zones = len(feature_names), len(zones)
    if coefficients.shape != (n_features, n_zones):
        raise ValueError(f"{where}.coefficients shape {coefficients.shape[::-1]} is wrong")
    if cov.shape != (n_zones, n_zones):
        raise ValueError(f"{where}.residual_cov_log shape {cov.shape} is wrong")
    if not (np.isfinite(coefficients).all() and np.isfinite(cov).all()):
        raise ValueError(f"{where} has non-finite numbers")
    if not np.allclose(cov, cov.T, rtol=1e-6, atol=1e-12):
        raise ValueError(f"{where}.residual_cov_log is not symmetric")
    np.linalg.cholesky(cov)  # raises LinAlgError unless positive definite
    return _Regression(feature_names, coefficients, cov)


def check_sex(sex: Sex | str) -> Sex:
    """The sex as a Sex; InputError for anything else."""
    try:
        return Sex(sex)
    except ValueError as exc:
        raise InputError(
            f"sex={sex!r} is not one of {', '.join(s.value for s in Sex)}",
            field="sex",
            value=str(sex),
        ) from exc


def default_model_path() -> Path:
    """The model file shipped inside the package."""
    return (
        Path(__file__).resolve().parent.parent
        / "models_dir"
        / "measurement_estimator"
        / "model.json"
    )


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path) -> MeasurementEstimator:
    return MeasurementEstimator.from_file(path)


def load_estimator(path: Path | None = None) -> MeasurementEstimator:
    """The estimator in ``path`` (default: the packaged model), read once per path."""
    return _load_cached(Path(path) if path is not None else default_model_path())
