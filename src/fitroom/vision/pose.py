"""Person landmarks and mask from MediaPipe 0.10.21 (``solutions.pose``, complexity 1).

MediaPipe's legacy solutions bundle their models in the wheel; ``model_complexity``
0 and 2 would try to download and fail offline, so only 1 is used. One estimator per
process, guarded by a lock (the graph is not thread-safe). Faces are counted with
``solutions.face_detection`` (full-range model) to tell one person from several.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray


class Landmark(enum.IntEnum):
    """MediaPipe Pose landmark indices used by fitroom (left = the person's left)."""

    nose = 0
    left_eye = 2
    right_eye = 5
    left_ear = 7
    right_ear = 8
    left_shoulder = 11
    right_shoulder = 12
    left_elbow = 13
    right_elbow = 14
    left_wrist = 15
    right_wrist = 16
    left_hip = 23
    right_hip = 24
    left_knee = 25
    right_knee = 26
    left_ankle = 27
    right_ankle = 28
    left_heel = 29
    right_heel = 30
    left_foot_index = 31
    right_foot_index = 32


LANDMARK_COUNT = 33


@dataclass(frozen=True)
class FaceBox:
    """A detected face: box in pixels (x0, y0, width, height) and its score."""

    box_px: tuple[float, float, float, float]
    score: float


@dataclass(frozen=True)
class PoseObservation:
    """What MediaPipe saw in one upright RGB photo.

    ``landmarks_px``: 33 x 2 image coordinates (x right, y down; may fall outside the
    image for cut-off parts); ``visibility``: 33 values in [0, 1]; ``world_m``: 33 x 3
    metric coordinates centred between the hips (x right, y down, z towards the camera
    negative); ``mask``: H x W person probability; ``faces``: every face found.
    """

    landmarks_px: NDArray[np.float64]
    visibility: NDArray[np.float64]
    world_m: NDArray[np.float64]
    mask: NDArray[np.float32]
    faces: tuple[FaceBox, ...]

    def point(self, landmark: Landmark) -> NDArray[np.float64]:
        point: NDArray[np.float64] = self.landmarks_px[int(landmark)]
        return point

    def midpoint(self, a: Landmark, b: Landmark) -> NDArray[np.float64]:
        middle: NDArray[np.float64] = (self.landmarks_px[int(a)] + self.landmarks_px[int(b)]) / 2
        return middle


def observation_from_result(result: Any, width_px: int, height_px: int) -> PoseObservation | None:
    """A MediaPipe Pose result as a ``PoseObservation`` (no faces); None when nobody."""
    if result.pose_landmarks is None or result.segmentation_mask is None:
        return None
    landmarks = result.pose_landmarks.landmark
    landmarks_px = np.array(
        [(p.x * width_px, p.y * height_px) for p in landmarks], dtype=np.float64
    )
    visibility = np.array([p.visibility for p in landmarks], dtype=np.float64)
    world = result.pose_world_landmarks.landmark
    world_m = np.array([(p.x, p.y, p.z) for p in world], dtype=np.float64)
    return PoseObservation(
        landmarks_px=landmarks_px,
        visibility=visibility,
        world_m=world_m,
        mask=np.asarray(result.segmentation_mask, dtype=np.float32),
        faces=(),
    )


class PoseObserver(Protocol):
    """Anything that finds a person's pose in a photo, like ``PoseEstimator``."""

    def observe(self, rgb: NDArray[np.uint8]) -> PoseObservation | None: ...


class PoseEstimator:
    """MediaPipe Pose (+ segmentation) and face detection, built once, used under a lock."""

    def __init__(self) -> None:
        import mediapipe as mp

        self._pose: Any = mp.solutions.pose.Pose(
            static_image_mode=True,
            model_complexity=1,
            enable_segmentation=True,
            min_detection_confidence=0.5,
        )
        self._faces: Any = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=0.6
        )
        self._lock = threading.Lock()

    def observe(self, rgb: NDArray[np.uint8]) -> PoseObservation | None:
        """Landmarks, mask and faces of the most prominent person; None when nobody."""
        height_px, width_px = rgb.shape[:2]
        image = np.ascontiguousarray(rgb)
        with self._lock:
            result = self._pose.process(image)
            faces_result = self._faces.process(image)
        seen = observation_from_result(result, width_px, height_px)
        if seen is None:
            return None
        faces = tuple(
            FaceBox(
                box_px=(
                    d.location_data.relative_bounding_box.xmin * width_px,
                    d.location_data.relative_bounding_box.ymin * height_px,
                    d.location_data.relative_bounding_box.width * width_px,
                    d.location_data.relative_bounding_box.height * height_px,
                ),
                score=float(d.score[0]),
            )
            for d in (faces_result.detections or [])
        )
        return dataclasses.replace(seen, faces=faces)


@functools.cache
def pose_estimator() -> PoseEstimator:
    """The process's estimator (MediaPipe graphs load here, on the first call)."""
    return PoseEstimator()
