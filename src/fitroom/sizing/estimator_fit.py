"""Fit and evaluate the measurement estimator on ANSUR II; check it on bdims.

Pure library code (no CLI, no file writing): ``train_measurement_estimator`` reads
the survey files under a data folder, splits each sex 80/20 by subject with a fixed
seed, fits candidate model forms by least squares, compares them on the held-out
split and on the external bdims population, fits the chosen form (and a height-only
fallback), converts its waist to the natural waist (below) and evaluates the result
through the runtime ``MeasurementEstimator`` itself, so the reported metrics are those
of the shipped file. ``build_model_document`` turns the result into the JSON the
runtime reads; ``metrics_markdown`` into a report table.

Waist: fitroom's ``waist`` is the natural waist (ISO 8559-1 5.3.10, EN 13402-1: the
narrowest girth between the lowest rib and the hip bone), which is what size charts
mean. ANSUR II measures its waist at the navel (omphalion), which is larger, so the
shipped waist is the ANSUR navel-waist model times a per-sex ratio fitted on bdims,
the one source with a natural waist, with the waist residual rescaled to bdims'
spread (``fit_waist_conversion``). Other conversions are compared by k-fold
cross-validation on bdims (``waist_cv_scores``).

Data (never copied into the repository):

- ANSUR II (US Army, 2012 public release): ``anthropometry/ANSUR_II_{MALE,FEMALE}.csv``,
  millimetres, ``weightkg`` in 0.1 kg units, ``stature`` in mm.
- bdims (Heinz et al. 2003, 507 active adults): ``anthropometry/bdims.csv``, cm and kg,
  ``sex`` 1 = male, 0 = female.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fitroom.errors import InputError
from fitroom.sizing.estimate import (
    BMI_CENTRE_KG_M2,
    HEIGHT_ONLY_MODEL,
    HEIGHT_WEIGHT_MODEL,
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    SUPPORTED_TARGET,
    FloatArray,
    MeasurementEstimator,
    design_matrix,
)
from fitroom.sizing.zones import GIRTH_ZONES, Sex, Zone

ANTHROPOMETRY_FOLDER = "anthropometry"
ANSUR_FILES: dict[Sex, str] = {Sex.male: "ANSUR_II_MALE.csv", Sex.female: "ANSUR_II_FEMALE.csv"}
BDIMS_FILE = "bdims.csv"

#: Zones the estimator fills in, in model order.
ESTIMATED_ZONES: tuple[Zone, ...] = (
    Zone.chest,
    Zone.waist,
    Zone.hip,
    Zone.inseam,
    Zone.neck,
    Zone.sleeve,
)

#: ANSUR II column (mm) defining each zone. ISO 8559-1 numbers in zones.py.
#: Note: ANSUR II ``waistcircumference`` is taken at the omphalion (navel), not at
#: the natural waist of ISO 8559-1 5.3.10 that the shipped model estimates (see
#: ``fit_waist_conversion``); ``crotchheight`` is the inside leg.
ANSUR_ZONE_COLUMNS: dict[Zone, str] = {
    Zone.chest: "chestcircumference",  # ISO 8559-1 5.3.4 / 5.3.5 (bust point level)
    Zone.waist: "waistcircumference",  # at omphalion; converted to the natural waist
    Zone.hip: "buttockcircumference",  # ISO 8559-1 5.3.13
    Zone.inseam: "crotchheight",  # ISO 8559-1 5.1.15 inside leg
    Zone.neck: "neckcircumferencebase",  # ISO 8559-1 5.3.2
    Zone.sleeve: "sleevelengthspinewrist",  # back-neck point over shoulder to wrist
}
ANSUR_STATURE_COLUMN = "stature"  # mm, ISO 8559-1 5.1.1
ANSUR_WEIGHT_COLUMN = "weightkg"  # 0.1 kg units despite the name
ANSUR_SUBJECT_COLUMN = "subjectid"  # "SubjectId" in the female file; matched caselessly
ANSUR_MM_PER_CM = 10.0
ANSUR_WEIGHT_UNITS_PER_KG = 10.0

#: bdims columns (cm). ``wai_gi`` is the natural (narrowest) waist, ``nav_gi`` the
#: girth at the navel, which is where ANSUR II measures its waist.
BDIMS_ZONE_COLUMNS: dict[Zone, str] = {
    Zone.chest: "che_gi",
    Zone.waist: "wai_gi",
    Zone.hip: "hip_gi",
}
BDIMS_NAVEL_GIRTH_COLUMN = "nav_gi"
BDIMS_SEX_CODE: dict[Sex, str] = {Sex.male: "1", Sex.female: "0"}

DEFAULT_SEED = 0
DEFAULT_TEST_FRACTION = 0.2
#: Folds of the per-sex cross-validation of the natural-waist conversion on bdims.
DEFAULT_WAIST_CV_FOLDS = 10


@dataclass(frozen=True)
class ModelForm:
    """A candidate regression: target transform plus named regressors."""

    name: str
    target: str  # "log_cm": fit log(zone_cm); "cm": fit zone_cm
    features: tuple[str, ...]
    description: str


LOG_HEIGHT_WEIGHT = ModelForm(
    "log_height_weight",
    "log_cm",
    ("const", "log_height_cm", "log_weight_kg"),
    "log(y) = b0 + b1 log(height_cm) + b2 log(weight_kg)  (a power law)",
)
LOG_HEIGHT_WEIGHT_BMI2 = ModelForm(
    "log_height_weight_bmi2",
    "log_cm",
    ("const", "log_height_cm", "log_weight_kg", "log_bmi_dev_sq"),
    "log(y) = b0 + b1 log(height_cm) + b2 log(weight_kg) + b3 (log(BMI) - log 25)^2",
)
LINEAR_HEIGHT_WEIGHT = ModelForm(
    "linear_height_weight",
    "cm",
    ("const", "height_cm", "weight_kg"),
    "y = b0 + b1 height_cm + b2 weight_kg  (plain linear, homoscedastic)",
)
LOG_HEIGHT_ONLY = ModelForm(
    "log_height_only",
    "log_cm",
    ("const", "log_height_cm"),
    "log(y) = b0 + b1 log(height_cm)  (used when the weight is unknown)",
)
CANDIDATE_FORMS: tuple[ModelForm, ...] = (
    LOG_HEIGHT_WEIGHT,
    LOG_HEIGHT_WEIGHT_BMI2,
    LINEAR_HEIGHT_WEIGHT,
)

#: Grid on which girths must grow with weight (the extrapolation check): heights
#: 145-205 cm, weights 40-200 kg, far beyond ANSUR's few heavy soldiers.
MONOTONE_GRID_HEIGHT_CM = np.linspace(145.0, 205.0, 13)
MONOTONE_GRID_WEIGHT_KG = np.linspace(40.0, 200.0, 81)


@dataclass(frozen=True)
class BodySample:
    """Bodies of one sex from one source: height, weight and some zones, in cm / kg."""

    source: str
    sex: Sex
    subject_ids: tuple[str, ...]
    height_cm: FloatArray
    weight_kg: FloatArray
    zones: tuple[Zone, ...]
    measurements_cm: FloatArray  # (n, len(zones))
    extra_cm: Mapping[str, FloatArray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.subject_ids)

    def column(self, zone: Zone) -> FloatArray:
        """Measured values of one zone, cm."""
        return self.measurements_cm[:, self.zones.index(zone)]

    def subset(self, index: Sequence[int] | npt.NDArray[np.integer[Any]]) -> BodySample:
        """The bodies at ``index``, in that order."""
        rows = np.asarray(index, dtype=np.intp)
        return BodySample(
            source=self.source,
            sex=self.sex,
            subject_ids=tuple(self.subject_ids[i] for i in rows),
            height_cm=self.height_cm[rows],
            weight_kg=self.weight_kg[rows],
            zones=self.zones,
            measurements_cm=self.measurements_cm[rows],
            extra_cm={name: values[rows] for name, values in self.extra_cm.items()},
        )


@dataclass(frozen=True)
class DataFileInfo:
    """Which file a model was fitted on: name, row count, sha256 (for reproducibility)."""

    name: str
    rows: int
    sha256: str


def _read_table(path: Path, columns: Sequence[str]) -> tuple[dict[str, list[str]], DataFileInfo]:
    """Read named columns of a CSV file as text; column names are matched caselessly."""
    if not path.is_file():
        raise InputError(
            f"data file {path} not found; point --data-dir / FITROOM_DATA_DIR at the folder "
            f"holding {ANTHROPOMETRY_FOLDER}/",
            path=str(path),
        )
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise InputError(f"data file {path} is empty", path=str(path))
    position = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [name for name in columns if name.lower() not in position]
    if missing:
        raise InputError(
            f"data file {path} lacks column(s) {', '.join(missing)}",
            path=str(path),
            missing_columns=missing,
        )
    values: dict[str, list[str]] = {name: [] for name in columns}
    rows = 0
    for row in reader:
        if not row:
            continue
        rows += 1
        for name in columns:
            index = position[name.lower()]
            values[name].append(row[index].strip() if index < len(row) else "")
    info = DataFileInfo(path.name, rows, hashlib.sha256(raw).hexdigest())
    return values, info


def _positive_numbers(path: Path, column: str, texts: list[str], scale: float) -> FloatArray:
    """Column as floats divided by ``scale``; InputError naming the row if one is bad."""
    numbers = np.empty(len(texts), dtype=np.float64)
    for i, text in enumerate(texts):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number > 0):
            # Row numbers count the header as row 1, as a spreadsheet shows them.
            raise InputError(
                f"{path.name} row {i + 2} column {column}: {text!r} is not a positive number",
                path=str(path),
                row=i + 2,
                column=column,
            )
        numbers[i] = number / scale
    return numbers


def load_ansur(data_dir: Path) -> tuple[dict[Sex, BodySample], list[DataFileInfo]]:
    """ANSUR II bodies per sex, converted to cm and kg."""
    samples: dict[Sex, BodySample] = {}
    infos: list[DataFileInfo] = []
    zone_columns = [ANSUR_ZONE_COLUMNS[zone] for zone in ESTIMATED_ZONES]
    columns = [ANSUR_SUBJECT_COLUMN, ANSUR_STATURE_COLUMN, ANSUR_WEIGHT_COLUMN, *zone_columns]
    for sex, file_name in ANSUR_FILES.items():
        path = Path(data_dir) / ANTHROPOMETRY_FOLDER / file_name
        table, info = _read_table(path, columns)
        measurements = np.column_stack(
            [_positive_numbers(path, c, table[c], ANSUR_MM_PER_CM) for c in zone_columns]
        )
        samples[sex] = BodySample(
            source="ANSUR II",
            sex=sex,
            subject_ids=tuple(table[ANSUR_SUBJECT_COLUMN]),
            height_cm=_positive_numbers(
                path, ANSUR_STATURE_COLUMN, table[ANSUR_STATURE_COLUMN], ANSUR_MM_PER_CM
            ),
            weight_kg=_positive_numbers(
                path, ANSUR_WEIGHT_COLUMN, table[ANSUR_WEIGHT_COLUMN], ANSUR_WEIGHT_UNITS_PER_KG
            ),
            zones=ESTIMATED_ZONES,
            measurements_cm=measurements,
        )
        infos.append(info)
    return samples, infos


def load_bdims(data_dir: Path) -> tuple[dict[Sex, BodySample], DataFileInfo]:
    """bdims bodies per sex (chest, natural waist, hip; navel girth as an extra)."""
    path = Path(data_dir) / ANTHROPOMETRY_FOLDER / BDIMS_FILE
    zones = tuple(BDIMS_ZONE_COLUMNS)
    columns = ["sex", "hgt", "wgt", *BDIMS_ZONE_COLUMNS.values(), BDIMS_NAVEL_GIRTH_COLUMN]
    table, info = _read_table(path, columns)
    sexes = np.array(table["sex"])
    unknown_codes = sorted(set(sexes) - set(BDIMS_SEX_CODE.values()))
    if unknown_codes:
        raise InputError(
            f"{path.name} column sex has codes {unknown_codes}; expected 1 (male) or 0 (female)",
            path=str(path),
            column="sex",
        )
    measurements = np.column_stack(
        [_positive_numbers(path, c, table[c], 1.0) for c in BDIMS_ZONE_COLUMNS.values()]
    )
    height_cm = _positive_numbers(path, "hgt", table["hgt"], 1.0)
    weight_kg = _positive_numbers(path, "wgt", table["wgt"], 1.0)
    navel_cm = _positive_numbers(
        path, BDIMS_NAVEL_GIRTH_COLUMN, table[BDIMS_NAVEL_GIRTH_COLUMN], 1.0
    )
    samples: dict[Sex, BodySample] = {}
    for sex, code in BDIMS_SEX_CODE.items():
        rows = np.flatnonzero(sexes == code)
        samples[sex] = BodySample(
            source="bdims",
            sex=sex,
            subject_ids=tuple(f"bdims-{i + 1}" for i in rows),
            height_cm=height_cm[rows],
            weight_kg=weight_kg[rows],
            zones=zones,
            measurements_cm=measurements[rows],
            extra_cm={BDIMS_NAVEL_GIRTH_COLUMN: navel_cm[rows]},
        )
    return samples, info


def split_by_subject(
    sample: BodySample, test_fraction: float, seed: int
) -> tuple[BodySample, BodySample]:
    """(train, test): a seeded random share of *subjects* goes to test.

    All rows of a subject land on the same side (ANSUR II has one row per subject,
    but the split does not rely on it).
    """
    if not 0.0 < test_fraction < 1.0:
        raise InputError(f"test_fraction={test_fraction} must be between 0 and 1")
    subjects = sorted(set(sample.subject_ids))
    order = np.random.default_rng(seed).permutation(len(subjects))
    n_test = round(len(subjects) * test_fraction)
    test_subjects = {subjects[i] for i in order[:n_test]}
    is_test = np.array([s in test_subjects for s in sample.subject_ids])
    return sample.subset(np.flatnonzero(~is_test)), sample.subset(np.flatnonzero(is_test))


@dataclass(frozen=True)
class FittedRegression:
    """Least-squares fit of one form on one sex: coefficients and residual covariance."""

    form: ModelForm
    zones: tuple[Zone, ...]
    coefficients: FloatArray  # (n_features, n_zones)
    residual_cov: FloatArray  # (n_zones, n_zones), in target space, dof-corrected
    n_train: int

    def predict_cm(self, height_cm: FloatArray, weight_kg: FloatArray | None) -> FloatArray:
        """Point estimates (n, n_zones) in cm: the median for log forms."""
        centre = design_matrix(self.form.features, height_cm, weight_kg) @ self.coefficients
        return np.exp(centre) if self.form.target == "log_cm" else centre


def fit_regression(form: ModelForm, sample: BodySample) -> FittedRegression:
    """Ordinary least squares of every zone on the form's regressors (one shared X)."""
    x = design_matrix(form.features, sample.height_cm, sample.weight_kg)
    y = np.log(sample.measurements_cm) if form.target == "log_cm" else sample.measurements_cm
    n, p = x.shape
    if n <= p + 1:
        raise InputError(f"{n} bodies are too few to fit {p} coefficients per zone")
    coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ coefficients
    residual_cov = residuals.T @ residuals / (n - p)
    return FittedRegression(
        form=form,
        zones=sample.zones,
        coefficients=coefficients,
        residual_cov=residual_cov,
        n_train=n,
    )


