"""Live try-on: the photo try-on run on every frame of a webcam stream.

A ``LiveTryOn`` session holds what lasts between frames: the prepared garment (cut out
once, or again when the shopper switches garments), the pose tracker (MediaPipe in
tracking mode, one per stream) and a landmark smoother. Each frame runs two steps:

1. ``track``: tracking pose -> ``person.body_layout`` -> One Euro smoothing of the
   17 body points (the garment would otherwise shiver with MediaPipe's 1-2 px jitter).
   A frame without a usable person is not an error: it is passed through unchanged
   and says why (``LiveFrameInfo.problem_type``), and the smoother starts afresh.
2. ``render``: ``compose.try_on`` on the part of the frame around the body (the
   "body box": the points plus margins scaled by the shoulder width), pasted back.
   Outside that box try-on changes nothing, and skipping it halves the work at
   640x480 for a person who does not fill the frame.

The two steps are separate so a server can pipeline them: ``track`` of frame n+1
(MediaPipe, ~21 ms) runs while ``render`` of frame n (compose) runs on the other core.
``track`` must see the frames in order; ``render`` uses only its argument and the garment.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import ImageTooLarge, InputError, NoPersonFound, PhotoRejected
from fitroom.tryon.compose import try_on
from fitroom.tryon.garment import Category, PreparedGarment
from fitroom.tryon.person import BodyLayout, body_layout
from fitroom.vision.pose import PoseObserver

#: Largest frame a live session takes (full HD); webcams stream 640x480 to 1280x720.
MAX_FRAME_PIXELS = 1920 * 1080
#: Smallest frame side that MediaPipe and the try-on can use.
MIN_FRAME_SIDE_PX = 64
#: Body box margins as shares of the shoulder-joint distance: sideways for the sleeves'
#: width, up for the shoulder tips and collar, down for a hem below the hips.
BOX_SIDE_MARGIN = 0.5
BOX_TOP_MARGIN = 0.35
BOX_BOTTOM_MARGIN = 0.8


@dataclass(frozen=True)
class OneEuroParams:
    """Parameters of the One Euro filter (Casiez, Roussel & Vogel, CHI 2012).

    The filter is a first-order low-pass whose cutoff rises with speed:
    ``cutoff_hz = min_cutoff_hz + beta_per_px * |filtered speed in px/s|``. Standing
    still, the cutoff stays at ``min_cutoff_hz`` and jitter is removed (at 30 fps and
    1 Hz, white noise falls to about a third); moving, the cutoff rises and the lag
    shrinks. Tuning (section 4 of the paper): set ``beta_per_px`` to 0, lower
    ``min_cutoff_hz`` until still jitter is acceptable, then raise ``beta_per_px``
    until fast moves no longer lag.
    """

    #: Cutoff at rest, in Hz: lower removes more jitter but lags slow moves more.
    min_cutoff_hz: float = 1.0
    #: Cutoff increase per px/s of speed (units 1/px): higher follows fast moves sooner.
    beta_per_px: float = 0.04
    #: Cutoff of the speed estimate itself, in Hz (the paper uses 1 Hz).
    derivative_cutoff_hz: float = 1.0
    #: A gap between samples longer than this restarts the filter (no stale state).
    max_gap_s: float = 0.5

    def __post_init__(self) -> None:
        if self.min_cutoff_hz <= 0 or self.derivative_cutoff_hz <= 0:
            raise InputError("One Euro cutoffs must be positive (Hz)")
        if self.beta_per_px < 0 or self.max_gap_s <= 0:
            raise InputError("One Euro beta must be >= 0 and max_gap_s > 0")


def smoothing_factor(cutoff_hz: NDArray[np.float64] | float, dt_s: float) -> NDArray[np.float64]:
    """The exponential smoothing factor of a first-order low-pass at ``cutoff_hz``."""
    tau_s = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz, dtype=np.float64))
    alpha: NDArray[np.float64] = 1.0 / (1.0 + tau_s / dt_s)
    return alpha


class OneEuroFilter:
    """One Euro filter over an array of coordinates, each coordinate filtered on its own."""

    def __init__(self, params: OneEuroParams | None = None) -> None:
        self.params = params or OneEuroParams()
        self._value: NDArray[np.float64] | None = None
        self._speed_per_s: NDArray[np.float64] | None = None
        self._time_s = 0.0

    def reset(self) -> None:
        """Forget the past: the next sample passes through unfiltered."""
        self._value = None
        self._speed_per_s = None

    def __call__(self, value: NDArray[np.float64], time_s: float) -> NDArray[np.float64]:
        """The filtered value of this sample, taken at ``time_s`` (seconds, increasing)."""
        sample = np.asarray(value, dtype=np.float64)
        dt_s = time_s - self._time_s
        if (
            self._value is None
            or self._speed_per_s is None
            or self._value.shape != sample.shape
            or dt_s > self.params.max_gap_s
        ):
            self._value = sample.copy()
            self._speed_per_s = np.zeros_like(sample)
            self._time_s = time_s
            return sample.copy()
        if dt_s <= 0:
            # Same or older timestamp: nothing new to learn about the speed.
            return self._value.copy()
        p = self.params
        raw_speed = (sample - self._value) / dt_s
        a_speed = smoothing_factor(p.derivative_cutoff_hz, dt_s)
        self._speed_per_s = a_speed * raw_speed + (1 - a_speed) * self._speed_per_s
        cutoff_hz = p.min_cutoff_hz + p.beta_per_px * np.abs(self._speed_per_s)
        a_value = smoothing_factor(cutoff_hz, dt_s)
        self._value = a_value * sample + (1 - a_value) * self._value
        self._time_s = time_s
        return self._value.copy()


@dataclass(frozen=True)
class TrackedFrame:
    """A frame after step 1: its (smoothed) body layout, or why there is none."""

    frame_rgb: NDArray[np.uint8]
    layout: BodyLayout | None
    problem: PhotoRejected | None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveFrameInfo:
    """What happened to one frame: dressed or passed through, why, and how long it took.

    ``points_px`` are the smoothed body points (``BodyLayout.points()`` order, 17 x 2);
    ``problem_type``/``problem_detail`` are the fitroom error's ``type_slug`` and message
    when no person could be dressed (the frame comes back unchanged).
    """

    person_found: bool
    problem_type: str | None
    problem_detail: str | None
    points_px: NDArray[np.float64] | None
    body_box_px: tuple[int, int, int, int] | None
    timings_ms: dict[str, float]


def check_frame(frame_rgb: NDArray[np.uint8]) -> None:
    """Refuse a frame the session cannot use, before any compute."""
    if frame_rgb.dtype != np.uint8 or frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
        raise InputError(
            f"a frame must be an 8-bit RGB image (H x W x 3 uint8); got {frame_rgb.dtype} "
            f"with shape {frame_rgb.shape}"
        )
    height_px, width_px = frame_rgb.shape[:2]
    if min(height_px, width_px) < MIN_FRAME_SIDE_PX:
        raise InputError(
            f"frame is {width_px}x{height_px} px; at least {MIN_FRAME_SIDE_PX} px on the short "
            "side is needed (send 640x480)"
        )
    if height_px * width_px > MAX_FRAME_PIXELS:
        raise ImageTooLarge(
            f"frame is {width_px}x{height_px} px; at most {MAX_FRAME_PIXELS} pixels "
            "(1920x1080) are taken (send 640x480)",
            max_pixels=MAX_FRAME_PIXELS,
        )


def body_box(
    layout: BodyLayout, shape: tuple[int, int], include_legs: bool = False
) -> tuple[int, int, int, int]:
    """The part of the frame try-on can change, as ``(x0, y0, x1, y1)`` pixels.

    The box around every upper-body point (and the knees and ankles for trousers and
    dresses), widened by shares of the shoulder width, clipped to the frame; the whole
    frame when the points fall outside it.
    """
    height_px, width_px = shape
    points = layout.points() if include_legs else layout.points()[: BodyLayout.UPPER_POINTS]
    shoulder_px = layout.shoulder_width_px
    x0 = math.floor(points[:, 0].min() - BOX_SIDE_MARGIN * shoulder_px)
    x1 = math.ceil(points[:, 0].max() + BOX_SIDE_MARGIN * shoulder_px)
    y0 = math.floor(points[:, 1].min() - BOX_TOP_MARGIN * shoulder_px)
    y1 = math.ceil(points[:, 1].max() + BOX_BOTTOM_MARGIN * shoulder_px)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(width_px, x1), min(height_px, y1)
    if x1 - x0 < MIN_FRAME_SIDE_PX or y1 - y0 < MIN_FRAME_SIDE_PX:
        return 0, 0, width_px, height_px
    return x0, y0, x1, y1


def crop_layout(layout: BodyLayout, box: tuple[int, int, int, int]) -> BodyLayout:
    """The layout in the coordinates of ``box`` (points shifted, mask cropped)."""
    x0, y0, x1, y1 = box
    shifted = layout.with_points(layout.points() - np.array([x0, y0], dtype=np.float64))
    mask = np.ascontiguousarray(layout.person_mask[y0:y1, x0:x1])
    return dataclasses.replace(shifted, person_mask=mask)


class LiveTryOn:
    """One shopper's live try-on: a garment, a pose tracker and a landmark smoother.

    ``pose_source`` defaults to a new ``vision.tracking.PoseTracker`` (tracking state is
    per stream, so sessions never share one). ``crop_to_body=False`` runs try-on on
    the whole frame (slower, for comparison).
    """

    def __init__(
        self,
        garment: PreparedGarment | None = None,
        *,
        pose_source: PoseObserver | None = None,
        smoothing: OneEuroParams | None = None,
        crop_to_body: bool = True,
    ) -> None:
        if pose_source is None:
            from fitroom.vision.tracking import PoseTracker

            pose_source = PoseTracker()
        self.pose_source = pose_source
        self.garment = garment
        self.crop_to_body = crop_to_body
        self._smoother = OneEuroFilter(smoothing)

    def set_garment(self, garment: PreparedGarment) -> None:
        """Switch garments; tracking and smoothing carry on."""
        self.garment = garment

    def track(self, frame_rgb: NDArray[np.uint8], time_s: float | None = None) -> TrackedFrame:
        """Step 1: pose, body layout and smoothing for the next frame of the stream."""
        check_frame(frame_rgb)
        now_s = time.monotonic() if time_s is None else time_s
        started = time.perf_counter()
        observation = self.pose_source.observe(frame_rgb)
        pose_ms = (time.perf_counter() - started) * 1000
        problem: PhotoRejected | None = None
        layout: BodyLayout | None = None
        if observation is None:
            problem = NoPersonFound(
                "no person in the frame",
                view="live",
                advice="step into the picture, facing the camera, shoulders in view",
            )
        else:
            try:
                layout = body_layout(observation, view="live")
            except PhotoRejected as refused:
                problem = refused
        t = time.perf_counter()
        if layout is None:
            self._smoother.reset()
        else:
            layout = layout.with_points(self._smoother(layout.points(), now_s))
        timings = {"pose_ms": pose_ms, "smooth_ms": (time.perf_counter() - t) * 1000}
        return TrackedFrame(frame_rgb, layout, problem, timings)

    def render(self, tracked: TrackedFrame) -> tuple[NDArray[np.uint8], LiveFrameInfo]:
        """Step 2: the frame with the garment on (unchanged when nobody was found)."""
        if self.garment is None:
            raise InputError("choose a garment before sending frames", expected="garment")
        timings = dict(tracked.timings_ms)
        frame = tracked.frame_rgb
        if tracked.layout is None:
            problem = tracked.problem
            timings["compose_ms"] = 0.0
            timings["total_ms"] = sum(timings.values())
            info = LiveFrameInfo(
                person_found=False,
                problem_type=problem.type_slug if problem else None,
                problem_detail=problem.message if problem else None,
                points_px=None,
                body_box_px=None,
                timings_ms=timings,
            )
            return frame, info
        shape = (int(frame.shape[0]), int(frame.shape[1]))
        legs = self.garment.category is not Category.UPPER
        box = (
            body_box(tracked.layout, shape, include_legs=legs)
            if self.crop_to_body
            else (0, 0, shape[1], shape[0])
        )
        x0, y0, x1, y1 = box
        started = time.perf_counter()
        part = np.ascontiguousarray(frame[y0:y1, x0:x1])
        result = try_on(part, self.garment, crop_layout(tracked.layout, box), detect_agnostic=False)
        out = frame.copy()
        out[y0:y1, x0:x1] = result.image
        timings["compose_ms"] = (time.perf_counter() - started) * 1000
        for name, value_ms in result.timings_ms.items():
            if name != "total_ms":
                timings[f"compose_{name}"] = value_ms
        timings["total_ms"] = timings["pose_ms"] + timings["smooth_ms"] + timings["compose_ms"]
        info = LiveFrameInfo(
            person_found=True,
            problem_type=None,
            problem_detail=None,
            points_px=tracked.layout.points(),
            body_box_px=box,
            timings_ms=timings,
        )
        return out, info

    def process(
        self, frame_rgb: NDArray[np.uint8], time_s: float | None = None
    ) -> tuple[NDArray[np.uint8], LiveFrameInfo]:
        """Both steps for one frame: the dressed frame and what happened."""
        return self.render(self.track(frame_rgb, time_s))

    def close(self) -> None:
        """Free the pose tracker's graph when it has one to free."""
        close = getattr(self.pose_source, "close", None)
        if callable(close):
            close()
