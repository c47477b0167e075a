"""The HTTP API against a real uvicorn server on 127.0.0.1 and a real SQLite file."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import ADMIN_KEY, MEN_TOPS, LiveServer

PROBLEM = "application/problem+json"


@pytest.fixture()
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=10)


def admin() -> dict[str, str]:
    return {"X-Admin-Key": ADMIN_KEY}


def assert_problem(response: httpx.Response, status: int, type_slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = response.json()
    assert body["type"] == f"urn:fitroom:problem:{type_slug}"
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_health_docs_and_openapi(client: httpx.Client) -> None:
    assert client.get("/v1/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/size-recommendations" in paths
    assert "/v1/measurements/estimate" in paths


def test_recommend_by_chart(client: httpx.Client) -> None:
    response = client.post(
        "/v1/size-recommendations",
        json={
            "chart_id": "acme-men-tops",
            "measurements": {"chest_cm": 100, "waist_cm": 88},
            "fit": "regular",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["size"] == "M"
    assert body["fits"][0]["zones"][0] == {
        "zone": "chest",
        "body_cm": 100.0,
        "size_range_cm": [96.0, 104.0],
        "ease_cm": 0.0,
        "fit": "regular",
        "estimated": False,
    }
    assert "M's 96-104 range" in body["reason"]


def test_recommend_by_product_reports_stock_and_estimates(client: httpx.Client) -> None:
    response = client.post(
        "/v1/size-recommendations",
        json={
            "product_id": "acme-jeans",
            "measurements": {"waist_cm": 81, "height_cm": 180, "weight_kg": 78},
            "sex": "male",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["size"].startswith("W32 ")
    assert set(body["estimated_zones"]) == {"hip", "inseam"}
    assert body["in_stock"] is True


def test_recommend_with_inches_in_cm_field_is_refused(client: httpx.Client) -> None:
    response = client.post(
        "/v1/size-recommendations",
        json={"chart_id": "acme-men-tops", "measurements": {"chest_cm": 40, "waist_cm": 32}},
    )
    body = assert_problem(response, 422, "likely-wrong-unit")
    assert "inches" in str(body["detail"])
    assert body["field"] in ("chest_cm", "waist_cm")


def test_explicit_inches_are_accepted(client: httpx.Client) -> None:
    response = client.post(
        "/v1/size-recommendations",
        json={"chart_id": "acme-men-tops", "measurements": {"chest_in": 39.4, "waist_in": 34.6}},
    )
    assert response.json()["size"] == "M"


@pytest.mark.parametrize(
    ("payload", "status", "slug"),
    [
        ({"chart_id": "nope", "measurements": {"chest_cm": 100}}, 404, "not-found"),
        ({"measurements": {"chest_cm": 100}}, 422, "validation-error"),
        ({"chart_id": "acme-men-tops", "measurements": {}}, 422, "not-enough-measurements"),
        (
            {"chart_id": "acme-men-tops", "measurements": {"hip_cm": 100}},
            422,
            "not-enough-measurements",
        ),
        (
            {"chart_id": "acme-men-tops", "measurements": {"chest_cm": "big"}},
            422,
            "validation-error",
        ),
        (
            {"chart_id": "acme-men-tops", "measurements": {"chest_cm": 400}},
            422,
            "measurement-out-of-range",
        ),
        (
            {"chart_id": "acme-men-tops", "measurements": {"chest_cm": 100}, "fit": "baggy"},
            422,
            "validation-error",
        ),
    ],
)
def test_recommendation_errors(
    client: httpx.Client, payload: dict[str, object], status: int, slug: str
) -> None:
    assert_problem(client.post("/v1/size-recommendations", json=payload), status, slug)


def test_malformed_json_is_a_problem(client: httpx.Client) -> None:
    response = client.post(
        "/v1/size-recommendations",
        content=b'{"chart_id": ',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 422, "validation-error")


def test_estimate(client: httpx.Client) -> None:
    response = client.post(
        "/v1/measurements/estimate", json={"height_cm": 178, "weight_kg": 80, "sex": "male"}
    )
    assert response.status_code == 200, response.text
    chest = response.json()["measurements"]["chest"]
    assert 92 < chest["value_cm"] < 108
    assert 1 < chest["plus_minus_cm"] < 8
    assert_problem(
        client.post("/v1/measurements/estimate", json={"height_cm": 70, "sex": "male"}),
        422,
        "likely-wrong-unit",
    )


def test_catalog_reads_are_open_and_writes_need_the_key(client: httpx.Client) -> None:
    page = client.get("/v1/products", params={"category": "tops"}).json()
    assert [p["product_id"] for p in page["items"]] == ["acme-tee"]
    in_stock = client.get("/v1/products", params={"size": "L"}).json()
    assert "acme-tee" not in [p["product_id"] for p in in_stock["items"]]  # L has no stock

    chart = dict(MEN_TOPS, chart_id="acme-men-tops-2")
    assert_problem(client.put("/v1/size-charts/acme-men-tops-2", json=chart), 401, "unauthorized")
    bad_key = {"X-Admin-Key": "wrong"}
    assert_problem(
        client.put("/v1/size-charts/acme-men-tops-2", json=chart, headers=bad_key),
        401,
        "unauthorized",
    )
    ok = client.put("/v1/size-charts/acme-men-tops-2", json=chart, headers=admin())
    assert ok.status_code == 200, ok.text
    assert client.get("/v1/size-charts/acme-men-tops-2").json()["sizes"][1]["label"] == "M"


def test_product_with_unknown_size_is_refused(client: httpx.Client) -> None:
    product = {
        "product_id": "acme-polo",
        "brand_id": "acme",
        "chart_id": "acme-men-tops",
        "category": "tops",
        "gender": "men",
        "title": "Polo",
        "price": 29.9,
        "sizes": [{"label": "M", "stock": 1}, {"label": "XXXL", "stock": 1}],
    }
    body = assert_problem(
        client.put("/v1/products/acme-polo", json=product, headers=admin()), 422, "unknown-size"
    )
    assert body["size"] == "XXXL"
    assert client.get("/v1/products/acme-polo").status_code == 404


def test_csv_import_with_bad_rows_writes_nothing(client: httpx.Client) -> None:
    csv_text = (
        "product_id,brand_id,chart_id,category,gender,title,price,sizes\n"
        "acme-a,acme,acme-men-tops,tops,men,Tee A,10,S:1|M:2\n"
        "acme-b,acme,acme-men-tops,tops,men,Tee B,-5,S:1\n"
        "acme-c,acme,acme-men-tops,hats,men,Tee C,10,S:1\n"
        "acme-d,acme,acme-men-tops,tops,men,Tee D,10,Q:1\n"
    )
    response = client.post(
        "/v1/imports/products",
        files={"file": ("products.csv", csv_text, "text/csv")},
        headers=admin(),
    )
    body = assert_problem(response, 422, "import-failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {(e["row"], e["field"]) for e in errors} == {(3, "price"), (4, "category"), (5, "sizes")}
    assert client.get("/v1/products/acme-a").status_code == 404, "no partial writes"

    good = "\n".join(csv_text.splitlines()[:2]) + "\n"
    response = client.post(
        "/v1/imports/products",
        files={"file": ("products.csv", good, "text/csv")},
        headers=admin(),
    )
    assert response.json() == {"kind": "products", "created": 1, "updated": 0}
    assert client.get("/v1/products/acme-a").json()["sizes"][1] == {"label": "M", "stock": 2}


def test_bad_uploads_are_refused(client: httpx.Client) -> None:
    latin1 = "product_id,brand_id,category,gender,title,price,sizes\nacme-é,acme,tops,men,T,1,S:1\n"
    body = assert_problem(
        client.post(
            "/v1/imports/products",
            files={"file": ("p.csv", latin1.encode("latin-1"), "text/csv")},
            headers=admin(),
        ),
        422,
        "invalid-input",
    )
    assert "UTF-8" in str(body["detail"])
    assert_problem(
        client.post(
            "/v1/imports/products",
            files={"file": ("p.txt", b"hello", "text/plain")},
            headers=admin(),
        ),
        422,
        "invalid-input",
    )
    huge = b"x" * 10_000_001
    assert_problem(
        client.post(
            "/v1/imports/products",
            content=huge,
            headers={**admin(), "content-type": "text/csv"},
        ),
        422,
        "invalid-input",
    )
    missing_column = "product_id,title\nx,y\n"
    body = assert_problem(
        client.post(
            "/v1/imports/products",
            files={"file": ("p.csv", missing_column, "text/csv")},
            headers=admin(),
        ),
        422,
        "import-failed",
    )
    assert "brand_id" in str(body["detail"])


def test_json_chart_import_and_malformed_json(client: httpx.Client) -> None:
    charts = [dict(MEN_TOPS, chart_id="acme-men-knit")]
    ok = client.post(
        "/v1/imports/size-charts",
        content=json.dumps(charts),
        headers={**admin(), "content-type": "application/json"},
    )
    assert ok.json() == {"kind": "charts", "created": 1, "updated": 0}
    broken = client.post(
        "/v1/imports/size-charts",
        content=b"[{",
        headers={**admin(), "content-type": "application/json"},
    )
    assert_problem(broken, 422, "import-failed")


def test_shopper_consent_and_deletion(client: httpx.Client) -> None:
    created = client.post("/v1/shoppers", json={"sex": "male"})
    assert created.status_code == 201
    shopper_id = created.json()["shopper_id"]
    measurements = {"chest_cm": 100, "waist_cm": 88}
    no_consent = client.put(
        f"/v1/shoppers/{shopper_id}/measurements",
        json={"consent": False, "measurements": measurements},
    )
    assert_problem(no_consent, 422, "consent-required")
    assert client.get(f"/v1/shoppers/{shopper_id}").json()["measurements"] is None

    stored = client.put(
        f"/v1/shoppers/{shopper_id}/measurements",
        json={"consent": True, "measurements": measurements},
    )
    assert stored.json()["measurements"]["values"] == {"chest": 100.0, "waist": 88.0}
    rec = client.post(
        "/v1/size-recommendations", json={"chart_id": "acme-men-tops", "shopper_id": shopper_id}
    ).json()
    assert rec["size"] == "M" and rec["measurements_from"] == "stored"

    assert client.delete(f"/v1/shoppers/{shopper_id}/measurements").status_code == 204
    assert client.get(f"/v1/shoppers/{shopper_id}").json()["measurements"] is None
    assert client.delete(f"/v1/shoppers/{shopper_id}").status_code == 204
    assert_problem(client.get(f"/v1/shoppers/{shopper_id}"), 404, "not-found")


def test_events_validate_size_and_reason(client: httpx.Client) -> None:
    ok = client.post(
        "/v1/events",
        json={"kind": "purchase", "product_id": "acme-tee", "shopper_id": "s1", "size": "M"},
    )
    assert ok.status_code == 201, ok.text
    assert_problem(
        client.post("/v1/events", json={"kind": "return", "product_id": "acme-tee", "size": "M"}),
        422,
        "validation-error",
    )
    assert_problem(
        client.post(
            "/v1/events", json={"kind": "purchase", "product_id": "acme-tee", "size": "XXS"}
        ),
        422,
        "unknown-size",
    )
    assert_problem(
        client.post("/v1/events", json={"kind": "view", "product_id": "missing"}), 404, "not-found"
    )


def test_returns_shift_the_product_recommendation(client: httpx.Client) -> None:
    """Buyers follow the recommendation; the tee runs one size small, so M comes back."""
    request = {"product_id": "acme-tee", "measurements": {"chest_cm": 100, "waist_cm": 88}}
    sizes = []
    for i in range(12):
        size = client.post("/v1/size-recommendations", json=request).json()["size"]
        sizes.append(size)
        shopper = f"buyer{i}"
        purchase = {"kind": "purchase", "product_id": "acme-tee", "shopper_id": shopper}
        assert client.post("/v1/events", json={**purchase, "size": size}).status_code == 201
        if size == "M":  # one size too small for this body
            returned = {**purchase, "kind": "return", "size": size, "return_reason": "too_small"}
            assert client.post("/v1/events", json=returned).status_code == 201
    assert sizes[0] == "M"
    assert sizes[-4:] == ["L"] * 4, sizes
    body = client.post("/v1/size-recommendations", json=request).json()
    assert body["size"] == "L"
    assert body["adjustments"][0]["source"] == "product"
    assert 0.5 < body["adjustments"][0]["size_steps"] < 1.6
    assert "runs small" in body["reason"]


def test_unknown_route_is_a_problem(client: httpx.Client) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404, "not-found")