def girths_monotone_in_weight(regression: FittedRegression) -> bool:
    """True if every girth grows with weight at every height of the check grid."""
    heights, weights = np.meshgrid(MONOTONE_GRID_HEIGHT_CM, MONOTONE_GRID_WEIGHT_KG)
    predicted = regression.predict_cm(heights.ravel(), weights.ravel()).reshape(
        *weights.shape, len(regression.zones)
    )
    girth_index = [i for i, zone in enumerate(regression.zones) if zone in GIRTH_ZONES]
    # Axis 0 runs over weight: each step must increase every girth.
    return bool((np.diff(predicted[:, :, girth_index], axis=0) > 0).all())


@dataclass(frozen=True)
class CandidateScore:
    """One candidate form on one sex: MAE per zone held-out and on bdims (cm)."""

    form: str
    sex: Sex
    heldout_mae_cm: dict[Zone, float]
    bdims_mae_cm: dict[Zone, float]
    girths_monotone_in_weight: bool

    @property
    def heldout_mean_mae_cm(self) -> float:
        return float(np.mean(list(self.heldout_mae_cm.values())))

    @property
    def bdims_mean_mae_cm(self) -> float:
        return float(np.mean(list(self.bdims_mae_cm.values())))


def score_candidate(
    form: ModelForm, train: BodySample, test: BodySample, bdims: BodySample
) -> CandidateScore:
    """Fit ``form`` on train; MAE on test and on bdims (zones bdims has)."""
    regression = fit_regression(form, train)
    heldout = np.abs(regression.predict_cm(test.height_cm, test.weight_kg) - test.measurements_cm)
    predicted_bdims = regression.predict_cm(bdims.height_cm, bdims.weight_kg)
    bdims_mae = {
        zone: float(np.abs(predicted_bdims[:, train.zones.index(zone)] - bdims.column(zone)).mean())
        for zone in bdims.zones
    }
    return CandidateScore(
        form=form.name,
        sex=train.sex,
        heldout_mae_cm={z: float(m) for z, m in zip(train.zones, heldout.mean(0), strict=True)},
        bdims_mae_cm=bdims_mae,
        girths_monotone_in_weight=girths_monotone_in_weight(regression),
    )


