"""``/v1/try-on/stream``: the live try-on WebSocket, with the real app and real MediaPipe.

A product's demo photo and an uploaded garment both get ``garment-ready``; each JPEG
frame gets a status message and one JPEG back, in order; bad frames (not a JPEG, too
many bytes, a frame before any garment) get an error message with the frame's ``seq``
and the stream goes on; a frame with nobody in it comes back unchanged.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.typing import NDArray

from fitroom.api.app import create_app
from fitroom.config import Settings
from fitroom.demo.images import render_product_image
from fitroom.services import catalog
from fitroom.store.db import Database
from tests.conftest import ADMIN_KEY, REPO_ROOT, data_dir, seed_small_catalog
from tests.tryon.frames import letterboxed_person

PERSON_DIR = data_dir() / "tryon" / "person"
GARMENT_DIR = data_dir() / "tryon" / "garment"


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(var_dir=tmp_path / "var", admin_api_key=ADMIN_KEY, max_upload_bytes=300_000)
    database = Database(settings.resolved_database_url)
    database.upgrade()
    seed_small_catalog(database)
    products = json.loads(
        (REPO_ROOT / "src" / "fitroom" / "demo" / "data" / "products.json").read_text()
    )
    tee = next(p for p in products if p["product_id"] == "nf-w-tee-001")
    photo = settings.resolved_media_dir / "products" / "acme-tee.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(render_product_image(tee))
    with database.session() as session:
        product = catalog.get_product(session, "acme-tee")
        product.images = ["/media/products/acme-tee.jpg"]
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client
    database.dispose()


def jpeg(rgb: NDArray[np.uint8], quality: int = 85) -> bytes:
    ok, buffer = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return bytes(buffer)


def decode(data: bytes) -> NDArray[np.uint8]:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None, "the server's answer is a JPEG"
    rgb: NDArray[np.uint8] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return rgb


def empty_room() -> NDArray[np.uint8]:
    frame = np.full((480, 640, 3), (205, 200, 190), np.uint8)
    cv2.rectangle(frame, (40, 300), (200, 470), (120, 80, 50), -1)  # a chair, no person
    return frame


def test_product_garment_then_frames_in_order_and_bad_frames_go_on(client: TestClient) -> None:
    with client.websocket_connect("/v1/try-on/stream") as ws:
        ws.send_bytes(jpeg(empty_room()))
        early: dict[str, Any] = ws.receive_json()
        assert early["type"] == "invalid-input" and early["seq"] == 1
        assert "choose a garment" in early["detail"]

        ws.send_text(json.dumps({"product_id": "acme-tee"}))
        ready = ws.receive_json()
        assert ready["type"] == "garment-ready", ready
        assert ready["garment"] == {"product_id": "acme-tee", "category": "upper"}

        ws.send_bytes(b"GIF89a not a jpeg at all")
        ws.send_bytes(b"\xff\xd8\xff" + bytes(400_000))
        ws.send_bytes(b"\xff\xd8\xff\xe0 truncated")
        frame = empty_room()
        ws.send_bytes(jpeg(frame))
        not_jpeg = ws.receive_json()
        assert not_jpeg["type"] == "invalid-image" and not_jpeg["seq"] == 2
        too_big = ws.receive_json()
        assert too_big["type"] == "image-too-large" and too_big["seq"] == 3
        assert too_big["max_upload_bytes"] == 300_000
        broken = ws.receive_json()
        assert broken["type"] == "invalid-image" and broken["seq"] == 4

        status = ws.receive_json()
        assert status["type"] == "frame" and status["seq"] == 5
        assert status["person_found"] is False and status["problem"] == "no-person"
        assert status["server_ms"] > 0
        back = decode(ws.receive_bytes())
        assert back.shape == frame.shape
        # Nobody to dress: the frame comes back as it went (up to JPEG loss twice).
        assert np.abs(back.astype(int) - frame.astype(int)).mean() < 2.0

        ws.send_text(json.dumps({"product_id": "no-such-product"}))
        missing = ws.receive_json()
        assert missing["type"] == "not-found"
        ws.send_text(json.dumps({"product_id": "acme-jeans"}))
        jeans = ws.receive_json()
        # The same rules as the photo try-on: these trousers have no photo to cut.
        assert jeans["type"] == "no-garment" and "no photo" in jeans["detail"]
        ws.send_text("{not json")
        assert ws.receive_json()["type"] == "invalid-input"


def test_uploaded_garment_that_cannot_be_used_is_explained(client: TestClient) -> None:
    noise = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    with client.websocket_connect("/v1/try-on/stream") as ws:
        ws.send_text(json.dumps({"garment": base64.b64encode(jpeg(noise)).decode()}))
        refused = ws.receive_json()
        assert refused["type"] == "garment-background-busy", refused
        assert refused["advice"]
        ws.send_text(json.dumps({"garment": "!!not base64!!", "category": "upper"}))
        assert ws.receive_json()["type"] == "invalid-image"
        ws.send_text(json.dumps({"garment": base64.b64encode(jpeg(noise)).decode(),
                                 "category": "hat"}))  # fmt: skip
        assert ws.receive_json()["type"] == "unsupported-category"


def person_frame(shift_px: int = 0) -> NDArray[np.uint8]:
    return letterboxed_person(sorted(PERSON_DIR.glob("*.jpg"))[0], shift_px)


@pytest.mark.data
@pytest.mark.skipif(
    not PERSON_DIR.is_dir() or not GARMENT_DIR.is_dir(),
    reason=f"try-on photos not found under {data_dir()} (set FITROOM_DATA_DIR)",
)
def test_uploaded_garment_is_drawn_on_a_real_person_with_two_frames_in_flight(
    tmp_path: Path,
) -> None:
    settings = Settings(var_dir=tmp_path / "var", admin_api_key=ADMIN_KEY)
    database = Database(settings.resolved_database_url)
    database.upgrade()
    garment_jpeg = sorted(GARMENT_DIR.glob("*.jpg"))[0].read_bytes()
    frames = [person_frame(shift) for shift in (0, 2, 4, 2, 0, -2)]
    with (
        TestClient(create_app(settings, database)) as client,
        client.websocket_connect("/v1/try-on/stream") as ws,
    ):
        ws.send_text(json.dumps({"garment": base64.b64encode(garment_jpeg).decode()}))
        assert ws.receive_json()["type"] == "garment-ready"
        ws.send_bytes(jpeg(frames[0]))
        ws.send_bytes(jpeg(frames[1]))
        answers = []
        for index in range(len(frames)):
            status = ws.receive_json()
            image = decode(ws.receive_bytes())
            answers.append((status, image))
            if index + 2 < len(frames):
                ws.send_bytes(jpeg(frames[index + 2]))
    database.dispose()
    assert [status["seq"] for status, _ in answers] == list(range(1, len(frames) + 1))
    for (status, image), frame in zip(answers, frames, strict=True):
        assert status["person_found"] is True, status
        for name in ("decode_ms", "pose_ms", "compose_ms", "encode_ms"):
            assert status["timings_ms"][name] > 0
        # The chest changed (the garment is drawn); the top corners did not.
        chest = (slice(150, 230), slice(280, 360))
        assert np.abs(image[chest].astype(int) - frame[chest].astype(int)).mean() > 20
        corner = (slice(0, 60), slice(0, 60))
        assert np.abs(image[corner].astype(int) - frame[corner].astype(int)).mean() < 3


def test_leaving_with_frames_in_flight_is_clean(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(2):
        with client.websocket_connect("/v1/try-on/stream") as ws:
            ws.send_text(json.dumps({"product_id": "acme-tee"}))
            ws.send_bytes(jpeg(empty_room()))
            ws.send_bytes(jpeg(empty_room()))
            assert ws.receive_json()["type"] == "garment-ready"
        # Closed with two frames unanswered; the next session starts afresh.
    with client.websocket_connect("/v1/try-on/stream") as ws:
        ws.send_text(json.dumps({"product_id": "acme-tee"}))
        assert ws.receive_json()["type"] == "garment-ready"
        ws.send_bytes(jpeg(empty_room()))
        assert ws.receive_json()["seq"] == 1
        assert decode(ws.receive_bytes()).shape == (480, 640, 3)
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []
