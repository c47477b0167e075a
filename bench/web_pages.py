"""Page weight, time to first render and showroom frame rate of the storefront pages.

Method: start ``fitroom serve`` (one uvicorn worker, as ``make run`` does) on a free port
with a fresh SQLite store seeded with the demo catalog, and drive Debian's headless
Chromium (software WebGL: SwiftShader) with Playwright on loopback. Per page: one
warm-up load, then N loads, each in a fresh browser context (cold cache). We report the
median of: bytes transferred (the navigation plus every resource, as the Resource Timing
API counts them: compressed bytes on the wire), first contentful paint, and the time
until the page is usable (``load``; for the 3D pages, until the scene reports ready).
The showroom's frame rate is measured while the camera turns (every frame re-renders):
frames counted over 3 s, median of the runs. Baseline in the same run: /docs (FastAPI's
Swagger UI page, which loads its assets from a CDN and so counts only its HTML here).

Run: ``.venv/bin/python bench/web_pages.py [--runs 5]`` (needs chromium, playwright,
node_modules).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_server, machine, markdown_table, write_result

ARGS = [
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
]
METRICS_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const bytes = nav.transferSize + performance.getEntriesByType('resource')
      .reduce((total, r) => total + r.transferSize, 0);
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {bytes, fcp: fcp ? fcp.startTime : null, now: performance.now()};
}"""
FPS_JS = """() => new Promise(resolve => {
  let frames = 0; const start = performance.now();
  function tick(t) { frames += 1; if (t - start < 3000) requestAnimationFrame(tick);
                     else resolve(frames * 1000 / (t - start)); }
  requestAnimationFrame(tick);
})"""


def load(browser: Any, url: str, ready_selector: str | None) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, wait_until="load")
    if ready_selector:
        page.wait_for_selector(ready_selector, state="attached", timeout=120_000)
    usable_ms = (time.perf_counter() - start) * 1000
    page.wait_for_load_state("networkidle")
    metrics: dict[str, float] = page.evaluate(METRICS_JS)
    metrics["usable_ms"] = usable_ms
    context.close()
    return metrics


def showroom_fps(browser: Any, url: str) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#stage[data-state=ready]", timeout=120_000)
    page.wait_for_load_state("networkidle")
    page.keyboard.down("ArrowLeft")
    fps = float(page.evaluate(FPS_JS))
    page.keyboard.up("ArrowLeft")
    context.close()
    return fps


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")

    rows = []
    fps: list[float] = []
    with demo_server() as base:
        product = httpx.get(f"{base}/v1/products", params={"limit": 1}).json()["items"][0]
        pages: list[tuple[str, str, str | None]] = [
            ("/docs (baseline)", "/docs", None),
            ("catalog", "/", "#products li.card"),
            ("product", f"/products/{product['product_id']}", "#product h1"),
            ("find my size", "/size", "#product option"),
            ("see it on me (empty)", "/see-it-on-me", "#product option"),
            ("showroom", "/showroom", "#stage[data-state=ready]"),
        ]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
            for name, path, ready in pages:
                load(browser, base + path, ready)  # warm-up (server side: first imports)
                runs = [load(browser, base + path, ready) for _ in range(args.runs)]
                fcps = [r["fcp"] for r in runs if r["fcp"] is not None]
                rows.append(
                    [
                        name,
                        f"{statistics.median(r['bytes'] for r in runs) / 1024:.0f}",
                        f"{statistics.median(fcps):.0f}" if fcps else "-",
                        f"{statistics.median(r['usable_ms'] for r in runs):.0f}",
                    ]
                )
            showroom_fps(browser, base + "/showroom")  # warm-up
            fps = [showroom_fps(browser, base + "/showroom") for _ in range(args.runs)]
            browser.close()

    table = markdown_table(
        ["page", "transferred KiB (cold)", "first contentful paint ms", "usable ms"], rows
    )
    text = (
        f"Machine: {machine()}. Headless Chromium "
        f"({subprocess.run([chromium, '--version'], capture_output=True, text=True).stdout.strip()}"
        f"), software WebGL (SwiftShader), 1280 x 860 viewport, loopback; one uvicorn "
        f"worker, demo store. {args.runs} cold loads per page after one warm-up; medians.\n\n"
        f"{table}\n\nShowroom while turning: {statistics.median(fps):.1f} frames/s median "
        f"(runs: {', '.join(f'{f:.1f}' for f in fps)}); software WebGL on the CPU, so a "
        f"real GPU is much faster.\n\nCommand: `.venv/bin/python bench/web_pages.py "
        f"--runs {args.runs}`\n"
    )
    print(text)
    write_result("web_pages.md", text)


if __name__ == "__main__":
    main()
