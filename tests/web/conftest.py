"""Browser fixtures: Debian's Chromium driven by Playwright against a real uvicorn server
that serves the seeded demo store (products with images)."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fitroom.config import Settings
from fitroom.services.demo import seed_demo
from fitroom.store.db import Database
from tests.conftest import ADMIN_KEY, REPO_ROOT, LiveServer, data_dir

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
# Headless Chromium with software WebGL (SwiftShader through ANGLE), no network chatter.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    # A fake camera (a test pattern) that needs no permission prompt, for the camera path.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def three_js_installed() -> bool:
    return (REPO_ROOT / "node_modules" / "three" / "build" / "three.module.js").is_file()


#: Skip marks every real-browser test module starts its ``pytestmark`` with.
NEEDS_BROWSER = [
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="playwright is not installed (it is in requirements-dev.lock: make test)",
    ),
    pytest.mark.skipif(
        chromium_path() is None,
        reason="Debian's chromium is not installed (make test installs it with apt as root)",
    ),
]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server whose store is the demo store (40+ products with images)."""
    var = tmp_path_factory.mktemp("web") / "var"
    settings = Settings(var_dir=var, admin_api_key=ADMIN_KEY, data_dir=data_dir())
    database = Database(settings.resolved_database_url)
    database.upgrade()
    with database.session() as session:
        seed_demo(session, settings.resolved_media_dir)
    with LiveServer(settings, database) as server:
        yield server
    database.dispose()


@contextlib.contextmanager
def chromium_context(
    tmp_path_factory: pytest.TempPathFactory,
    extra_args: Sequence[str] = (),
    height_px: int = 860,
) -> Iterator[Any]:
    """Debian's Chromium under Playwright with a fresh empty profile, 1280 px wide."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium_path(),
            headless=True,
            args=[*CHROMIUM_ARGS, *extra_args],
            viewport={"width": 1280, "height": height_px},
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Chromium per module, with a fresh empty profile."""
    with chromium_context(tmp_path_factory) as context:
        yield context


@dataclass
class BrowserPage:
    """A page plus every console error and uncaught exception it produced."""

    page: Any
    base_url: str
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path, wait_until="networkidle")

    def screenshot(self, name: str, **kwargs: Any) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), **kwargs)
        return path

    def errors_except(self, *allowed: str) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in allowed)]


@pytest.fixture()
def web(browser: Any, demo_server: LiveServer) -> Iterator[BrowserPage]:
    page = browser.new_page()
    wrapped = BrowserPage(page, demo_server.url)
    page.on(
        "console",
        lambda message: (
            wrapped.errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: wrapped.errors.append(f"uncaught: {error}"))
    yield wrapped
    page.close()
