"""The live try-on page in a real browser with a fake camera that films a real person.

Chromium's fake capture device plays a .y4m file made here from a VITON-HD person photo
(letterboxed into 640x480, shifted a few pixels from frame to frame). The page sends the
frames over the real WebSocket to a real uvicorn server, which tracks the person with
MediaPipe and draws the uploaded garment on them. Asserts: frames come back, the shown
picture differs from the camera's in the chest (the garment is drawn) but not in the
background, the page reports fps and server ms, and nothing logs an error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest

from tests.conftest import LiveServer, data_dir
from tests.tryon.frames import letterboxed_bgr
from tests.web.conftest import NEEDS_BROWSER, BrowserPage, chromium_context

PERSON_DIR = data_dir() / "tryon" / "person"
GARMENT_DIR = data_dir() / "tryon" / "garment"
FAKE_CAMERA_FPS = 15
FAKE_CAMERA_SECONDS = 2

pytestmark = [
    *NEEDS_BROWSER,
    pytest.mark.skipif(
        not PERSON_DIR.is_dir() or not GARMENT_DIR.is_dir(),
        reason=f"try-on photos not found under {data_dir()} (set FITROOM_DATA_DIR): the fake "
        "camera films a real person photo",
    ),
    pytest.mark.data,
    pytest.mark.xdist_group("web"),
]


def write_y4m(path: Path, person_photo: Path) -> None:
    """A 640x480 Y4M video (4:2:0) of the photo letterboxed, swaying +-3 px sideways."""
    frame_count = FAKE_CAMERA_FPS * FAKE_CAMERA_SECONDS
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W640 H480 F{FAKE_CAMERA_FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for index in range(frame_count):
            shift_px = round(3 * math.sin(2 * math.pi * index / frame_count))
            frame = letterboxed_bgr(person_photo, shift_px)
            video.write(b"FRAME\n")
            video.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Chromium whose fake camera plays the person video (overrides conftest's)."""
    video = tmp_path_factory.mktemp("fake-camera") / "person.y4m"
    write_y4m(video, sorted(PERSON_DIR.glob("*.jpg"))[0])
    fake_camera = [f"--use-file-for-fake-video-capture={video}"]
    with chromium_context(tmp_path_factory, fake_camera, height_px=900) as context:
        yield context


COMPARE_JS = """() => {
  const video = document.getElementById('camera');
  const grab = document.createElement('canvas');
  grab.width = 640; grab.height = 480;
  const g = grab.getContext('2d');
  g.drawImage(video, 0, 0, 640, 480);
  const camera = g.getImageData(0, 0, 640, 480).data;
  const result = document.getElementById('result').getContext('2d');
  const shown = result.getImageData(0, 0, 640, 480).data;
  const meanDiff = (x0, y0, x1, y1) => {
    let sum = 0, n = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let k = 0; k < 3; k++) {
      const i = (y * 640 + x) * 4 + k;
      sum += Math.abs(camera[i] - shown[i]); n++;
    }
    return sum / n;
  };
  return {chest: meanDiff(280, 150, 360, 230), corner: meanDiff(0, 0, 60, 60)};
}"""


def test_live_page_loads_clean_and_fits_a_phone(web: BrowserPage) -> None:
    web.goto("/try-on/live")
    web.page.wait_for_function("document.querySelectorAll('#product option').length > 1")
    options = web.page.eval_on_selector_all("#product option", "os => os.map(o => o.value)")
    assert all(re.fullmatch(r"[a-z]{2}-[wm]-[a-z]+-\d{3}", o) for o in options[1:]), options
    # Tops, trousers and dresses can all be tried on.
    assert any("-trousers-" in o for o in options) and any("-dress" in o for o in options), options
    web.page.set_viewport_size({"width": 390, "height": 844})
    web.page.wait_for_timeout(200)
    overflow = web.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow} px wider than a 390 px phone screen"
    unlabelled = web.page.evaluate(
        """[...document.querySelectorAll('input, select, textarea, button')]
             .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                          && !e.textContent.trim())
             .map(e => e.outerHTML)"""
    )
    assert unlabelled == []
    assert web.errors == [], web.errors


def test_webcam_frames_come_back_dressed(web: BrowserPage, demo_server: LiveServer) -> None:
    garment = sorted(GARMENT_DIR.glob("*.jpg"))[0]
    web.goto("/try-on/live")
    web.page.set_input_files("#garment-file", str(garment))
    web.page.click("#start")
    web.page.wait_for_function(
        "Number(document.getElementById('stage').dataset.frames) >= 12", timeout=30_000
    )
    assert web.page.get_attribute("#stage", "data-state") == "live"
    fps = float(web.page.text_content("#fps") or "0")
    server_ms = float(web.page.text_content("#server-ms") or "0")
    assert fps > 0 and server_ms > 0, (fps, server_ms)
    difference = web.page.evaluate(COMPARE_JS)
    # The garment covers the chest; the background around the person is left alone.
    assert difference["chest"] > 25, difference
    assert difference["corner"] < 8, difference
    web.screenshot("tryon-live")

    # Switch to a catalog top: the stream goes on with the new garment.
    shown_before = int(web.page.get_attribute("#stage", "data-frames") or "0")
    web.page.select_option("#product", index=1)
    web.page.wait_for_function(
        f"Number(document.getElementById('stage').dataset.frames) >= {shown_before + 8}"
    )
    assert web.page.locator("#errors .notice").count() == 0
    web.page.click("#stop")
    assert web.page.get_attribute("#stage", "data-state") == "idle"
    assert web.errors == [], web.errors


def test_denied_camera_is_explained(web: BrowserPage) -> None:
    # The browser's answer when the shopper says no (injected before the page runs).
    web.page.add_init_script(
        """navigator.mediaDevices.getUserMedia = () =>
             Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));"""
    )
    web.goto("/try-on/live")
    web.page.click("#start")
    notice = web.page.locator("#errors .notice.error")
    notice.wait_for()
    assert "Camera access was denied" in (notice.text_content() or "")
    assert web.page.get_attribute("#stage", "data-state") == "error"
    assert web.page.is_enabled("#start")
    assert web.errors == [], web.errors