@dataclass(frozen=True)
class ZoneMetrics:
    """Quality of the shipped model for one zone and sex (cm; shares in 0..1)."""

    sex: Sex
    zone: Zone
    n_test: int
    mae_cm: float  # height + weight known, held-out ANSUR II
    mae_height_only_cm: float  # weight unknown
    mae_given_chest_cm: float | None  # height + weight + true chest known (None for chest)
    within_1sd: float  # share of held-out bodies with |true - estimate| <= 1 sd
    within_2sd: float
    bdims_n: int | None = None
    bdims_mae_cm: float | None = None
    bdims_bias_cm: float | None = None  # mean(estimate - true)
    bdims_within_1sd: float | None = None
    bdims_within_2sd: float | None = None


@dataclass(frozen=True)
class WaistDefinitionCheck:
    """Waist estimates on all of bdims, before and after the natural-waist conversion.

    "Before" is the ANSUR II navel-level model, scored against bdims natural waist
    and navel girth; "after" is the shipped model (in-sample for the conversion,
    which is fitted on these bodies; the cross-validated figures are WaistCvScore).
    """

    sex: Sex
    navel_model_bias_vs_natural_waist_cm: float
    navel_model_bias_vs_navel_girth_cm: float
    navel_model_mae_vs_navel_girth_cm: float
    shipped_bias_vs_natural_waist_cm: float


@dataclass(frozen=True)
class TrainingResult:
    """Everything the training run produced: models, candidate scores, metrics, data."""

    seed: int
    test_fraction: float
    chosen_form: ModelForm
    models: dict[Sex, dict[str, FittedRegression]]  # shipped: natural waist
    navel_models: dict[Sex, dict[str, FittedRegression]]  # ANSUR II waist, before conversion
    waist_conversions: dict[Sex, WaistConversion]
    waist_cv_folds: int
    waist_cv: list[WaistCvScore]  # every WAIST_METHODS entry, per sex
    shipped_waist_cv: list[WaistCvScore]  # the shipped procedure through the runtime
    candidates: list[CandidateScore]
    metrics: list[ZoneMetrics]
    waist_checks: list[WaistDefinitionCheck]
    n_train: dict[Sex, int]
    n_test: dict[Sex, int]
    n_bdims: dict[Sex, int]
    data_files: list[DataFileInfo]


