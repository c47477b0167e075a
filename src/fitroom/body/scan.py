"""The body-scan pipeline: one or two photos + height -> measurements with +/- cm.

Components: a pose estimator (MediaPipe, ``fitroom.vision.pose``) and the measurement
models (``front`` and ``front_side``). Steps: (1) check the numbers (height, weight,
sex) before any image work, (2) decode each photo upright, (3) landmarks and mask,
(4) the quality gate per view, (5) silhouette features, (6) the model, (7) the result
with the figures the gate measured and any warnings. Photos are never written
anywhere; ``debug_dir`` (opt-in) writes drawings of what was measured.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from fitroom.body.features import (
    LEVEL_FRACTIONS,
    ViewFeatures,
    mirror_average,
    run_containing,
    shifted_view_features,
)
from fitroom.body.loose_top import WARNING as LOOSE_TOP_WARNING
from fitroom.body.loose_top import load_loose_top_detector
from fitroom.body.measure_model import (
    LEVEL_SHIFTS,
    MEASUREMENTS,
    load_measurement_model,
    model_inputs,
    predict_over_level_grids,
)
from fitroom.errors import InputError, PhotoRejected
from fitroom.sizing.estimate import check_sex
from fitroom.sizing.units import check_length_cm, check_weight_kg
from fitroom.sizing.zones import Zone
from fitroom.vision.photo import DEFAULT_MAX_PHOTO_PIXELS, Photo, decode_photo
from fitroom.vision.pose import PoseEstimator, PoseObservation, pose_estimator
from fitroom.vision.quality import PersonRegion, QualityReport, check_photo
from fitroom.vision.upright import MAX_TILT_DEG, body_tilt_deg, turned_upright

#: Measurement name -> the size-chart zone it feeds (the others are for the avatar).
ZONE_OF_MEASUREMENT: dict[str, Zone] = {
    "chest_cm": Zone.chest,
    "waist_cm": Zone.waist,
    "hip_cm": Zone.hip,
    "neck_cm": Zone.neck,
    "inseam_cm": Zone.inseam,
}
#: Girths compared between the front-only and the front+side model.
CROSS_CHECKED: tuple[str, ...] = ("chest_cm", "waist_cm", "hip_cm")
#: Front-only and front+side readings this many combined sds apart disagree. On the
#: synthetic test bodies (tight clothes) 0.3-2.7% of girths pass this; loose clothes,
#: which widen the front silhouette more than the side one, pass it more often.
DISAGREEMENT_Z = 2.0


class PhotoReading(NamedTuple):
    """What ``photo_features`` read from one view, and the photo it measured."""

    observation: PoseObservation
    region: PersonRegion
    report: QualityReport
    features: ViewFeatures
    #: The photo measured: the one given, or that photo turned upright.
    photo: Photo
    #: Degrees the photo was turned to stand the person upright (0: not turned).
    turned_deg: float
    #: The features with every level moved by each of ``photo_features``'s
    #: ``level_shifts`` (fractions of stature), in that order.
    shifted_features: tuple[ViewFeatures, ...] = ()


def photo_features(
    estimator: PoseEstimator,
    photo: Photo,
    mirror: bool = True,
    leak_check: bool = True,
    upright: bool = True,
    level_shifts: Sequence[float] = (),
) -> PhotoReading:
    """Landmarks, the gate (raises ``PhotoRejected``) and the features of one view.

    With ``upright``, a photo whose body axis leans more than ``MAX_TILT_DEG`` (camera
    roll) is turned upright and observed again (``fitroom.vision.upright``); the gate
    is passed by the photo as given first, so the refusals do not change, and should
    the turned photo fail it, the photo as given is measured. With ``mirror`` the
    photo's left-right mirror image is observed too and the two feature sets averaged
    (``mirror_average``), so a photo and its mirror image measure the same (exactly when
    neither is turned upright; each is turned its own way otherwise). Only the photo
    itself is gated; should its mirror image fail the gate (a borderline photo),
    the photo's own features are used. ``leak_check``: see
    ``fitroom.body.features.view_features``. For each of ``level_shifts`` the features
    are read again with every level moved by that fraction of stature (same mask and
    landmarks, so no extra MediaPipe pass).
    """
    observation = estimator.observe(photo.rgb)
    region, report = check_photo(photo, observation)
    assert observation is not None  # check_photo refuses a photo with nobody
    turned_deg = 0.0
    if upright:
        tilt_deg = body_tilt_deg(observation)
        if abs(tilt_deg) > MAX_TILT_DEG:
            turned = turned_upright(photo, observation, tilt_deg)
            turned_observation = estimator.observe(turned.rgb)
            try:  # the report keeps the figures of the photo as given
                region, _ = check_photo(turned, turned_observation)
            except PhotoRejected:
                pass  # measure the photo as given
            else:
                assert turned_observation is not None
                photo, observation, turned_deg = turned, turned_observation, tilt_deg
    # The 0 grid first, then each other shift once (LEVEL_SHIFTS holds 0 too).
    shifts = (0.0, *dict.fromkeys(d for d in level_shifts if d != 0.0))
    readings = shifted_view_features(photo.view, region, observation, leak_check, shifts)
    if mirror:
        flipped = Photo(rgb=np.ascontiguousarray(photo.rgb[:, ::-1]), view=photo.view)
        flipped_observation = estimator.observe(flipped.rgb)
        try:
            flipped_region, _ = check_photo(flipped, flipped_observation)
        except PhotoRejected:
            pass  # the photo's own features
        else:
            assert flipped_observation is not None
            flipped_readings = shifted_view_features(
                photo.view, flipped_region, flipped_observation, leak_check, shifts
            )
            readings = [
                mirror_average(reading, flipped_reading)
                for reading, flipped_reading in zip(readings, flipped_readings, strict=True)
            ]
    by_shift = dict(zip(shifts, readings, strict=True))
    shifted = tuple(by_shift[d] for d in level_shifts)  # -0.0 finds 0.0 too
    return PhotoReading(observation, region, report, readings[0], photo, turned_deg, shifted)


def answer_zones(
    measurements: Mapping[str, Mapping[str, float]], height_cm: float
) -> dict[Zone, tuple[float, float]]:
    """Size-chart zones as (value_cm, sd_cm) from a scan's answer (``to_dict``), plus
    height, for the size recommender."""
    zones = {
        zone: (float(measurements[name]["value_cm"]), float(measurements[name]["plus_minus_cm"]))
        for name, zone in ZONE_OF_MEASUREMENT.items()
        if name in measurements
    }
    zones[Zone.height] = (float(height_cm), 0.0)
    return zones


@dataclass(frozen=True)
class BodyMeasurement:
    """One measurement: value and one standard deviation, in cm, and where it came from."""

    value_cm: float
    plus_minus_cm: float
    source: str  # "photo": the photo model; "stated": typed in by the shopper


@dataclass(frozen=True)
class ViewResult:
    """What was seen in one photo (kept for debugging; no pixels)."""

    view: str
    quality: QualityReport
    features: ViewFeatures
    #: Degrees the photo was turned upright before measuring (0: it was level enough).
    turned_deg: float = 0.0
    #: The features at every grid of the pipeline's ``level_shifts``, in that order.
    grid_features: tuple[ViewFeatures, ...] = ()

    def vectors(self) -> list[NDArray[np.float64]]:
        """One feature vector per level grid (just ``features`` without grids)."""
        return [f.vector() for f in self.grid_features] or [self.features.vector()]


@dataclass(frozen=True)
class ScanResult:
    """Measurements of a scanned body and how they were obtained."""

    measurements: dict[str, BodyMeasurement]
    height_cm: float
    weight_kg: float | None
    sex: str | None
    views: tuple[ViewResult, ...]
    model_variant: str
    warnings: tuple[str, ...]
    elapsed_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "height_cm": self.height_cm,
            "weight_kg": self.weight_kg,
            "sex": self.sex,
            "measurements": {
                name: {
                    "value_cm": round(m.value_cm, 1),
                    "plus_minus_cm": round(m.plus_minus_cm, 1),
                    "source": m.source,
                }
                for name, m in self.measurements.items()
            },
            "views": [v.view for v in self.views],
            "model": self.model_variant,
            "warnings": list(self.warnings),
            "quality": {
                v.view: {
                    "person_height_fraction": round(v.quality.person_height_fraction, 3),
                    "shoulder_ratio": round(v.quality.shoulder_ratio, 3),
                    "arm_abduction_deg": [round(a, 1) for a in v.quality.arm_abduction_deg],
                    "sharpness": round(v.quality.sharpness, 1),
                    "mean_luma": round(v.quality.mean_luma, 1),
                    "turned_upright_deg": round(v.turned_deg, 1),
                }
                for v in self.views
            },
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def disagreeing_girths(
    front_side: Mapping[str, BodyMeasurement], front_only: Mapping[str, BodyMeasurement]
) -> list[str]:
    """The girths (of ``CROSS_CHECKED``) whose front-only reading is more than
    ``DISAGREEMENT_Z`` combined standard deviations from the front+side one, worst
    first."""
    found = []
    for name in CROSS_CHECKED:
        both, alone = front_side[name], front_only[name]
        spread = float(np.hypot(both.plus_minus_cm, alone.plus_minus_cm))
        z = abs(alone.value_cm - both.value_cm) / spread
        if z > DISAGREEMENT_Z:
            found.append((z, name))
    return [name for _, name in sorted(found, reverse=True)]


def views_disagree(
    front_side: Mapping[str, BodyMeasurement], front_only: Mapping[str, BodyMeasurement]
) -> list[str]:
    """A warning per girth of ``disagreeing_girths``, worst first.

    The front+side figures stay the answer; the warning says the photos disagree and
    the likely cause, so a shopper in loose clothes knows what to change.
    """
    return [
        f"the front photo alone gives a {name.removesuffix('_cm')} of "
        f"{front_only[name].value_cm:.0f} cm and both photos {front_side[name].value_cm:.0f} "
        "cm: loose or bulky clothes often cause this; for tighter figures, scan again in "
        "fitted clothes"
        for name in disagreeing_girths(front_side, front_only)
    ]


@dataclass
class ScanPipeline:
    """Photos + height -> ``ScanResult``. One instance serves many scans (thread-safe)."""

    estimator: PoseEstimator | None = None
    models_dir: Path | None = None
    loose_top_dir: Path | None = None
    max_photo_pixels: int = DEFAULT_MAX_PHOTO_PIXELS
    #: Average each view's features with its mirror image's (``photo_features``).
    mirror_average: bool = True
    #: Turn a photo taken with the phone rolled upright first (``photo_features``).
    upright: bool = True
    #: Level grids each photo is read at, the answers averaged (``fitroom.body.
    #: measure_model.LEVEL_SHIFTS``); ``(0.0,)`` reads the training grid alone.
    level_shifts: tuple[float, ...] = LEVEL_SHIFTS

    def pose(self) -> PoseEstimator:
        return self.estimator or pose_estimator()

    def _measure(
        self,
        views: Sequence[ViewResult],
        height_cm: float,
        weight_kg: float | None,
        sex: str | None,
    ) -> dict[str, BodyMeasurement]:
        """The views' features at every level grid -> each measurement with its +/- (cm).

        One view: the front model; two: the front + side model.
        """
        variant = "front_side" if len(views) == 2 else "front"
        model = load_measurement_model(variant, self.models_dir)
        side_vectors: list[NDArray[np.float64] | None] = (
            list(views[1].vectors()) if len(views) == 2 else [None] * len(views[0].vectors())
        )
        rows = [
            model_inputs(front, side, height_cm, weight_kg, sex)[None]
            for front, side in zip(views[0].vectors(), side_vectors, strict=True)
        ]
        values_cm, sd_cm = predict_over_level_grids(model, rows, height_cm)
        return {
            name: BodyMeasurement(float(values_cm[0, i]), float(sd_cm[0, i]), "photo")
            for i, name in enumerate(MEASUREMENTS)
        }

    def check_inputs(
        self, height_cm: float, weight_kg: float | None, sex: str | None
    ) -> tuple[float, float | None, str | None]:
        """Check the numbers before any image work (wrong units are named)."""
        height = check_length_cm(Zone.height, height_cm, field="height_cm")
        weight = None if weight_kg is None else check_weight_kg(weight_kg)
        checked_sex = None if sex is None else check_sex(sex).value
        return height, weight, checked_sex

    def __call__(
        self,
        front: bytes | Photo,
        side: bytes | Photo | None,
        height_cm: float,
        weight_kg: float | None = None,
        sex: str | None = None,
        debug_dir: Path | None = None,
    ) -> ScanResult:
        started = time.perf_counter()
        # 1. Numbers first: a wrong unit is cheaper to report than a photo problem.
        height, weight, checked_sex = self.check_inputs(height_cm, weight_kg, sex)
        # 2. Decode (EXIF-upright RGB).
        photos = [
            p if isinstance(p, Photo) else decode_photo(p, view, self.max_photo_pixels)
            for p, view in ((front, "front"), (side, "side"))
            if p is not None
        ]
        if photos[0].view != "front":
            raise InputError("a front photo is required; the side photo is optional")
        # 3-5. Landmarks and mask, the gate, features, view by view.
        views: list[ViewResult] = []
        for photo in photos:
            reading = photo_features(
                self.pose(),
                photo,
                self.mirror_average,
                upright=self.upright,
                level_shifts=self.level_shifts,
            )
            views.append(
                ViewResult(
                    view=photo.view,
                    quality=reading.report,
                    features=reading.features,
                    turned_deg=reading.turned_deg,
                    grid_features=reading.shifted_features,
                )
            )
            if debug_dir is not None:
                write_debug_drawing(
                    debug_dir, reading.photo, reading.observation, reading.region, reading.features
                )
        # 6. The model.
        variant = "front_side" if len(views) == 2 else "front"
        measurements = self._measure(views, height, weight, checked_sex)
        # 7. Warnings that change how far to trust the figures.
        warnings = []
        if variant == "front_side":
            # The front photo alone, as a cross-check of the two views.
            front_only = self._measure(views[:1], height, weight, checked_sex)
            warnings += views_disagree(measurements, front_only)
        side_vector = views[1].features.vector() if len(views) == 2 else None
        detector = load_loose_top_detector(variant, self.loose_top_dir)
        if detector is not None:
            plain_row = model_inputs(views[0].features.vector(), side_vector, height, None, None)
            if bool(detector.flags(plain_row)[0]):
                warnings.insert(0, LOOSE_TOP_WARNING)
        if variant == "front":
            warnings.append(
                "no side photo: body depth is inferred from the front view, so girths are "
                "less certain; add a side photo for tighter figures"
            )
        if weight is None:
            warnings.append("no weight given: girths rely on the photo alone")
        return ScanResult(
            measurements=measurements,
            height_cm=height,
            weight_kg=weight,
            sex=checked_sex,
            views=tuple(views),
            model_variant=variant,
            warnings=tuple(warnings),
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )


def draw_measurement(
    photo: Photo,
    observation: PoseObservation,
    region: PersonRegion,
    features: ViewFeatures,
) -> NDArray[np.uint8]:
    """The photo with the person mask tinted, the landmarks and every measured level."""
    import cv2

    out = photo.rgb.copy()
    tint = np.array([0, 160, 255], dtype=np.float32)
    out[region.mask] = (0.65 * out[region.mask] + 0.35 * tint).astype(np.uint8)
    thickness = max(1, photo.height_px // 500)
    mask = region.mask
    for row, centre in zip(features.level_rows, features.centre_columns, strict=True):
        run = run_containing(mask[int(row)], float(centre))
        if run is not None:
            cv2.line(out, (run[0], int(row)), (run[1] - 1, int(row)), (255, 40, 40), thickness)
    for x, y in observation.landmarks_px:
        cv2.circle(out, (int(x), int(y)), 2 * thickness + 1, (40, 220, 40), -1)
    top, bottom = region.top_row, region.bottom_row
    cv2.line(out, (8, top), (8, bottom), (255, 255, 0), 2 * thickness)
    label = f"{features.view}: {len(LEVEL_FRACTIONS)} levels, stature {features.stature_px:.0f} px"
    cv2.putText(out, label, (16, 32), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 3)
    cv2.putText(out, label, (16, 32), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 1)
    return out


def write_debug_drawing(
    folder: Path,
    photo: Photo,
    observation: PoseObservation,
    region: PersonRegion,
    features: ViewFeatures,
) -> None:
    """Write ``<view>_measured.png`` and ``<view>_mask.png`` into ``folder``."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    drawing = draw_measurement(photo, observation, region, features)
    Image.fromarray(drawing).save(folder / f"{photo.view}_measured.png")
    Image.fromarray((region.mask * 255).astype(np.uint8)).save(folder / f"{photo.view}_mask.png")
