"""Live try-on: the One Euro smoother's known behaviour, and a session frame by frame.

The smoother is checked against what a first-order low-pass must do: white noise on a
still point shrinks, a step is reached within a few frames and never overshot, a steady
move lags far less than a fixed 1 Hz low-pass would (which lags speed x tau). Sessions
run with an injected fake pose source (no MediaPipe) and a garment drawn by the demo
renderer; the real-tracker tests use a real person photo from ../shared/data.
"""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from fitroom.demo.images import render_product_image
from fitroom.errors import ImageTooLarge, InputError
from fitroom.tryon.compose import try_on
from fitroom.tryon.garment import PreparedGarment, prepare_garment
from fitroom.tryon.live import (
    LiveTryOn,
    OneEuroFilter,
    OneEuroParams,
    body_box,
    check_frame,
    smoothing_factor,
)
from fitroom.vision.pose import LANDMARK_COUNT, Landmark, PoseObservation
from tests.conftest import REPO_ROOT, data_dir
from tests.tryon.frames import letterboxed_person

FPS = 30.0
PERSON_DIR = data_dir() / "tryon" / "person"
GARMENT_DIR = data_dir() / "tryon" / "garment"


# ------------------------------------------------------------------ One Euro filter


def test_smoothing_factor_known_value() -> None:
    # tau = 1 / (2 pi fc) = 1 s and dt = 1 s: alpha = 1 / (1 + tau/dt) = 0.5.
    assert float(smoothing_factor(1 / (2 * math.pi), 1.0)) == pytest.approx(0.5)


def test_noise_on_a_still_point_shrinks() -> None:
    rng = np.random.default_rng(7)
    truth = np.array([[320.0, 240.0], [100.0, 50.0]])
    smoother = OneEuroFilter()
    raw, smoothed = [], []
    for i in range(300):
        sample = truth + rng.normal(0, 1.5, truth.shape)
        raw.append(sample)
        smoothed.append(smoother(sample, i / FPS))
    raw_jitter = np.std(np.diff(np.array(raw[30:]), axis=0))
    smooth_jitter = np.std(np.diff(np.array(smoothed[30:]), axis=0))
    # Frame-to-frame jitter is what the eye sees as shivering.
    assert smooth_jitter < 0.25 * raw_jitter, (raw_jitter, smooth_jitter)
    error = np.abs(np.array(smoothed[30:]) - truth).mean()
    assert error < 1.0, "the smoothed point stays on the true one"


def test_a_step_is_followed_within_a_few_frames_without_overshoot() -> None:
    smoother = OneEuroFilter()
    for i in range(30):
        smoother(np.array([100.0]), i / FPS)
    outputs = [float(smoother(np.array([140.0]), (30 + i) / FPS)[0]) for i in range(30)]
    frames_to_settle = next(i for i, value in enumerate(outputs) if abs(value - 140.0) < 1.0)
    assert frames_to_settle <= 6, outputs[:10]
    assert all(100.0 <= value <= 140.0 for value in outputs), "a low-pass never overshoots"
    # A fixed 1 Hz low-pass (beta = 0) needs about 20 frames for the same.
    fixed = OneEuroFilter(OneEuroParams(beta_per_px=0.0))
    for i in range(30):
        fixed(np.array([100.0]), i / FPS)
    slow = [float(fixed(np.array([140.0]), (30 + i) / FPS)[0]) for i in range(30)]
    assert abs(slow[frames_to_settle] - 140.0) > 10.0


def test_a_steady_move_lags_less_than_a_fixed_low_pass() -> None:
    speed_px_per_s = 300.0
    adaptive, fixed = OneEuroFilter(), OneEuroFilter(OneEuroParams(beta_per_px=0.0))
    for i in range(60):
        position = np.array([speed_px_per_s * i / FPS])
        lag_adaptive = float(position[0] - adaptive(position, i / FPS)[0])
        lag_fixed = float(position[0] - fixed(position, i / FPS)[0])
    # A first-order low-pass lags a ramp by speed x tau: 300 px/s x 0.159 s = 48 px at 1 Hz.
    assert lag_fixed == pytest.approx(speed_px_per_s / (2 * math.pi), rel=0.15)
    assert lag_adaptive < 0.25 * lag_fixed, (lag_adaptive, lag_fixed)