def _estimate_all(
    estimator: MeasurementEstimator,
    sample: BodySample,
    *,
    use_weight: bool,
    known_zone: Zone | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Runtime estimates (value, sd) in cm for every body of ``sample``, zone order.

    A column that was given as known is NaN.
    """
    values = np.full((len(sample), len(estimator.zones)), np.nan)
    sds = np.full_like(values, np.nan)
    for i in range(len(sample)):
        known = None if known_zone is None else {known_zone: float(sample.column(known_zone)[i])}
        estimates = estimator.estimate(
            height_cm=float(sample.height_cm[i]),
            sex=sample.sex,
            weight_kg=float(sample.weight_kg[i]) if use_weight else None,
            known_cm=known,
        )
        for j, zone in enumerate(estimator.zones):
            if zone in estimates:
                values[i, j] = estimates[zone].value_cm
                sds[i, j] = estimates[zone].sd_cm
    return values, sds


def evaluate_estimator(
    estimator: MeasurementEstimator,
    test: BodySample,
    bdims: BodySample | None,
    *,
    heldout_estimator: MeasurementEstimator | None = None,
) -> list[ZoneMetrics]:
    """Metrics of the runtime estimator on held-out ANSUR II bodies and on bdims.

    ``heldout_estimator`` (default ``estimator``) is scored on the ANSUR II bodies:
    ANSUR II has no natural waist, so its held-out waist is scored with the
    navel-level model before conversion, against ANSUR's navel waist.
    """
    on_ansur = heldout_estimator or estimator
    value, sd = _estimate_all(on_ansur, test, use_weight=True)
    value_h, _ = _estimate_all(on_ansur, test, use_weight=False)
    value_c, _ = _estimate_all(on_ansur, test, use_weight=True, known_zone=Zone.chest)
    if bdims is not None:
        bdims_value, bdims_sd = _estimate_all(estimator, bdims, use_weight=True)
    metrics: list[ZoneMetrics] = []
    for j, zone in enumerate(estimator.zones):
        truth = test.column(zone)
        error = value[:, j] - truth
        bdims_fields: dict[str, Any] = {}
        if bdims is not None and zone in bdims.zones:
            bdims_error = bdims_value[:, j] - bdims.column(zone)
            bdims_fields = {
                "bdims_n": len(bdims),
                "bdims_mae_cm": float(np.abs(bdims_error).mean()),
                "bdims_bias_cm": float(bdims_error.mean()),
                "bdims_within_1sd": float((np.abs(bdims_error) <= bdims_sd[:, j]).mean()),
                "bdims_within_2sd": float((np.abs(bdims_error) <= 2 * bdims_sd[:, j]).mean()),
            }
        metrics.append(
            ZoneMetrics(
                sex=test.sex,
                zone=zone,
                n_test=len(test),
                mae_cm=float(np.abs(error).mean()),
                mae_height_only_cm=float(np.abs(value_h[:, j] - truth).mean()),
                mae_given_chest_cm=None
                if zone is Zone.chest
                else float(np.abs(value_c[:, j] - truth).mean()),
                within_1sd=float((np.abs(error) <= sd[:, j]).mean()),
                within_2sd=float((np.abs(error) <= 2 * sd[:, j]).mean()),
                **bdims_fields,
            )
        )
    return metrics


def check_waist_definition(
    navel_estimator: MeasurementEstimator, estimator: MeasurementEstimator, bdims: BodySample
) -> WaistDefinitionCheck:
    """bdims waist errors of the navel-level model and of the shipped natural-waist one."""
    waist = estimator.zones.index(Zone.waist)
    navel_model_cm = _estimate_all(navel_estimator, bdims, use_weight=True)[0][:, waist]
    shipped_cm = _estimate_all(estimator, bdims, use_weight=True)[0][:, waist]
    natural = bdims.column(Zone.waist)
    navel_girth = bdims.extra_cm[BDIMS_NAVEL_GIRTH_COLUMN]
    return WaistDefinitionCheck(
        sex=bdims.sex,
        navel_model_bias_vs_natural_waist_cm=float((navel_model_cm - natural).mean()),
        navel_model_bias_vs_navel_girth_cm=float((navel_model_cm - navel_girth).mean()),
        navel_model_mae_vs_navel_girth_cm=float(np.abs(navel_model_cm - navel_girth).mean()),
        shipped_bias_vs_natural_waist_cm=float((shipped_cm - natural).mean()),
    )


# ------------------------------------------------------------------ natural waist


def _log_bmi_centred(sample: BodySample) -> FloatArray:
    """log(BMI) - log(25) for every body (BMI in kg/m^2)."""
    log_bmi = np.log(sample.weight_kg) - 2.0 * np.log(sample.height_cm / 100.0)
    return np.asarray(log_bmi - math.log(BMI_CENTRE_KG_M2), dtype=np.float64)


def _ols(x: FloatArray, y: FloatArray) -> tuple[FloatArray, float, FloatArray]:
    """Least squares: (coefficients, dof-corrected residual variance, standard errors)."""
    n, p = x.shape
    if n <= p:
        raise InputError(f"{n} bodies are too few to fit {p} coefficients")
    coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ coefficients
    residual_var = float(residuals @ residuals) / (n - p)
    standard_errors = np.sqrt(residual_var * np.diag(np.linalg.inv(x.T @ x)))
    return coefficients, residual_var, standard_errors


def _navel_waist_log_cm(navel_model: FittedRegression, sample: BodySample) -> FloatArray:
    """log of the ANSUR II navel-level waist model's median for every body."""
    waist = navel_model.zones.index(Zone.waist)
    median_cm = navel_model.predict_cm(sample.height_cm, sample.weight_kg)[:, waist]
    return np.asarray(np.log(median_cm), dtype=np.float64)


@dataclass(frozen=True)
class WaistConversion:
    """Natural waist from the ANSUR II navel-level waist model, for one sex.

    log(natural waist cm) = log(navel-model median) + log_ratio + residual_sd_scale * r,
    with r the ANSUR II navel-waist residual: the ratio moves the level, the scale
    sets the spread to the one bdims shows, and r keeps ANSUR's correlations with
    the other zones, so a known chest or hip still moves the waist estimate.
    """

    sex: Sex
    n: int  # bdims bodies it was fitted on
    log_ratio: float
    log_ratio_se: float
    residual_sd_scale: float
    natural_residual_sd_log: float  # bdims natural waist about the converted model
    navel_residual_sd_log: float  # ANSUR II navel waist about the navel model
    log_bmi_slope: float  # of the same fit with a (log BMI - log 25) term; not used
    log_bmi_slope_se: float

    @property
    def ratio(self) -> float:
        """Natural waist / ANSUR navel-model waist at the same height and weight."""
        return math.exp(self.log_ratio)


def fit_waist_conversion(navel_model: FittedRegression, bdims: BodySample) -> WaistConversion:
    """Per-sex ratio (and spread) of bdims natural waist to the ANSUR navel-waist model.

    The ratio is a constant: a slope on log BMI is fitted too and recorded, but it is
    not robust on bdims (|slope| < 2 se for both sexes) and did not help in CV.
    """
    offset_log = np.log(bdims.column(Zone.waist)) - _navel_waist_log_cm(navel_model, bdims)
    n = len(offset_log)
    (log_ratio,), residual_var, (log_ratio_se,) = _ols(np.ones((n, 1)), offset_log)
    slope_x = np.column_stack([np.ones(n), _log_bmi_centred(bdims)])
    slope_coefficients, _, slope_se = _ols(slope_x, offset_log)
    waist = navel_model.zones.index(Zone.waist)
    navel_sd = math.sqrt(float(navel_model.residual_cov[waist, waist]))
    natural_sd = math.sqrt(residual_var)
    return WaistConversion(
        sex=bdims.sex,
        n=n,
        log_ratio=float(log_ratio),
        log_ratio_se=float(log_ratio_se),
        residual_sd_scale=natural_sd / navel_sd,
        natural_residual_sd_log=natural_sd,
        navel_residual_sd_log=navel_sd,
        log_bmi_slope=float(slope_coefficients[1]),
        log_bmi_slope_se=float(slope_se[1]),
    )


def apply_waist_conversion(
    navel_models: Mapping[str, FittedRegression], conversion: WaistConversion
) -> dict[str, FittedRegression]:
    """The models of one sex with their waist turned into the natural waist.

    The ratio adds ``log_ratio`` to the waist intercept (log-weight exponent, and so
    the rise with weight, unchanged). The residual given height and weight, r, becomes
    k r (k = ``residual_sd_scale``): covariance D S D with D = diag(1.., k, ..1). Given
    height only, the residual is b_w (log w - E[log w | h]) + r, and only r is
    rescaled, so that model gets the same change D S D - S added.
    """
    height_weight = navel_models[HEIGHT_WEIGHT_MODEL]
    zones = height_weight.zones
    waist = zones.index(Zone.waist)
    scale = np.ones(len(zones))
    scale[waist] = conversion.residual_sd_scale
    covariance_change = height_weight.residual_cov * (np.outer(scale, scale) - 1.0)
    converted: dict[str, FittedRegression] = {}
    for key, regression in navel_models.items():
        if regression.zones != zones or "const" not in regression.form.features:
            raise InputError(f"model {key} has other zones or no intercept; cannot convert")
        coefficients = regression.coefficients.copy()
        coefficients[regression.form.features.index("const"), waist] += conversion.log_ratio
        converted[key] = replace(
            regression,
            coefficients=coefficients,
            residual_cov=regression.residual_cov + covariance_change,
        )
    return converted


#: Ways to get the natural waist, compared by cross-validation on bdims natural waist.
WAIST_METHODS: dict[str, str] = {
    "ansur_navel_as_is": "ANSUR II navel-waist model, no conversion (the previous model)",
    "same_body_ratio": "ANSUR navel model x constant bdims wai_gi / nav_gi (same bodies); "
    "variance: ANSUR waist + the ratio's residual",
    "same_body_ratio_log_bmi": "as same_body_ratio, the log ratio linear in log BMI",
    "bdims_direct": "log(wai_gi) = b0 + b1 log(height_cm) + b2 log(weight_kg) fitted on "
    "bdims alone",
    "ansur_calibrated_ratio": "ANSUR navel model x constant ratio fitted to bdims wai_gi "
    "at the same height and weight; sd from bdims (shipped)",
    "ansur_calibrated_ratio_log_bmi": "as ansur_calibrated_ratio, the log ratio linear in log BMI",
}
CHOSEN_WAIST_METHOD = "ansur_calibrated_ratio"


def _predict_natural_waist_log(
    method: str, navel_model: FittedRegression, train: BodySample, test: BodySample
) -> tuple[FloatArray, FloatArray]:
    """(mean, sd) of log natural waist for ``test`` by ``method``, fitted on ``train``."""
    if method not in WAIST_METHODS:
        raise InputError(f"unknown waist method {method!r}; known: {', '.join(WAIST_METHODS)}")
    waist = navel_model.zones.index(Zone.waist)
    navel_var = float(navel_model.residual_cov[waist, waist])
    navel_test = _navel_waist_log_cm(navel_model, test)
    if method == "ansur_navel_as_is":
        return navel_test, np.full(len(test), math.sqrt(navel_var))
    natural_train = np.log(train.column(Zone.waist))
    if method == "bdims_direct":
        features = LOG_HEIGHT_WEIGHT.features
        coefficients, residual_var, _ = _ols(
            design_matrix(features, train.height_cm, train.weight_kg), natural_train
        )
        mean = design_matrix(features, test.height_cm, test.weight_kg) @ coefficients
        return mean, np.full(len(test), math.sqrt(residual_var))

    def ratio_x(sample: BodySample) -> FloatArray:
        if method.endswith("_log_bmi"):
            return np.column_stack([np.ones(len(sample)), _log_bmi_centred(sample)])
        return np.ones((len(sample), 1))

    if method.startswith("same_body_ratio"):
        # Same-body ratio natural / navel girth; its residual adds to ANSUR's variance.
        offset = natural_train - np.log(train.extra_cm[BDIMS_NAVEL_GIRTH_COLUMN])
        coefficients, residual_var, _ = _ols(ratio_x(train), offset)
        sd = math.sqrt(navel_var + residual_var)
    else:  # ansur_calibrated_ratio*: natural waist / ANSUR navel-model median
        offset = natural_train - _navel_waist_log_cm(navel_model, train)
        coefficients, residual_var, _ = _ols(ratio_x(train), offset)
        sd = math.sqrt(residual_var)
    return navel_test + ratio_x(test) @ coefficients, np.full(len(test), sd)


@dataclass(frozen=True)
class WaistCvScore:
    """Cross-validated natural-waist error of one method on one sex's bdims (cm)."""

    method: str
    sex: Sex
    n: int
    mae_cm: float
    bias_cm: float  # mean(estimate - true)
    within_1sd: float
    within_2sd: float
    mae_given_hip_cm: float | None = None  # runtime, true hip known (shipped only)


def _cv_folds(n: int, folds: int, seed: int) -> npt.NDArray[np.intp]:
    """Fold number of every body: a seeded permutation, dealt round-robin."""
    if not 2 <= folds <= n:
        raise InputError(f"{folds} folds cannot be made from {n} bodies")
    return np.asarray(np.random.default_rng(seed).permutation(n) % folds, dtype=np.intp)


def _waist_cv_score(
    method: str,
    sample: BodySample,
    value_cm: FloatArray,
    sd_cm: FloatArray,
    mae_given_hip_cm: float | None = None,
) -> WaistCvScore:
    error = value_cm - sample.column(Zone.waist)
    return WaistCvScore(
        method=method,
        sex=sample.sex,
        n=len(sample),
        mae_cm=float(np.abs(error).mean()),
        bias_cm=float(error.mean()),
        within_1sd=float((np.abs(error) <= sd_cm).mean()),
        within_2sd=float((np.abs(error) <= 2 * sd_cm).mean()),
        mae_given_hip_cm=mae_given_hip_cm,
    )


def waist_cv_scores(
    navel_model: FittedRegression, bdims: BodySample, *, folds: int, seed: int
) -> list[WaistCvScore]:
    """k-fold CV of every ``WAIST_METHODS`` entry on bdims natural waist (one sex).

    The ANSUR II navel model is fixed (fitted on ANSUR II only); each method's bdims
    part is refitted without the fold it is scored on.
    """
    fold = _cv_folds(len(bdims), folds, seed)
    scores: list[WaistCvScore] = []
    for method in WAIST_METHODS:
        mean_log = np.empty(len(bdims))
        sd_log = np.empty(len(bdims))
        for f in range(folds):
            held = np.flatnonzero(fold == f)
            mean_log[held], sd_log[held] = _predict_natural_waist_log(
                method, navel_model, bdims.subset(np.flatnonzero(fold != f)), bdims.subset(held)
            )
        value_cm = np.exp(mean_log)
        scores.append(_waist_cv_score(method, bdims, value_cm, value_cm * sd_log))
    return scores


def shipped_waist_cv(
    navel_models: Mapping[Sex, Mapping[str, FittedRegression]],
    bdims: Mapping[Sex, BodySample],
    *,
    folds: int,
    seed: int,
) -> list[WaistCvScore]:
    """The shipped procedure cross-validated through the runtime, per sex.

    Per fold: fit the conversion without the fold, convert, build the runtime
    estimator, estimate the fold's natural waist from height and weight, and again
    with the true hip known (which tests that ANSUR's covariance, with the rescaled
    waist residual, conditions the natural waist well).
    """
    fold = {sex: _cv_folds(len(bdims[sex]), folds, seed) for sex in Sex}
    value = {sex: np.empty(len(bdims[sex])) for sex in Sex}
    sd = {sex: np.empty(len(bdims[sex])) for sex in Sex}
    value_given_hip = {sex: np.empty(len(bdims[sex])) for sex in Sex}
    for f in range(folds):
        models = {
            sex: apply_waist_conversion(
                navel_models[sex],
                fit_waist_conversion(
                    navel_models[sex][HEIGHT_WEIGHT_MODEL],
                    bdims[sex].subset(np.flatnonzero(fold[sex] != f)),
                ),
            )
            for sex in Sex
        }
        estimator = MeasurementEstimator.from_document(
            _runtime_document(models), source=f"waist CV fold {f}"
        )
        waist = estimator.zones.index(Zone.waist)
        for sex in Sex:
            held = np.flatnonzero(fold[sex] == f)
            values, sds = _estimate_all(estimator, bdims[sex].subset(held), use_weight=True)
            value[sex][held], sd[sex][held] = values[:, waist], sds[:, waist]
            given_hip, _ = _estimate_all(
                estimator, bdims[sex].subset(held), use_weight=True, known_zone=Zone.hip
            )
            value_given_hip[sex][held] = given_hip[:, waist]
    return [
        _waist_cv_score(
            CHOSEN_WAIST_METHOD,
            bdims[sex],
            value[sex],
            sd[sex],
            mae_given_hip_cm=float(
                np.abs(value_given_hip[sex] - bdims[sex].column(Zone.waist)).mean()
            ),
        )
        for sex in Sex
    ]


def train_measurement_estimator(
    data_dir: Path,
    *,
    seed: int = DEFAULT_SEED,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    chosen_form: ModelForm = LOG_HEIGHT_WEIGHT,
    candidate_forms: Sequence[ModelForm] = CANDIDATE_FORMS,
    waist_cv_folds: int = DEFAULT_WAIST_CV_FOLDS,
) -> TrainingResult:
    """Fit, compare and evaluate; the shipped models are the fits on the 80 % train split.

    Shipping the train-split fit (not a refit on all bodies) keeps the reported
    held-out metrics exactly those of the shipped file; with >1,500 bodies per sex
    and 3 coefficients per zone the refit would change almost nothing. The waist is
    then converted to the natural waist with a conversion fitted on all of bdims
    (its cross-validated error is reported separately).
    """
    if chosen_form.target != SUPPORTED_TARGET:
        raise InputError(
            f"form {chosen_form.name} predicts {chosen_form.target}; the runtime reads "
            f"{SUPPORTED_TARGET} models only"
        )
    ansur, data_files = load_ansur(data_dir)
    bdims, bdims_info = load_bdims(data_dir)
    data_files.append(bdims_info)

    splits = {sex: split_by_subject(ansur[sex], test_fraction, seed) for sex in Sex}
    candidates = [
        score_candidate(form, *splits[sex], bdims[sex]) for sex in Sex for form in candidate_forms
    ]
    navel_models = {
        sex: {
            HEIGHT_WEIGHT_MODEL: fit_regression(chosen_form, splits[sex][0]),
            HEIGHT_ONLY_MODEL: fit_regression(LOG_HEIGHT_ONLY, splits[sex][0]),
        }
        for sex in Sex
    }
    # Natural waist (ISO 8559-1 5.3.10): ANSUR navel model x a ratio fitted on bdims.
    waist_conversions = {
        sex: fit_waist_conversion(navel_models[sex][HEIGHT_WEIGHT_MODEL], bdims[sex]) for sex in Sex
    }
    models = {sex: apply_waist_conversion(navel_models[sex], waist_conversions[sex]) for sex in Sex}
    waist_cv = [
        score
        for sex in Sex
        for score in waist_cv_scores(
            navel_models[sex][HEIGHT_WEIGHT_MODEL], bdims[sex], folds=waist_cv_folds, seed=seed
        )
    ]
    estimator = MeasurementEstimator.from_document(
        _runtime_document(models), source="freshly fitted models"
    )
    navel_estimator = MeasurementEstimator.from_document(
        _runtime_document(navel_models), source="freshly fitted navel-waist models"
    )
    metrics: list[ZoneMetrics] = []
    for sex in Sex:
        metrics.extend(
            evaluate_estimator(
                estimator, splits[sex][1], bdims[sex], heldout_estimator=navel_estimator
            )
        )
    return TrainingResult(
        seed=seed,
        test_fraction=test_fraction,
        chosen_form=chosen_form,
        models=models,
        navel_models=navel_models,
        waist_conversions=waist_conversions,
        waist_cv_folds=waist_cv_folds,
        waist_cv=waist_cv,
        shipped_waist_cv=shipped_waist_cv(navel_models, bdims, folds=waist_cv_folds, seed=seed),
        candidates=candidates,
        metrics=metrics,
        waist_checks=[
            check_waist_definition(navel_estimator, estimator, bdims[sex]) for sex in Sex
        ],
        n_train={sex: len(splits[sex][0]) for sex in Sex},
        n_test={sex: len(splits[sex][1]) for sex in Sex},
        n_bdims={sex: len(bdims[sex]) for sex in Sex},
        data_files=data_files,
    )


def _significant(values: FloatArray, digits: int = 8) -> list[float]:
    return [float(f"{value:.{digits}g}") for value in values]


def _regression_document(regression: FittedRegression) -> dict[str, Any]:
    # 8 significant digits: far below the residual spread, and keeps the file small.
    return {
        "form": regression.form.name,
        "description": regression.form.description,
        "features": list(regression.form.features),
        "coefficients": {
            zone.value: _significant(regression.coefficients[:, j])
            for j, zone in enumerate(regression.zones)
        },
        "residual_cov_log": [_significant(row) for row in regression.residual_cov],
        "residual_sd_log": np.sqrt(np.diag(regression.residual_cov)).round(5).tolist(),
        "n_train": regression.n_train,
    }


def _runtime_document(models: Mapping[Sex, Mapping[str, FittedRegression]]) -> dict[str, Any]:
    """The part of the model file that the runtime reads."""
    zones = next(iter(models[Sex.male].values())).zones
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "target": SUPPORTED_TARGET,
        "zones": [zone.value for zone in zones],
        "models": {
            sex.value: {key: _regression_document(reg) for key, reg in per_sex.items()}
            for sex, per_sex in models.items()
        },
    }


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def choice_notes(result: TrainingResult) -> str:
    """Why the chosen form, with the comparison numbers of this run."""
    lines = []
    for sex in Sex:
        scores = [c for c in result.candidates if c.sex is sex]
        summary = "; ".join(
            f"{c.form}: held-out {c.heldout_mean_mae_cm:.2f}, bdims {c.bdims_mean_mae_cm:.2f}, "
            f"girths monotone in weight {'yes' if c.girths_monotone_in_weight else 'NO'}"
            for c in scores
        )
        lines.append(f"{sex.value} mean MAE cm over zones: {summary}.")
    return (
        f"Chosen form: {result.chosen_form.name} ({result.chosen_form.description}). "
        + " ".join(lines)
        + " The log forms tie held-out and on bdims (within about 0.1 cm); the plain "
        "linear form is a little worse on both and gives every body the same spread in cm. "
        "So the smallest log form wins: three coefficients per zone, a power law in height "
        "and weight whose girths grow with weight everywhere (positive log-weight "
        "coefficients), which extrapolates sensibly to the heavy and tall bodies ANSUR II "
        "(young soldiers) has few of, with a spread that grows with size. The BMI^2 term "
        "buys nothing and is a curvature fitted to soldiers that we would rather not "
        "extrapolate. Point estimates are medians exp(mean log); sd_cm = value * log-sd; "
        "the sd does not widen off-sample (parameter uncertainty is negligible with this "
        "many bodies, and form error off-sample is not measured). Known zones condition "
        "the others by Gaussian conditioning on the log residuals. Caveat: bdims female "
        "chest is taken above the breast, ANSUR at bust point, so female chest reads high "
        "on bdims. Shipped models are the fits on the train split, so the metrics are "
        "those of this file. " + waist_notes(result)
    )


