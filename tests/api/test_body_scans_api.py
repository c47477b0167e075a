"""``/v1/body-scans`` on a real uvicorn server with the real photos and shipped models.

The A-pose pair shows one woman of 165 cm; her measurements are not published, so the
checks are the ranges any adult of that height can have plus agreement between the
front-only and front+side scans. Refusals come back as problem+json with the reason's
own type and advice; photos are never written anywhere; numbers are kept only with
consent, and a kept scan sizes a product.
"""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from fitroom.body.measure_model import shipped_model_dir
from tests.conftest import LiveServer, data_dir

APOSES = data_dir() / "people" / "aposes"
pytestmark = [
    pytest.mark.parametrize("backend", ["sqlite"]),
    pytest.mark.skipif(
        not (APOSES / "person_a_front.jpg").is_file(),
        reason=f"real A-pose photos not found in {APOSES} (set FITROOM_DATA_DIR)",
    ),
    pytest.mark.skipif(
        not (shipped_model_dir() / "front_side" / "config.json").is_file(),
        reason="no shipped measurement model (scripts/train_body_measure.py)",
    ),
]
PROBLEM = "application/problem+json"


@pytest.fixture()
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=120)


def photo(name: str) -> bytes:
    return (APOSES / name).read_bytes()


def scan(client: httpx.Client, side: bool = True, **form: str) -> httpx.Response:
    files = {"front": ("front.jpg", photo("person_a_front.jpg"), "image/jpeg")}
    if side:
        files["side"] = ("side.jpg", photo("person_a_side.jpg"), "image/jpeg")
    return client.post("/v1/body-scans", files=files, data={"height_cm": "165", **form})


def test_front_and_side_scan_gives_plausible_measurements(client: httpx.Client) -> None:
    response = scan(client, sex="female")
    assert response.status_code == 201, response.text
    body = response.json()
    m = {k: v["value_cm"] for k, v in body["measurements"].items()}
    assert body["views"] == ["front", "side"] and body["model"] == "front_side"
    assert 70 < m["chest_cm"] < 110 and 55 < m["waist_cm"] < 100 and 80 < m["hip_cm"] < 115
    assert m["waist_cm"] < m["hip_cm"]
    assert 65 < m["inseam_cm"] < 85  # about 0.45 of 165 cm
    assert all(v["plus_minus_cm"] > 0 for v in body["measurements"].values())
    assert body["id"] is None and body["stored"] is False
    front_only = scan(client, side=False, sex="female").json()
    assert front_only["model"] == "front" and front_only["warnings"]
    # In her loose T-shirt the front photo alone reads her chest and waist 8-11 cm larger
    # than both photos do (README, "Not good enough yet"); the training renders wear
    # tight clothes. The bound catches a front-only model that has gone further off.
    for name in ("chest_cm", "waist_cm", "hip_cm"):
        assert abs(front_only["measurements"][name]["value_cm"] - m[name]) < 12, name


def test_refused_photo_says_why_and_what_to_do(client: httpx.Client) -> None:
    front = np.asarray(Image.open(io.BytesIO(photo("person_a_front.jpg"))))
    buffer = io.BytesIO()
    Image.fromarray(front[:1100]).save(buffer, format="JPEG")  # feet cut off
    response = client.post(
        "/v1/body-scans",
        files={"front": ("f.jpg", buffer.getvalue(), "image/jpeg")},
        data={"height_cm": "165"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["type"] == "urn:fitroom:problem:body-cut-off"
    assert problem["view"] == "front" and problem["part"] == "feet"
    assert "whole body" in problem["advice"]


@pytest.mark.parametrize(
    ("form", "slug"),
    [
        ({"height_cm": "65"}, "likely-wrong-unit"),
        ({"height_cm": "165", "weight_kg": "900"}, "measurement-out-of-range"),
    ],
)
def test_wrong_units_are_refused_before_any_image_work(
    client: httpx.Client, form: dict[str, str], slug: str
) -> None:
    response = client.post(
        "/v1/body-scans", files={"front": ("f.jpg", b"not even an image")}, data=form
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "urn:fitroom:problem:" + slug


def test_upload_limit_is_413(client: httpx.Client, live_server: LiveServer) -> None:
    limit = live_server.settings.max_upload_bytes
    response = client.post(
        "/v1/body-scans",
        files={"front": ("f.jpg", b"\xff" * (limit + 10))},
        data={"height_cm": "165"},
    )
    assert response.status_code == 413
    assert response.json()["type"] == "urn:fitroom:problem:image-too-large"


def test_consented_scan_is_stored_without_photos_and_sizes_a_product(
    client: httpx.Client, live_server: LiveServer
) -> None:
    before = _files(live_server.settings.var_dir)
    shopper = client.post("/v1/shoppers", json={"sex": "female"}).json()["shopper_id"]
    response = scan(client, sex="female", consent_to_store="true", shopper_id=shopper)
    assert response.status_code == 201, response.text
    scan_id = response.json()["id"]
    assert scan_id and response.json()["stored"] is True
    stored = client.get(f"/v1/body-scans/{scan_id}").json()
    assert stored["measurements"] == response.json()["measurements"]
    # No image file appeared anywhere under the server's var dir.
    new = _files(live_server.settings.var_dir) - before
    assert not [p for p in new if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}]
    rec = client.post(
        "/v1/size-recommendations",
        json={"chart_id": "acme-men-tops", "body_scan_id": scan_id},
    )
    assert rec.status_code == 200, rec.text
    assert rec.json()["measurements_from"] == "body-scan"
    assert client.delete(f"/v1/body-scans/{scan_id}").status_code == 204
    gone = client.get(f"/v1/body-scans/{scan_id}")
    assert gone.status_code == 404


def test_shopper_link_without_consent_is_refused(client: httpx.Client) -> None:
    shopper = client.post("/v1/shoppers", json={}).json()["shopper_id"]
    response = scan(client, shopper_id=shopper)
    assert response.status_code == 422
    assert "consent_to_store" in response.json()["detail"]


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()