def test_a_gap_restarts_the_filter() -> None:
    smoother = OneEuroFilter(OneEuroParams(max_gap_s=0.5))
    smoother(np.array([0.0]), 0.0)
    smoother(np.array([0.0]), 1 / FPS)
    assert float(smoother(np.array([50.0]), 2.0)[0]) == 50.0


def test_params_are_checked() -> None:
    with pytest.raises(InputError):
        OneEuroParams(min_cutoff_hz=0.0)
    with pytest.raises(InputError):
        OneEuroParams(beta_per_px=-1.0)


# ------------------------------------------------------------------ sessions, fake pose


def demo_garment() -> PreparedGarment:
    """A navy T-shirt drawn by the demo renderer, cut out by the real garment step."""
    products = json.loads(
        (REPO_ROOT / "src" / "fitroom" / "demo" / "data" / "products.json").read_text()
    )
    tee = next(p for p in products if p["product_id"] == "nf-w-tee-001")
    bgr = cv2.imdecode(np.frombuffer(render_product_image(tee), np.uint8), cv2.IMREAD_COLOR)
    return prepare_garment(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), "upper")


@pytest.fixture(scope="module")
def garment() -> PreparedGarment:
    return demo_garment()


def standing_person(width_px: int = 640, height_px: int = 480) -> NDArray[np.float64]:
    """33 MediaPipe landmarks of a person facing the camera, centred, hips at 85%."""
    lm = np.zeros((LANDMARK_COUNT, 2))
    cx = width_px / 2
    put = {
        Landmark.nose: (cx, 90), Landmark.left_eye: (cx + 10, 82),
        Landmark.right_eye: (cx - 10, 82), Landmark.left_ear: (cx + 25, 90),
        Landmark.right_ear: (cx - 25, 90),
        # Facing the camera: the person's left shoulder is on the image's right.
        Landmark.left_shoulder: (cx + 70, 170), Landmark.right_shoulder: (cx - 70, 170),
        Landmark.left_elbow: (cx + 95, 270), Landmark.right_elbow: (cx - 95, 270),
        Landmark.left_wrist: (cx + 105, 360), Landmark.right_wrist: (cx - 105, 360),
        Landmark.left_hip: (cx + 45, 400), Landmark.right_hip: (cx - 45, 400),
    }  # fmt: skip
    for index, point in put.items():
        lm[int(index)] = point
    for index, wrist in ((17, 15), (19, 15), (21, 15), (18, 16), (20, 16), (22, 16)):
        lm[index] = lm[wrist] + (0, 15)
    return lm


