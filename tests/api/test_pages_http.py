"""The pages and their assets over HTTP (no browser): what a shop's visitor first gets.

The browser tests in tests/web check what the pages do; these check, even where no
Chromium is installed, that every page and every module it imports is served, that
three.js comes from the app itself (no CDN), and that the big modules go out gzipped.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import REPO_ROOT, LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
PAGES = ["/", "/products/acme-tee", "/size", "/see-it-on-me", "/showroom", "/try-on/live"]


@pytest.fixture()
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=10)


def test_every_page_and_its_local_assets_are_served(client: httpx.Client) -> None:
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert '<main id="main">' in page.text
        assert not re.search(r"""(src|href)="(https?:)?//""", page.text), f"{path}: no CDN links"
        for asset in re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", page.text):
            assert client.get(asset).status_code == 200, f"{path} -> {asset}"


def test_modules_import_only_served_files(client: httpx.Client) -> None:
    """Every relative import of every page module resolves on the server."""
    js_dir = REPO_ROOT / "src" / "fitroom" / "web" / "static" / "js"
    for module in js_dir.glob("*.js"):
        for target in re.findall(r"""from "\./([^"]+)";""", module.read_text()):
            assert client.get(f"/static/js/{target}").status_code == 200, (module.name, target)


@pytest.mark.skipif(
    not (REPO_ROOT / "node_modules" / "three" / "build" / "three.module.min.js").is_file(),
    reason="three.js is not in node_modules: run `npm ci`",
)
def test_three_js_is_served_locally_and_gzipped(client: httpx.Client) -> None:
    for path in [
        "/vendor/three/build/three.module.min.js",
        "/vendor/three/examples/jsm/loaders/GLTFLoader.js",
        "/vendor/three/examples/jsm/controls/OrbitControls.js",
    ]:
        response = client.get(path, headers={"accept-encoding": "gzip"})
        assert response.status_code == 200, path
        assert "javascript" in response.headers["content-type"]
        assert response.headers.get("content-encoding") == "gzip", path


def test_root_is_the_catalog_and_the_api_is_unchanged(client: httpx.Client) -> None:
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 200 and "<h1>Catalog</h1>" in root.text
    assert client.get("/docs").status_code == 200
    assert "content-encoding" not in client.get("/v1/products").headers