def _find_waist_score(scores: Sequence[WaistCvScore], method: str, sex: Sex) -> WaistCvScore:
    return next(s for s in scores if s.method == method and s.sex is sex)


def waist_notes(result: TrainingResult) -> str:
    """Why the natural-waist conversion, with the cross-validation numbers of this run."""
    cv = result.waist_cv
    per_sex = " ".join(
        f"{sex.value}: "
        + "; ".join(f"{s.method} {s.mae_cm:.2f} ({s.bias_cm:+.2f})" for s in cv if s.sex is sex)
        + "."
        for sex in Sex
    )
    conversions = "; ".join(
        f"{c.sex.value} ratio {c.ratio:.3f} (se of log {c.log_ratio_se:.4f}, n {c.n}), "
        f"sd scale {c.residual_sd_scale:.2f}, log-BMI slope {c.log_bmi_slope:+.3f} "
        f"+/- {c.log_bmi_slope_se:.3f}"
        for c in result.waist_conversions.values()
    )
    same_body = {sex: _find_waist_score(cv, "same_body_ratio", sex) for sex in Sex}
    checks = {w.sex: w for w in result.waist_checks}
    slopes_within_2se = all(
        abs(c.log_bmi_slope) < 2 * c.log_bmi_slope_se for c in result.waist_conversions.values()
    )
    return (
        "Waist is the natural waist (ISO 8559-1 5.3.10, EN 13402-1: narrowest girth between "
        "the lowest rib and the hip bone), which size charts mean; ANSUR II measures its "
        "waist at the navel. Shipped waist = ANSUR II navel-waist model x a per-sex ratio "
        "fitted to bdims natural waist (wai_gi) at the same height and weight, with the "
        f"ANSUR waist residual rescaled to bdims' spread ({conversions}). Chosen by "
        f"{result.waist_cv_folds}-fold CV on bdims natural waist, MAE (bias) cm: "
        f"{per_sex} The same-body ratio wai_gi / nav_gi (measured on the same people) "
        "assumes bdims navel girth is ANSUR's navel waist; but the ANSUR navel-waist "
        "model reads "
        + ", ".join(
            f"{checks[sex].navel_model_bias_vs_navel_girth_cm:+.1f} cm ({sex.value})" for sex in Sex
        )
        + " against bdims navel girth, so that ratio misses by "
        + ", ".join(f"{same_body[sex].bias_cm:+.1f} cm ({sex.value})" for sex in Sex)
        + ". Fitting the waist on bdims alone ties the calibrated ratio but re-estimates "
        "the height and weight exponents from about 250 bodies and drops ANSUR's "
        "covariance with the other zones; the calibrated ratio keeps ANSUR's exponents "
        "(waist rises with weight everywhere) and covariance (correlations) and fits two "
        "numbers per sex. A log-BMI slope in the ratio is "
        + ("within" if slopes_within_2se else "NOT within")
        + " 2 se of zero for both sexes and does not clearly improve CV, so the ratio is "
        "constant. Held-out ANSUR II has no natural "
        "waist: its waist rows score the navel-level model before conversion against "
        "ANSUR's navel waist; bdims waist figures of the shipped model are in-sample for "
        "the two conversion numbers (the CV figures above are not). The conversion rests "
        "on one population of 507 active adults."
    )