class FakePoseSource:
    """Injected pose source: a scripted person (with jitter) or nobody, per frame."""

    def __init__(self, script: list[bool], jitter_px: float = 0.0, seed: int = 0) -> None:
        self.script = list(script)
        self.jitter_px = jitter_px
        self.rng = np.random.default_rng(seed)
        self.raw_points: list[NDArray[np.float64]] = []

    def observe(self, rgb: NDArray[np.uint8]) -> PoseObservation | None:
        present = self.script.pop(0)
        if not present:
            return None
        height_px, width_px = rgb.shape[:2]
        landmarks = standing_person(width_px, height_px)
        landmarks = landmarks + self.rng.normal(0, self.jitter_px, landmarks.shape)
        self.raw_points.append(landmarks)
        mask = np.zeros((height_px, width_px), np.float32)
        cv2.ellipse(mask, (width_px // 2, 280), (120, 230), 0, 0, 360, (1.0,), -1)
        return PoseObservation(
            landmarks_px=landmarks,
            visibility=np.ones(LANDMARK_COUNT),
            world_m=np.zeros((LANDMARK_COUNT, 3)),
            mask=mask,
            faces=(),
        )


def plain_frame() -> NDArray[np.uint8]:
    """A 640x480 frame: light wall, a skin-toned head, a mid-grey-free red shirt."""
    frame = np.full((480, 640, 3), (215, 210, 200), np.uint8)
    cv2.ellipse(frame, (320, 280), (120, 230), 0, 0, 360, (170, 40, 40), -1)
    cv2.circle(frame, (320, 90), 40, (225, 180, 150), -1)
    return frame


def test_frame_without_a_person_comes_back_unchanged(garment: PreparedGarment) -> None:
    session = LiveTryOn(garment, pose_source=FakePoseSource([False, True, False]))
    frame = plain_frame()
    for i, expect_person in enumerate([False, True, False]):
        out, info = session.process(frame, i / FPS)
        assert info.person_found is expect_person
        if expect_person:
            assert info.problem_type is None
            assert not np.array_equal(out, frame)
        else:
            assert info.problem_type == "no-person"
            assert info.problem_detail
            assert np.array_equal(out, frame)
            assert info.points_px is None


def test_garment_is_drawn_on_the_torso_and_nothing_changes_outside_the_box(
    garment: PreparedGarment,
) -> None:
    session = LiveTryOn(garment, pose_source=FakePoseSource([True]))
    frame = plain_frame()
    out, info = session.process(frame, 0.0)
    assert out.shape == frame.shape and out.dtype == np.uint8
    torso = (slice(185, 235), slice(290, 350))
    # The navy tee (31, 45, 84) replaces the red shirt (170, 40, 40) on the torso.
    before = frame[torso].reshape(-1, 3).mean(axis=0)
    after = out[torso].reshape(-1, 3).mean(axis=0)
    assert before[0] - after[0] > 60, (before, after)
    assert after[2] > after[0], "blue dominates where the navy tee is"
    assert info.body_box_px is not None
    x0, y0, x1, y1 = info.body_box_px
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert outside.any()
    assert np.array_equal(out[outside], frame[outside])
    for name in ("pose_ms", "smooth_ms", "compose_ms", "total_ms"):
        assert info.timings_ms[name] >= 0


def test_smoothing_steadies_jittery_landmarks(garment: PreparedGarment) -> None:
    frames = 40
    source = FakePoseSource([True] * frames, jitter_px=1.5, seed=3)
    session = LiveTryOn(garment, pose_source=source)
    session.crop_to_body = True
    smoothed = []
    frame = plain_frame()
    for i in range(frames):
        tracked = session.track(frame, i / FPS)
        assert tracked.layout is not None
        smoothed.append(tracked.layout.points())
    # Raw shoulder-left jitter vs smoothed, frame to frame (MediaPipe index 12 -> row 0).
    raw = np.array([p[int(Landmark.right_shoulder)] for p in source.raw_points])
    steady = np.array([p[0] for p in smoothed])
    raw_jitter = np.abs(np.diff(raw[10:], axis=0)).mean()
    steady_jitter = np.abs(np.diff(steady[10:], axis=0)).mean()
    assert steady_jitter < 0.3 * raw_jitter, (raw_jitter, steady_jitter)


def test_switching_garments_changes_the_output(garment: PreparedGarment) -> None:
    products = json.loads(
        (REPO_ROOT / "src" / "fitroom" / "demo" / "data" / "products.json").read_text()
    )
    other = next(
        p for p in products if p["image"]["colour_rgb"][1] > 150 and p["category"] == "tops"
    )
    bgr = cv2.imdecode(np.frombuffer(render_product_image(other), np.uint8), cv2.IMREAD_COLOR)
    light = prepare_garment(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), "upper")
    session = LiveTryOn(garment, pose_source=FakePoseSource([True, True]))
    first, _ = session.process(plain_frame(), 0.0)
    session.set_garment(light)
    second, _ = session.process(plain_frame(), 1 / FPS)
    torso = (slice(185, 235), slice(290, 350))
    assert np.abs(first[torso].astype(int) - second[torso].astype(int)).mean() > 30


def test_no_garment_and_bad_frames_are_refused() -> None:
    session = LiveTryOn(None, pose_source=FakePoseSource([True]))
    with pytest.raises(InputError, match="choose a garment"):
        session.process(plain_frame(), 0.0)
    with pytest.raises(InputError, match="8-bit RGB"):
        check_frame(np.zeros((480, 640), np.uint8))
    with pytest.raises(InputError, match="at least 64 px"):
        check_frame(np.zeros((40, 640, 3), np.uint8))
    with pytest.raises(ImageTooLarge):
        check_frame(np.zeros((2160, 3840, 3), np.uint8))


def test_body_box_is_the_whole_frame_when_the_body_is_off_screen(
    garment: PreparedGarment,
) -> None:
    session = LiveTryOn(garment, pose_source=FakePoseSource([True]))
    tracked = session.track(plain_frame(), 0.0)
    assert tracked.layout is not None
    box = body_box(tracked.layout, (480, 640))
    assert 0 < box[0] < 200 and box[2] > 440 and box[1] < 60 and box[3] == 480
    far = tracked.layout.with_points(tracked.layout.points() + 5000)
    assert body_box(far, (480, 640)) == (0, 0, 640, 480)


# ------------------------------------------------------------------ real tracker, real photo


needs_data = pytest.mark.skipif(
    not PERSON_DIR.is_dir() or not GARMENT_DIR.is_dir(),
    reason=f"try-on photos not found under {data_dir()} (set FITROOM_DATA_DIR)",
)


def real_garment() -> PreparedGarment:
    bgr = cv2.imread(str(sorted(GARMENT_DIR.glob("*.jpg"))[0]))
    return prepare_garment(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), "upper")


