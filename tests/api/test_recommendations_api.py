"""Recommendation endpoints and event batches over HTTP (real uvicorn, real SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fitroom.config import Settings
from fitroom.store.db import Database
from tests.api.test_api import admin, assert_problem
from tests.conftest import LiveServer
from tests.recsys_shop import BUYER_OF_OXFORD, MEASURED_SHOPPER, seed_shop

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture()
def client(settings: Settings, db: Database) -> Iterator[httpx.Client]:
    seed_shop(db)
    # Generous: POST /v1/recsys/train fits and exports the model inside the request,
    # and CI runs two test workers on two cores.
    with LiveServer(settings, db) as server, httpx.Client(base_url=server.url, timeout=120) as c:
        yield c


def event_count(client: httpx.Client) -> int:
    response = client.get("/v1/events", params={"limit": 1000}, headers=admin())
    assert response.status_code == 200, response.text
    return len(response.json())


def test_fallback_then_train_then_personal(client: httpx.Client) -> None:
    cold = client.get(f"/v1/shoppers/{BUYER_OF_OXFORD}/recommendations", params={"k": 2})
    assert cold.status_code == 200, cold.text
    assert cold.json()["model"] == "popularity-fallback"
    assert cold.json()["model_version"] is None

    assert_problem(client.post("/v1/recsys/train"), 401, "unauthorized")
    trained = client.post("/v1/recsys/train", headers=admin())
    assert trained.status_code == 200, trained.text
    meta = trained.json()
    assert meta["version"] == "v0001" and meta["model"] == "hybrid" and meta["events"] == 28
    assert meta["runtime"] == "onnx" and 0 <= meta["runtime_max_abs_diff"] < 1e-3

    body = client.get(f"/v1/shoppers/{BUYER_OF_OXFORD}/recommendations").json()
    assert body["shopper_id"] == BUYER_OF_OXFORD
    assert body["model"] == "hybrid" and body["model_version"] == "v0001"
    assert body["items"][0] == {
        "product_id": "chinos",
        "title": "Chino trousers",
        "score": body["items"][0]["score"],
        "reason": "often bought with Oxford shirt",
        "fit_size": None,
    }
    assert body["items"][0]["score"] > 0

    assert client.post("/v1/recsys/train", headers=admin()).json()["version"] == "v0002"
    again = client.get(f"/v1/shoppers/{BUYER_OF_OXFORD}/recommendations").json()
    assert again["model_version"] == "v0002"


def test_unknown_shopper_is_a_cold_start_and_fit_is_reported(client: httpx.Client) -> None:
    client.post("/v1/recsys/train", headers=admin())
    unknown = client.get("/v1/shoppers/nobody-yet/recommendations", params={"k": 3})
    assert unknown.status_code == 200
    # 6 and 5 purchases; then denim jacket and linen shirt tie (3), catalogue order.
    assert [i["product_id"] for i in unknown.json()["items"]] == [
        "oxford",
        "chinos",
        "denim-jacket",
    ]
    measured = client.get(f"/v1/shoppers/{MEASURED_SHOPPER}/recommendations").json()
    fits = {i["product_id"]: i["fit_size"] for i in measured["items"]}
    assert fits["basic-tee"] == "L" and "striped-tee" not in fits


def test_similar_and_outfit(client: httpx.Client) -> None:
    client.post("/v1/recsys/train", headers=admin())
    similar = client.get("/v1/products/oxford/similar", params={"k": 2}).json()
    assert similar["product_id"] == "oxford"
    assert [i["product_id"] for i in similar["items"]] == ["chinos", "linen"]
    look = client.get("/v1/products/oxford/outfit").json()
    assert look["items"][0]["product_id"] == "chinos"
    assert look["items"][0]["reason"] == "often bought with Oxford shirt"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/shoppers/someone/recommendations",
        "/v1/products/oxford/similar",
        "/v1/products/oxford/outfit",
    ],
)
@pytest.mark.parametrize("k", [0, 101, "many"])
def test_k_out_of_range_is_422(client: httpx.Client, path: str, k: object) -> None:
    body = assert_problem(client.get(path, params={"k": k}), 422, "validation-error")
    assert body["errors"] == [{"field": "query.k", "reason": body["errors"][0]["reason"]}]


@pytest.mark.parametrize("endpoint", ["similar", "outfit"])
def test_unknown_product_is_404(client: httpx.Client, endpoint: str) -> None:
    body = assert_problem(client.get(f"/v1/products/nope/{endpoint}"), 404, "not-found")
    assert body["product_id"] == "nope"


def test_event_batch_with_a_bad_row_writes_nothing(client: httpx.Client) -> None:
    before = event_count(client)
    batch = [
        {"kind": "view", "product_id": "oxford", "shopper_id": "batch-1"},
        {"kind": "add_to_cart", "product_id": "oxford", "shopper_id": "batch-1"},
        {"kind": "purchase", "product_id": "oxford", "shopper_id": "batch-1"},
    ]
    body = assert_problem(client.post("/v1/events", json=batch), 422, "invalid-batch")
    assert body["errors"] == [
        {"row": 3, "field": None, "reason": "a purchase needs the size bought"}
    ]
    assert "nothing was written" in str(body["detail"])
    assert event_count(client) == before
    assert client.get("/v1/shoppers/batch-1").status_code == 404  # not even the shopper

    batch[2]["size"] = "M"
    stored = client.post("/v1/events", json=batch)
    assert stored.status_code == 201, stored.text
    assert [e["kind"] for e in stored.json()] == ["view", "add_to_cart", "purchase"]
    assert event_count(client) == before + 3


def test_single_event_form_is_unchanged(client: httpx.Client) -> None:
    one = client.post("/v1/events", json={"kind": "view", "product_id": "linen"})
    assert one.status_code == 201 and one.json()["product_id"] == "linen"
    bad = assert_problem(
        client.post("/v1/events", json={"kind": "look", "product_id": "linen"}),
        422,
        "validation-error",
    )
    assert [e["field"] for e in bad["errors"]] == ["kind"]
    assert_problem(client.post("/v1/events", json=[]), 422, "invalid-input")
    assert_problem(client.post("/v1/events", json="view"), 422, "validation-error")
    schema = client.get("/openapi.json").json()["paths"]["/v1/events"]["post"]
    assert "oneOf" in schema["requestBody"]["content"]["application/json"]["schema"]