def build_model_document(result: TrainingResult, *, command: str) -> dict[str, Any]:
    """The model.json content: runtime part plus provenance, metrics and notes."""
    document = _runtime_document(result.models)
    document["ansur_columns"] = {
        "height_cm": f"{ANSUR_STATURE_COLUMN} / 10 (mm)",
        "weight_kg": f"{ANSUR_WEIGHT_COLUMN} / 10 (0.1 kg units)",
        **{zone.value: f"{col} / 10 (mm)" for zone, col in ANSUR_ZONE_COLUMNS.items()},
    }
    document["training"] = {
        "command": command,
        "data": "ANSUR II 2012 public release (US Army Natick); check set bdims (Heinz 2003)",
        "data_files": [
            {"name": f.name, "rows": f.rows, "sha256": f.sha256} for f in result.data_files
        ],
        "seed": result.seed,
        "split": f"per sex, {1 - result.test_fraction:.0%}/{result.test_fraction:.0%} by "
        "subject, numpy default_rng(seed).permutation of sorted subject ids",
        "n_train": {sex.value: n for sex, n in result.n_train.items()},
        "n_test": {sex.value: n for sex, n in result.n_test.items()},
        "n_bdims": {sex.value: n for sex, n in result.n_bdims.items()},
    }
    document["metrics"] = {
        "units": "MAE and bias in cm; within_*sd are shares of bodies",
        "heldout": [
            _without_none(
                {
                    "sex": m.sex.value,
                    "zone": m.zone.value,
                    "n_test": m.n_test,
                    "mae_cm": _rounded(m.mae_cm),
                    "mae_height_only_cm": _rounded(m.mae_height_only_cm),
                    "mae_given_chest_cm": _rounded(m.mae_given_chest_cm),
                    "within_1sd": _rounded(m.within_1sd),
                    "within_2sd": _rounded(m.within_2sd),
                    "bdims_mae_cm": _rounded(m.bdims_mae_cm),
                    "bdims_bias_cm": _rounded(m.bdims_bias_cm),
                    "bdims_within_1sd": _rounded(m.bdims_within_1sd),
                    "bdims_within_2sd": _rounded(m.bdims_within_2sd),
                }
            )
            for m in result.metrics
        ],
        "candidates": [
            {
                "form": c.form,
                "sex": c.sex.value,
                "heldout_mae_cm": {z.value: round(v, 3) for z, v in c.heldout_mae_cm.items()},
                "bdims_mae_cm": {z.value: round(v, 3) for z, v in c.bdims_mae_cm.items()},
                "girths_monotone_in_weight": c.girths_monotone_in_weight,
            }
            for c in result.candidates
        ],
        "heldout_waist_reference": "ANSUR II has no natural waist: held-out waist metrics "
        "score the navel-level model before conversion (waist_definition."
        "navel_waist_coefficients) against ANSUR waistcircumference; bdims_* waist metrics "
        "score the shipped natural waist against bdims wai_gi, in-sample for the conversion",
        "waist_definition_check": [
            {
                "sex": w.sex.value,
                "navel_model_bias_vs_bdims_natural_waist_cm": round(
                    w.navel_model_bias_vs_natural_waist_cm, 2
                ),
                "navel_model_bias_vs_bdims_navel_girth_cm": round(
                    w.navel_model_bias_vs_navel_girth_cm, 2
                ),
                "navel_model_mae_vs_bdims_navel_girth_cm": round(
                    w.navel_model_mae_vs_navel_girth_cm, 2
                ),
                "shipped_bias_vs_bdims_natural_waist_cm": round(
                    w.shipped_bias_vs_natural_waist_cm, 2
                ),
            }
            for w in result.waist_checks
        ],
    }
    document["waist_definition"] = waist_definition_document(result)
    document["notes"] = choice_notes(result)
    return document


