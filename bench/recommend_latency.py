"""Latency of POST /v1/size-recommendations against a running server over loopback.

Method: start ``fitroom serve`` (one uvicorn worker, as ``make run`` does) on a free
port with a fresh SQLite store seeded with the demo catalog; one keep-alive HTTP client
sends requests one at a time. Warm-up 100 requests, then N timed requests per scenario,
repeated in R rounds; we report the median and p99 over all timed requests, and the
spread of per-round medians. Baseline measured in the same run: GET /v1/health (the
HTTP + session round trip with no sizing work).

Run: ``.venv/bin/python bench/recommend_latency.py [--requests 1000] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_server, machine, markdown_table, summary, write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with demo_server() as base:
        client = httpx.Client(base_url=base, timeout=10)
        products = client.get("/v1/products", params={"limit": 200}).json()["items"]
        charts = client.get("/v1/size-charts").json()
        top = next(c for c in charts if c["category"] == "tops" and c["sex"] == "male")
        trousers = next(p for p in products if p["category"] == "trousers")

        scenarios: dict[str, Callable[[], httpx.Response]] = {
            "GET /v1/health (baseline)": lambda: client.get("/v1/health"),
            "recommend, chart, measured zones": lambda: client.post(
                "/v1/size-recommendations",
                json={
                    "chart_id": top["chart_id"],
                    "measurements": {"chest_cm": 101, "waist_cm": 86, "neck_cm": 40},
                    "fit": "regular",
                },
            ),
            "recommend, product, estimated zones": lambda: client.post(
                "/v1/size-recommendations",
                json={
                    "product_id": trousers["product_id"],
                    "measurements": {"height_cm": 172, "weight_kg": 70},
                    "sex": (trousers["gender"] == "men" and "male") or "female",
                },
            ),
        }
        rows = []
        for name, call in scenarios.items():
            for _ in range(100):  # warm-up
                assert call().status_code == 200
            timings: list[float] = []
            round_medians: list[float] = []
            for _ in range(args.rounds):
                this_round: list[float] = []
                for _ in range(args.requests):
                    start = time.perf_counter()
                    response = call()
                    this_round.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, response.text
                timings += this_round
                round_medians.append(summary(this_round)["median_ms"])
            stats = summary(timings)
            rows.append(
                [
                    name,
                    len(timings),
                    f"{stats['median_ms']:.2f}",
                    f"{stats['p90_ms']:.2f}",
                    f"{stats['p99_ms']:.2f}",
                    f"{min(round_medians):.2f}-{max(round_medians):.2f}",
                ]
            )

    table = markdown_table(
        ["request", "n", "median ms", "p90 ms", "p99 ms", "round medians ms"], rows
    )
    text = (
        f"Machine: {machine()}. One uvicorn worker, SQLite (WAL), keep-alive client on "
        f"loopback, {args.rounds} rounds x {args.requests} requests after 100 warm-up.\n\n"
        f"{table}\n\nCommand: `.venv/bin/python bench/recommend_latency.py "
        f"--requests {args.requests} --rounds {args.rounds}`\n"
    )
    print(text)
    write_result("recommend_latency.md", text)


if __name__ == "__main__":
    main()