@pytest.mark.data
@needs_data
def test_real_tracker_still_video_gives_steady_landmarks_and_crop_matches_full_frame() -> None:
    person = sorted(PERSON_DIR.glob("*.jpg"))[0]
    frame = letterboxed_person(person)
    session = LiveTryOn(real_garment())
    try:
        points = []
        for i in range(30):
            _out, info = session.process(frame, i / FPS)
            assert info.person_found, info.problem_detail
            assert info.points_px is not None
            points.append(info.points_px)
        # MediaPipe's tracker refines its region over the first frames of a stream;
        # after that a still frame gives still landmarks.
        settled = np.array(points[20:])
        spread_px = np.abs(settled - settled.mean(axis=0)).max()
        assert spread_px < 1.0, f"landmarks of a still frame move by {spread_px:.2f} px"
        step_px = np.abs(np.diff(settled, axis=0)).max()
        assert step_px < 0.3, f"landmarks of a still frame jump by {step_px:.2f} px"
        assert info.body_box_px is not None
        x0, y0, x1, y1 = info.body_box_px
        assert (x1 - x0) * (y1 - y0) < 0.8 * 640 * 480, "the box leaves part of the frame out"
        # Try-on on the body box, pasted back, is try-on on the whole frame.
        tracked = session.track(frame, 30 / FPS)
        assert tracked.layout is not None and session.garment is not None
        boxed, _ = session.render(tracked)
        whole = try_on(frame, session.garment, tracked.layout).image
        difference = np.abs(boxed.astype(np.int16) - whole.astype(np.int16))
        assert difference.mean() < 1.0, difference.mean()
        assert np.abs(boxed.astype(np.int16) - frame.astype(np.int16)).mean() > 3.0
    finally:
        session.close()


@pytest.mark.data
@needs_data
def test_real_tracker_follows_a_moving_person() -> None:
    person = sorted(PERSON_DIR.glob("*.jpg"))[0]
    session = LiveTryOn(real_garment())
    try:
        xs = []
        for i in range(24):
            shift_px = 0 if i < 12 else 40
            _out, info = session.process(letterboxed_person(person, shift_px), i / FPS)
            assert info.points_px is not None
            xs.append(float(info.points_px[:2, 0].mean()))
        # The shoulders moved 40 px to the right at frame 12; 8 frames later, so did we.
        assert xs[19] - xs[11] == pytest.approx(40.0, abs=4.0), xs
    finally:
        session.close()