def _waist_cv_document(score: WaistCvScore) -> dict[str, Any]:
    return _without_none(
        {
            "method": score.method,
            "sex": score.sex.value,
            "n": score.n,
            "mae_cm": _rounded(score.mae_cm),
            "bias_cm": _rounded(score.bias_cm),
            "within_1sd": _rounded(score.within_1sd),
            "within_2sd": _rounded(score.within_2sd),
            "mae_given_hip_cm": _rounded(score.mae_given_hip_cm),
        }
    )


def waist_definition_document(result: TrainingResult) -> dict[str, Any]:
    """The record of what ``waist`` means in this model and how it was made."""
    waist = ESTIMATED_ZONES.index(Zone.waist)
    return {
        "zone": Zone.waist.value,
        "definition": "natural waist: ISO 8559-1:2017 5.3.10 / EN 13402-1, the narrowest "
        "girth between the lowest rib and the top of the hip bone (what size charts mean)",
        "ansur_column": f"{ANSUR_ZONE_COLUMNS[Zone.waist]} is taken at the omphalion "
        "(navel), larger than the natural waist; it is converted",
        "method": CHOSEN_WAIST_METHOD,
        "formula": "log(natural_waist_cm) = log(ANSUR II navel-waist median) + log_ratio; "
        "waist residual = residual_sd_scale x the ANSUR II waist residual, i.e. covariance "
        "D S D with D = diag(1, .., residual_sd_scale, .., 1) for height_weight, and the "
        "same change D S D - S added to height_only. Folded into models.*.coefficients "
        "and residual_cov_log, so the runtime needs nothing else",
        "data": f"bdims (Heinz et al. 2003) {BDIMS_ZONE_COLUMNS[Zone.waist]} (natural "
        "waist, cm) against the ANSUR II navel-waist model of this file at each bdims "
        "body's height and weight",
        "conversion": [
            {
                "sex": c.sex.value,
                "n": c.n,
                "ratio": round(c.ratio, 5),
                "log_ratio": float(f"{c.log_ratio:.8g}"),
                "log_ratio_se": round(c.log_ratio_se, 5),
                "residual_sd_scale": float(f"{c.residual_sd_scale:.8g}"),
                "natural_residual_sd_log": round(c.natural_residual_sd_log, 5),
                "navel_residual_sd_log": round(c.navel_residual_sd_log, 5),
                "log_bmi_slope_not_used": round(c.log_bmi_slope, 4),
                "log_bmi_slope_se": round(c.log_bmi_slope_se, 4),
            }
            for c in result.waist_conversions.values()
        ],
        "navel_waist_coefficients": {
            sex.value: {
                key: _significant(regression.coefficients[:, waist])
                for key, regression in per_sex.items()
            }
            for sex, per_sex in result.navel_models.items()
        },
        "cv": {
            "what": f"{result.waist_cv_folds}-fold cross-validation per sex on bdims natural "
            "waist (folds: numpy default_rng(seed).permutation(n) % folds); the ANSUR II "
            "navel model is fixed, each method's bdims part is refitted without the scored "
            "fold. 'shipped' reruns the shipped procedure through the runtime, also with "
            "the true hip known",
            "folds": result.waist_cv_folds,
            "seed": result.seed,
            "methods": WAIST_METHODS,
            "scores": [_waist_cv_document(s) for s in result.waist_cv],
            "shipped": [_waist_cv_document(s) for s in result.shipped_waist_cv],
        },
    }


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def metrics_markdown(result: TrainingResult) -> str:
    """Markdown tables: shipped model metrics, then the candidate comparison."""
    lines = [
        f"Held-out ANSUR II ({result.test_fraction:.0%} of subjects per sex, seed "
        f"{result.seed}; test n: "
        + ", ".join(f"{s.value} {n}" for s, n in result.n_test.items())
        + ") and bdims (n: "
        + ", ".join(f"{s.value} {n}" for s, n in result.n_bdims.items())
        + f"). Form: `{result.chosen_form.name}`. MAE in cm; 'within' = share of bodies whose "
        "true value lies within the estimate +/- 1 or 2 sd.",
        "",
        "| sex | zone | MAE h+w | MAE h only | MAE given chest | within 1 sd | within 2 sd "
        "| bdims MAE | bdims bias | bdims within 1 sd | bdims within 2 sd |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in result.metrics:
        lines.append(
            f"| {m.sex.value} | {m.zone.value} | {m.mae_cm:.2f} | {m.mae_height_only_cm:.2f} "
            f"| {_cell(m.mae_given_chest_cm, '.2f')} | {m.within_1sd:.0%} | {m.within_2sd:.0%} "
            f"| {_cell(m.bdims_mae_cm, '.2f')} | {_cell(m.bdims_bias_cm, '+.2f')} "
            f"| {_cell(m.bdims_within_1sd, '.0%')} | {_cell(m.bdims_within_2sd, '.0%')} |"
        )
    lines += [
        "",
        "Waist is the natural waist (ISO 8559-1 5.3.10). ANSUR II has none, so the "
        "ANSUR II columns of the waist rows score the navel-level model before conversion "
        "against ANSUR's navel waist; the bdims columns score the shipped natural waist "
        "against bdims `wai_gi`, in-sample for the conversion (cross-validated below).",
        "",
        "Waist definition check on all of bdims (cm): "
        + "; ".join(
            f"{w.sex.value}: ANSUR navel-level model bias vs natural waist "
            f"{w.navel_model_bias_vs_natural_waist_cm:+.1f}, vs navel girth "
            f"{w.navel_model_bias_vs_navel_girth_cm:+.1f} "
            f"(MAE {w.navel_model_mae_vs_navel_girth_cm:.1f}); shipped bias vs natural "
            f"waist {w.shipped_bias_vs_natural_waist_cm:+.2f}"
            for w in result.waist_checks
        )
        + ".",
        "",
        *_waist_markdown(result),
        "",
        "Candidate forms (MAE cm; held-out ANSUR II / bdims; the waist columns are the "
        "navel-level fits before conversion):",
        "",
    ]
    zones = list(result.candidates[0].heldout_mae_cm)
    bdims_zones = list(result.candidates[0].bdims_mae_cm)
    lines.append(
        "| sex | form | "
        + " | ".join(zone.value for zone in zones)
        + " | "
        + " | ".join(f"bdims {zone.value}" for zone in bdims_zones)
        + " | girths monotone in weight |"
    )
    lines.append("|---|---|" + "---:|" * (len(zones) + len(bdims_zones)) + "---|")
    for c in result.candidates:
        lines.append(
            f"| {c.sex.value} | {c.form} | "
            + " | ".join(f"{c.heldout_mae_cm[z]:.2f}" for z in zones)
            + " | "
            + " | ".join(f"{c.bdims_mae_cm[z]:.2f}" for z in bdims_zones)
            + f" | {'yes' if c.girths_monotone_in_weight else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def _waist_markdown(result: TrainingResult) -> list[str]:
    """The natural-waist conversion and its cross-validation table."""
    lines = [
        f"Natural waist conversion (`{CHOSEN_WAIST_METHOD}`): "
        + "; ".join(
            f"{c.sex.value} ratio {c.ratio:.3f} (n {c.n}), sd scale {c.residual_sd_scale:.2f}"
            for c in result.waist_conversions.values()
        )
        + f". Natural waist on bdims, {result.waist_cv_folds}-fold CV per sex "
        f"(seed {result.seed}); cm:",
        "",
        "| sex | method | MAE | bias | within 1 sd | within 2 sd | MAE given hip |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in [*result.waist_cv, *result.shipped_waist_cv]:
        method = s.method if s.mae_given_hip_cm is None else f"{s.method} (shipped, runtime)"
        lines.append(
            f"| {s.sex.value} | {method} | {s.mae_cm:.2f} | {s.bias_cm:+.2f} "
            f"| {s.within_1sd:.0%} | {s.within_2sd:.0%} | {_cell(s.mae_given_hip_cm, '.2f')} |"
        )
    return lines
