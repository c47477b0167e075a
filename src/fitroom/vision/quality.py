"""The photo quality gate: refuse, with a reason and advice, what cannot be measured.

Checks run cheapest first and stop at the first failure, so the shopper gets one clear
thing to fix: light, then a person at all, then one person, then the whole body in the
frame, then distance, orientation (front: facing the camera; side: in profile), the
arms (front: A-pose), and sharpness. Thresholds were set on real photos (the A-pose
pair and the in-the-wild SHAPY samples) and on degraded copies of them; the benchmark
``bench/body_scan_real_photos.py`` reports what passes and why the rest do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import (
    ArmsAgainstBody,
    ArmsRaised,
    BodyCutOff,
    MultiplePeople,
    NoPersonFound,
    NotFacingCamera,
    NotInProfile,
    PersonTooClose,
    PersonTooFar,
    PhotoTooBlurry,
    PhotoTooDark,
)
from fitroom.vision.photo import Photo
from fitroom.vision.pose import FaceBox, Landmark, PoseObservation

VIEWS = ("front", "side")

#: Mean BT.601 luma below this (0-255) is too dark to segment reliably.
MIN_MEAN_LUMA = 40.0
#: The person must fill at least this share of the photo's height...
MIN_PERSON_HEIGHT_FRACTION = 0.35
#: ...and at most this share (closer, the lens distorts and the feet are at the edge).
MAX_PERSON_HEIGHT_FRACTION = 0.97
#: ...and leave at least this margin (of the photo's height) above the head and below the feet.
MIN_MARGIN_FRACTION = 0.003
#: Front view: shoulder width over torso length at least this (profile is ~0.1-0.3).
MIN_FRONT_SHOULDER_RATIO = 0.5
#: Side view: shoulder width over torso length at most this.
MAX_SIDE_SHOULDER_RATIO = 0.35
#: Front view: each arm at least this far (degrees) from hanging straight down.
MIN_ARM_ABDUCTION_DEG = 15.0
#: Front view: and at most this far (an arm raised above the shoulder hides its outline).
MAX_ARM_ABDUCTION_DEG = 100.0
#: Variance of the Laplacian on the person, rescaled to a 512-px-tall person.
MIN_SHARPNESS = 15.0
#: A second mask region this large (share of the person's area) is a second person.
SECOND_PERSON_AREA_FRACTION = 0.25
#: A face detection at least this confident counts as a person's face.
MIN_FACE_SCORE = 0.6
#: Person height (px) the sharpness measure is normalised to.
SHARPNESS_PERSON_HEIGHT_PX = 512

ADVICE_LIGHT = "turn on more light or face a window, and keep the light behind the camera"
ADVICE_WHOLE_BODY = (
    "stand 2-3 m from the camera with the whole body in the frame, from above the head "
    "to below the feet"
)
ADVICE_ALONE = "make sure you are the only person in the photo"
ADVICE_FRONT = "stand facing the camera, feet hip-width apart"
ADVICE_SIDE = "turn 90 degrees so that your side faces the camera, arms relaxed"
ADVICE_A_POSE = (
    "hold your arms slightly away from the body (an 'A' shape, hands about 20-30 cm "
    "from the hips) so that the waist and hips are visible"
)
ADVICE_SHARP = "hold the phone still (or use a timer) and make sure the camera is focused"


@dataclass(frozen=True)
class PersonRegion:
    """The accepted person: binary mask of the main body and its vertical extent."""

    mask: NDArray[np.bool_]
    top_row: int
    bottom_row: int

    @property
    def height_px(self) -> int:
        return self.bottom_row - self.top_row + 1


@dataclass(frozen=True)
class QualityReport:
    """Figures the gate measured (kept for debugging and the benchmark)."""

    view: str
    mean_luma: float
    person_height_fraction: float
    shoulder_ratio: float
    arm_abduction_deg: tuple[float, float]
    sharpness: float
    faces: int


def mean_luma(rgb: NDArray[np.uint8]) -> float:
    """Mean BT.601 luma (0-255) of a photo, on a subsample for speed."""
    sample = rgb[::4, ::4].astype(np.float32)
    return float((sample @ np.array([0.299, 0.587, 0.114], np.float32)).mean())


def main_person_mask(mask: NDArray[np.float32]) -> tuple[NDArray[np.bool_], list[int]]:
    """The largest connected person region (threshold 0.5) and all region areas (px)."""
    import cv2

    binary = (mask > 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return np.zeros(mask.shape, dtype=bool), []
    areas = stats[1:, cv2.CC_STAT_AREA]
    order = np.argsort(areas)[::-1]
    main = labels == int(order[0]) + 1
    return main, [int(areas[i]) for i in order]


def shoulder_ratio(observation: PoseObservation) -> float:
    """Horizontal shoulder width over torso length (shoulder mid to hip mid), in pixels."""
    left = observation.point(Landmark.left_shoulder)
    right = observation.point(Landmark.right_shoulder)
    shoulders = observation.midpoint(Landmark.left_shoulder, Landmark.right_shoulder)
    hips = observation.midpoint(Landmark.left_hip, Landmark.right_hip)
    torso_px = float(np.linalg.norm(shoulders - hips))
    return abs(float(left[0] - right[0])) / max(torso_px, 1e-6)


def arm_abduction_deg(observation: PoseObservation) -> tuple[float, float]:
    """Angle (degrees) of each arm, shoulder to wrist, from hanging straight down."""
    angles = []
    for shoulder, wrist in (
        (Landmark.left_shoulder, Landmark.left_wrist),
        (Landmark.right_shoulder, Landmark.right_wrist),
    ):
        arm = observation.point(wrist) - observation.point(shoulder)
        cosine = float(arm[1]) / max(float(np.linalg.norm(arm)), 1e-6)
        angles.append(float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))))
    return angles[0], angles[1]


def sharpness(rgb: NDArray[np.uint8], region: PersonRegion) -> float:
    """Variance of the Laplacian over the person's box at a 512-px person height.

    The crop is rescaled so the person is 512 px tall and its grey levels to a standard
    deviation of 50, so the figure depends on focus, not on resolution or exposure.
    """
    import cv2

    columns = np.flatnonzero(region.mask.any(axis=0))
    crop = rgb[region.top_row : region.bottom_row + 1, columns[0] : columns[-1] + 1]
    scale = SHARPNESS_PERSON_HEIGHT_PX / max(region.height_px, 1)
    gray = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY).astype(np.float32)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = np.asarray(
        cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interpolation), np.float32
    )
    # Contrast-normalised (grey std scaled to 50): a dim photo is not a blurry one.
    normalised = resized * np.float32(50.0 / max(float(resized.std()), 1.0))
    return float(cv2.Laplacian(normalised, cv2.CV_32F).var())


def check_one_person(
    observation: PoseObservation | None, view: str, advice_no_person: str
) -> tuple[PoseObservation, NDArray[np.bool_], list[FaceBox]]:
    """The observation, main person's mask and confident faces; refuses none or several.

    No person: no observation, or a person region under 1% of the photo. Several: two
    confident faces, or a second mask region at least ``SECOND_PERSON_AREA_FRACTION``
    of the main one. Shared by the body scan's gate and the photo try-on.
    """
    if observation is None:
        raise NoPersonFound(
            f"no person was found in the {view} photo",
            view=view,
            advice=advice_no_person,
        )
    main, areas = main_person_mask(observation.mask)
    if not areas or areas[0] < 0.01 * main.size:
        raise NoPersonFound(
            f"no person was found in the {view} photo (the person region is too small or missing)",
            view=view,
            advice=advice_no_person,
        )
    strong_faces = [f for f in observation.faces if f.score >= MIN_FACE_SCORE]
    if len(strong_faces) >= 2 or (
        len(areas) >= 2 and areas[1] >= SECOND_PERSON_AREA_FRACTION * areas[0]
    ):
        raise MultiplePeople(
            f"the {view} photo shows more than one person ({max(len(strong_faces), 2)} found)",
            view=view,
            advice=ADVICE_ALONE,
            faces=len(strong_faces),
        )
    return observation, main, strong_faces


def check_photo(
    photo: Photo, observation: PoseObservation | None
) -> tuple[PersonRegion, QualityReport]:
    """Run every check on one view; raise the first ``PhotoRejected`` that applies."""
    view = photo.view
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}; got {view!r}")
    height_px = photo.height_px
    luma = mean_luma(photo.rgb)
    if luma < MIN_MEAN_LUMA:
        raise PhotoTooDark(
            f"the {view} photo is too dark (mean brightness {luma:.0f} of 255; at least "
            f"{MIN_MEAN_LUMA:.0f} is needed)",
            view=view,
            advice=ADVICE_LIGHT,
            mean_luma=round(luma, 1),
        )
    observation, main, strong_faces = check_one_person(observation, view, ADVICE_WHOLE_BODY)
    rows = np.flatnonzero(main.any(axis=1))
    region = PersonRegion(mask=main, top_row=int(rows[0]), bottom_row=int(rows[-1]))
    margin_px = max(1, round(MIN_MARGIN_FRACTION * height_px))
    head_landmarks = [Landmark.nose, Landmark.left_eye, Landmark.right_eye]
    foot_landmarks = [
        Landmark.left_heel,
        Landmark.right_heel,
        Landmark.left_foot_index,
        Landmark.right_foot_index,
    ]
    head_y = min(float(observation.point(lm)[1]) for lm in head_landmarks)
    feet_y = max(float(observation.point(lm)[1]) for lm in foot_landmarks)
    if region.top_row < margin_px or head_y < 0:
        raise BodyCutOff(
            f"the top of the head is cut off in the {view} photo",
            view=view,
            advice=ADVICE_WHOLE_BODY,
            part="head",
        )
    if region.bottom_row > height_px - 1 - margin_px or feet_y > height_px - 1:
        raise BodyCutOff(
            f"the feet are cut off in the {view} photo",
            view=view,
            advice=ADVICE_WHOLE_BODY,
            part="feet",
        )
    fraction = region.height_px / height_px
    if fraction < MIN_PERSON_HEIGHT_FRACTION:
        raise PersonTooFar(
            f"the person is too far away in the {view} photo (fills {fraction:.0%} of "
            f"its height; at least {MIN_PERSON_HEIGHT_FRACTION:.0%} is needed)",
            view=view,
            advice="step closer, or zoom in, until your body fills most of the frame height",
            person_height_fraction=round(fraction, 3),
        )
    if fraction > MAX_PERSON_HEIGHT_FRACTION:
        raise PersonTooClose(
            f"the person is too close to the camera in the {view} photo (fills "
            f"{fraction:.0%} of its height; at most {MAX_PERSON_HEIGHT_FRACTION:.0%})",
            view=view,
            advice="step back a little so there is space above the head and below the feet",
            person_height_fraction=round(fraction, 3),
        )
    ratio = shoulder_ratio(observation)
    left_x = float(observation.point(Landmark.left_shoulder)[0])
    right_x = float(observation.point(Landmark.right_shoulder)[0])
    if view == "front":
        # Facing the camera, the person's left shoulder is on the image's right.
        if ratio < MIN_FRONT_SHOULDER_RATIO or left_x < right_x or not strong_faces:
            raise NotFacingCamera(
                f"the front photo does not show the person facing the camera "
                f"(shoulder width {ratio:.2f} of torso length, face "
                f"{'found' if strong_faces else 'not found'})",
                view=view,
                advice=ADVICE_FRONT,
                shoulder_ratio=round(ratio, 3),
            )
    elif ratio > MAX_SIDE_SHOULDER_RATIO:
        raise NotInProfile(
            f"the side photo does not show the person side-on (shoulder width "
            f"{ratio:.2f} of torso length; at most {MAX_SIDE_SHOULDER_RATIO} in profile)",
            view=view,
            advice=ADVICE_SIDE,
            shoulder_ratio=round(ratio, 3),
        )
    arms = arm_abduction_deg(observation)
    if view == "front" and min(arms) < MIN_ARM_ABDUCTION_DEG:
        raise ArmsAgainstBody(
            f"the arms are against the body in the front photo ({min(arms):.0f} degrees "
            f"from the sides; at least {MIN_ARM_ABDUCTION_DEG:.0f} is needed)",
            view=view,
            advice=ADVICE_A_POSE,
            arm_abduction_deg=[round(a, 1) for a in arms],
        )
    if view == "front" and max(arms) > MAX_ARM_ABDUCTION_DEG:
        raise ArmsRaised(
            f"an arm is raised above the shoulder in the front photo ({max(arms):.0f} "
            f"degrees from the side; at most {MAX_ARM_ABDUCTION_DEG:.0f})",
            view=view,
            advice=ADVICE_A_POSE,
            arm_abduction_deg=[round(a, 1) for a in arms],
        )
    sharp = sharpness(photo.rgb, region)
    if sharp < MIN_SHARPNESS:
        raise PhotoTooBlurry(
            f"the {view} photo is too blurry (sharpness {sharp:.0f}; at least "
            f"{MIN_SHARPNESS:.0f} is needed)",
            view=view,
            advice=ADVICE_SHARP,
            sharpness=round(sharp, 1),
        )
    report = QualityReport(
        view=view,
        mean_luma=luma,
        person_height_fraction=fraction,
        shoulder_ratio=ratio,
        arm_abduction_deg=arms,
        sharpness=sharp,
        faces=len(strong_faces),
    )
    return region, report
