"""Camera roll: how far a standing person leans in the photo, and turning them upright.

A phone is rarely held perfectly level: photos taken minutes apart differ by a degree
or two of roll. The body scan measures widths and depths along image rows, and
MediaPipe's mask of a tilted person is not the upright mask turned; on synthetic bodies
(``bench/body_scan.py``'s jitter set) a copy rotated by 2-3 degrees moved the girths
about twice as far as a cropped, recompressed or downscaled copy. So a photo whose
body axis leans more than ``MAX_TILT_DEG`` is turned upright before it is measured.

The body axis is the line from the midpoint of the ankles to the midpoint of the
shoulders. On upright synthetic photos its angle from the vertical has a standard
deviation of 0.2-0.4 degrees in front views and 0.6-1.0 in profile (where posture
leans); on their copies rotated by +2 and -3 degrees it read -2.00 and +3.08 degrees on
average (front, sd 0.4).
"""

from __future__ import annotations

import numpy as np

from fitroom.vision.photo import Photo
from fitroom.vision.pose import Landmark, PoseObservation

#: Photos whose body axis leans more than this (degrees) are turned upright. About
#: 1.5 times the largest spread of the axis on upright synthetic photos (side views),
#: so upright photos, like those the measurement models learnt from, are left alone.
MAX_TILT_DEG = 1.5


def body_tilt_deg(observation: PoseObservation) -> float:
    """Angle (degrees) of the ankles-to-shoulders axis from the image's vertical.

    Positive when the shoulders are to the right of the ankles in the image, i.e. the
    photo needs turning clockwise to stand the person upright.
    """
    ankles = observation.midpoint(Landmark.left_ankle, Landmark.right_ankle)
    shoulders = observation.midpoint(Landmark.left_shoulder, Landmark.right_shoulder)
    dx, dy = shoulders - ankles
    return float(np.degrees(np.arctan2(dx, -dy)))


#: Room added above and below a photo before it is turned (fraction of its height, edge
#: pixels repeated): turning moves one foot down, and a photo whose feet were just
#: inside the frame would otherwise be refused as cut off once turned.
TURN_MARGIN_FRACTION = 0.03


def turned_upright(photo: Photo, observation: PoseObservation, tilt_deg: float) -> Photo:
    """``photo`` turned by ``tilt_deg`` about the person's hips, so that the body axis
    of ``body_tilt_deg`` becomes vertical. ``TURN_MARGIN_FRACTION`` of the height is
    added above and below first; edge pixels fill the margins and the corners."""
    import cv2

    margin_px = round(TURN_MARGIN_FRACTION * photo.height_px)
    padded = cv2.copyMakeBorder(photo.rgb, margin_px, margin_px, 0, 0, cv2.BORDER_REPLICATE)
    centre = observation.midpoint(Landmark.left_hip, Landmark.right_hip)
    # OpenCV's positive angles turn the image anticlockwise; a positive tilt (shoulders
    # to the right) needs the top turned left, which is anticlockwise.
    matrix = cv2.getRotationMatrix2D(
        (float(centre[0]), float(centre[1]) + margin_px), tilt_deg, 1.0
    )
    rgb = cv2.warpAffine(
        padded,
        matrix,
        (padded.shape[1], padded.shape[0]),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return Photo(rgb=np.ascontiguousarray(rgb), view=photo.view)
