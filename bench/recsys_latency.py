"""Latency and throughput of the recommendation endpoints against a running server.

Method: build a temporary SQLite store with the demo brands and size charts, 20,000
synthetic products (each in one of 400 "styles" that span categories, sizes from its
chart with random stock, 3% sold out), 4,000 shoppers (a third with stored measurements)
and about 100,000 events (views of products in the shopper's two favourite styles, some
add-to-carts and purchases, in time order); train the configured recommender
(``FITROOM_RECSYS_MODEL``, the hybrid by default, its SASRec for 3 epochs) with the
service the CLI uses; start ``fitroom serve`` (one uvicorn worker unless ``--workers``)
on a free loopback port. Per scenario: 200 warm-up requests, then R rounds of N requests
sent by C concurrent clients (each its own keep-alive connection; a minimal asyncio
HTTP/1.1 client, so the load generator costs the CPU little). Latency is from writing
the request to reading the whole response; we report p50/p95/p99 over all timed
requests, the spread of the per-round p99s, and throughput (median of the rounds'
requests/s). Baseline in the same run: ``GET /v1/health`` (HTTP + a database round trip,
no recommendation work). A second table repeats each scenario with one client (the
service time without queueing); a third sends the mixed recommendations at fixed Poisson
arrival rates (25/50/75% of the closed-loop throughput), latency counted from each
request's scheduled time. Last, the ceiling: the same load against two servers that do
no work (``bench/_ceiling_apps.py``: a bare ASGI app and a FastAPI no-op route, same
uvicorn and worker count). The store is deleted afterwards.

Run: ``.venv/bin/python bench/recsys_latency.py [--requests 2000] [--rounds 3]
[--clients 50] [--workers 1] [--open-requests 1000] [--out recsys_latency]`` (about 10
minutes on 2 cores, 4 of them training)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    fitroom_server,
    machine,
    markdown_table,
    percentile,
    run_in_scratch,
    serve,
)

N_PRODUCTS = 20_000
N_STYLES = 400
N_SHOPPERS = 4_000
EVENTS_PER_SHOPPER = 19  # products looked at, on average: about 100,000 events
MEASURED_SHARE = 1 / 3
TARGET_P99_MS = 15.0

COLOURS = ["navy", "black", "white", "olive", "sand", "grey", "burgundy", "sky blue", "rust"]
NOUNS = {
    "tops": ["T-shirt", "shirt", "polo", "sweater", "blouse", "hoodie"],
    "dresses": ["wrap dress", "shirt dress", "midi dress", "slip dress"],
    "trousers": ["chinos", "jeans", "joggers", "wide-leg trousers", "cargo trousers"],
    "outerwear": ["parka", "denim jacket", "trench coat", "bomber", "gilet"],
}
STYLES = ["relaxed", "tailored", "organic", "linen", "heavyweight", "cropped", "vintage"]


# -- the store --------------------------------------------------------------------------


def build_store(var_dir: Path, rng: random.Random) -> dict[str, Any]:
    """Migrate and fill a store in ``var_dir``; returns ids to query and the counts."""
    from sqlalchemy import insert

    from fitroom.demo.content import demo_brands, demo_charts
    from fitroom.services import catalog
    from fitroom.sizing.charts import SizeChart
    from fitroom.store.db import Database
    from fitroom.store.models import (
        Event,
        EventKind,
        Product,
        ProductSize,
        Shopper,
        ShopperMeasurements,
    )

    db = Database(f"sqlite:///{var_dir / 'fitroom.db'}")
    db.upgrade()
    charts = [SizeChart.from_dict(c) for c in demo_charts()]
    now = dt.datetime.now(dt.UTC)
    products: list[dict[str, Any]] = []
    sizes: list[dict[str, Any]] = []
    by_style_gender: dict[tuple[int, str], list[str]] = {}
    labels_of: dict[str, list[str]] = {}
    for n in range(N_PRODUCTS):
        chart = charts[n % len(charts)]
        style = rng.randrange(N_STYLES)
        gender = "women" if chart.sex.value == "female" else "men"
        category = chart.category.value
        product_id = f"p{n:05d}"
        noun = rng.choice(NOUNS[category])
        colour = rng.choice(COLOURS)
        products.append(
            {
                "product_id": product_id,
                "brand_id": chart.brand_id,
                "chart_id": chart.chart_id,
                "category": category,
                "gender": gender,
                "title": f"{STYLES[style % len(STYLES)].capitalize()} {colour} {noun}",
                "description": f"Style {style}: a {noun} in {colour}.",
                "colour": colour,
                "material": "cotton",
                "price": 20 + n % 80,
                "currency": "EUR",
                "fit": "regular",
                "images": [],
                "created_at": now,
            }
        )
        sold_out = rng.random() < 0.03
        labels = list(chart.full_labels())
        labels_of[product_id] = labels
        for position, label in enumerate(labels):
            stock = 0 if sold_out or rng.random() < 0.3 else rng.randint(1, 12)
            sizes.append(
                {"product_id": product_id, "label": label, "position": position, "stock": stock}
            )
        by_style_gender.setdefault((style, gender), []).append(product_id)

    shoppers: list[dict[str, Any]] = []
    measurements: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    measured_ids: list[str] = []
    known_ids: list[str] = []
    clock = now - dt.timedelta(days=90)
    for s in range(N_SHOPPERS):
        shopper_id = f"s{s:05d}"
        gender = "women" if s % 2 else "men"
        sex = "female" if gender == "women" else "male"
        shoppers.append(
            {"shopper_id": shopper_id, "sex": sex, "fit_preference": None, "created_at": now}
        )
        if rng.random() < MEASURED_SHARE:
            chest = rng.gauss(92 if sex == "female" else 102, 7)
            measurements.append(
                {
                    "shopper_id": shopper_id,
                    "values_cm": {
                        "chest": round(chest, 1),
                        "waist": round(chest - (20 if sex == "female" else 14), 1),
                        "hip": round(chest + (8 if sex == "female" else 0), 1),
                        "inseam": round(rng.gauss(76 if sex == "female" else 81, 3), 1),
                        "height": round(rng.gauss(166 if sex == "female" else 179, 6), 1),
                    },
                    "sources": {},
                    "consent_given_at": now,
                    "updated_at": now,
                }
            )
            measured_ids.append(shopper_id)
        else:
            known_ids.append(shopper_id)
        favourite = [rng.randrange(N_STYLES) for _ in range(2)]
        for _ in range(max(1, int(rng.expovariate(1 / EVENTS_PER_SHOPPER)))):
            style = rng.choice(favourite) if rng.random() < 0.8 else rng.randrange(N_STYLES)
            pool = by_style_gender.get((style, gender)) or by_style_gender[(0, gender)]
            product_id = rng.choice(pool)
            clock += dt.timedelta(seconds=rng.randint(1, 60))
            events.append(_event(shopper_id, product_id, EventKind.view, None, clock))
            if rng.random() < 0.2:
                events.append(_event(shopper_id, product_id, EventKind.add_to_cart, None, clock))
                if rng.random() < 0.5:
                    size = rng.choice(labels_of[product_id])
                    events.append(_event(shopper_id, product_id, EventKind.purchase, size, clock))

    with db.session() as session:
        for brand in demo_brands():
            catalog.put_brand(session, catalog.BrandIn.model_validate(brand))
        for chart in charts:
            catalog.put_chart(session, chart)
        session.execute(insert(Product), products)
        session.execute(insert(ProductSize), sizes)
        session.execute(insert(Shopper), shoppers)
        session.execute(insert(ShopperMeasurements), measurements)
        for start in range(0, len(events), 20_000):
            session.execute(insert(Event), events[start : start + 20_000])
        catalog.bump_catalog_version(session)
    db.dispose()
    return {
        "known": known_ids,
        "measured": measured_ids,
        "products": [p["product_id"] for p in products],
        "n_products": len(products),
        "n_sizes": len(sizes),
        "n_shoppers": len(shoppers),
        "n_measured": len(measurements),
        "n_events": len(events),
    }


def _event(
    shopper_id: str, product_id: str, kind: Any, size: str | None, at: dt.datetime
) -> dict[str, Any]:
    return {
        "shopper_id": shopper_id,
        "product_id": product_id,
        "kind": kind,
        "size": size,
        "return_reason": None,
        "occurred_at": at,
    }


def train_model(var_dir: Path) -> dict[str, Any]:
    from fitroom.config import Settings
    from fitroom.services.recommendations import train
    from fitroom.store.db import Database

    # The served model as configured (the hybrid by default), but SASRec trained for
    # 3 epochs, not 30: serving costs the same, and full-softmax training over 20,000
    # products would take ~10 minutes here.
    params = dict(json.loads(os.environ.get("FITROOM_RECSYS_PARAMS", "{}")))
    settings = Settings(var_dir=var_dir)
    if settings.recsys_model == "hybrid" and not params:
        from fitroom.recsys.hybrid import Hybrid

        components = dict(Hybrid.defaults["components"])
        components["sasrec"] = {**components["sasrec"], "epochs": 3}
        params = {"components": components}
    settings = Settings(var_dir=var_dir, recsys_params=params)
    db = Database(settings.resolved_database_url)
    with db.session() as session:
        meta = train(session, settings)
    db.dispose()
    return meta


# -- the load ---------------------------------------------------------------------------


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _get(connection: Connection, host: str, path: str) -> tuple[bytes, bytes]:
    """One GET on a keep-alive connection: (status line, body)."""
    reader, writer = connection
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status_line, await reader.readexactly(length)


async def _client(
    host: str,
    port: int,
    next_path: Callable[[], str | None],
    timings_ms: list[float],
    failures: list[str],
) -> None:
    """One keep-alive connection sending GETs one after another until the paths run out."""
    connection = await asyncio.open_connection(host, port)
    try:
        while (path := next_path()) is not None:
            start = time.perf_counter()
            status_line, body = await _get(connection, host, path)
            timings_ms.append((time.perf_counter() - start) * 1000)
            if b" 200 " not in status_line:
                failures.append(f"{path}: {status_line!r} {body[:200]!r}")
    finally:
        connection[1].close()


async def _run(base: str, paths: list[str], clients: int) -> tuple[list[float], float, list[str]]:
    host, port = base.removeprefix("http://").split(":")
    queue = iter(paths)

    def next_path() -> str | None:
        return next(queue, None)

    timings: list[float] = []
    failures: list[str] = []
    start = time.perf_counter()
    await asyncio.gather(
        *(_client(host, int(port), next_path, timings, failures) for _ in range(clients))
    )
    return timings, time.perf_counter() - start, failures


async def _open_loop(
    base: str, paths: list[str], rate_per_s: float, connections: int, seed: int
) -> list[float]:
    """Requests at Poisson arrival times (``rate_per_s``) over at most ``connections``
    connections; each latency counts from the request's scheduled time, so waiting for
    a free connection counts too (no coordinated omission)."""
    host, port = base.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, int(port)))
    rng = random.Random(seed)
    timings: list[float] = []
    failures: list[str] = []

    async def one(path: str, at: float) -> None:
        await asyncio.sleep(max(0.0, at - loop.time()))
        connection = await pool.get()
        try:
            status_line, body = await _get(connection, host, path)
        finally:
            pool.put_nowait(connection)
        timings.append((loop.time() - at) * 1000)
        if b" 200 " not in status_line:
            failures.append(f"{path}: {status_line!r} {body[:200]!r}")

    at = loop.time() + 0.1
    tasks = []
    for path in paths:
        at += rng.expovariate(rate_per_s)
        tasks.append(one(path, at))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait()[1].close()
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[0]}")
    return timings


def measure(
    base: str, make_path: Callable[[int], str], clients: int, requests: int, rounds: int
) -> dict[str, Any]:
    """Warm-up, then ``rounds`` rounds of ``requests`` requests from ``clients`` clients."""
    _, _, failures = asyncio.run(_run(base, [make_path(i) for i in range(200)], clients))
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[0]}")
    timings: list[float] = []
    round_p99: list[float] = []
    throughput: list[float] = []
    for r in range(rounds):
        paths = [make_path(1000 + r * requests + i) for i in range(requests)]
        this, seconds, failures = asyncio.run(_run(base, paths, clients))
        if failures:
            raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[0]}")
        timings += this
        round_p99.append(percentile(this, 99))
        throughput.append(len(this) / seconds)
    return {
        "n": len(timings),
        "p50": percentile(timings, 50),
        "p95": percentile(timings, 95),
        "p99": percentile(timings, 99),
        "p99_rounds": (min(round_p99), max(round_p99)),
        "rps": statistics.median(throughput),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--open-requests", type=int, default=1000, help="requests per open-loop arrival rate"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", default="recsys_latency", help="results file name in bench/results, no .md"
    )
    args = parser.parse_args()
    run_in_scratch(
        "fitroom-recsys-bench-",
        lambda var_dir, load_before: run(args, var_dir, load_before),
        f"{args.out}.md",
    )


def _row(name: str, stats: dict[str, Any]) -> list[object]:
    """A closed-loop scenario's row of the concurrent and ceiling tables."""
    low, high = stats["p99_rounds"]
    return [
        name,
        stats["n"],
        f"{stats['p50']:.1f}",
        f"{stats['p95']:.1f}",
        f"{stats['p99']:.1f}",
        f"{low:.1f}-{high:.1f}",
        f"{stats['rps']:.0f}",
    ]


def run(args: argparse.Namespace, var_dir: Path, load_before: float) -> str:
    """Build the store in ``var_dir``, serve it, measure; returns the markdown report."""
    rng = random.Random(args.seed)
    started = time.perf_counter()
    store = build_store(var_dir, rng)
    built_s = time.perf_counter() - started
    meta = train_model(var_dir)
    print(
        f"store: {store['n_products']} products ({store['n_sizes']} sizes), "
        f"{store['n_shoppers']} shoppers ({store['n_measured']} measured), "
        f"{store['n_events']} events, built in {built_s:.0f} s; "
        f"{meta['model']} {meta['version']} trained in {meta['train_seconds']:.1f} s",
        file=sys.stderr,
    )

    def pick(pool: list[str], salt: int) -> Callable[[int], str]:
        return lambda i: pool[(i * 7919 + salt) % len(pool)]

    known, measured, products = (
        pick(store["known"], 1),
        pick(store["measured"], 2),
        pick(store["products"], 3),
    )

    def mixed(i: int) -> str:
        shopper = (known(i), measured(i), f"new-{i}")[i % 3]
        return f"/v1/shoppers/{shopper}/recommendations?k=10"

    scenarios: list[tuple[str, Callable[[int], str]]] = [
        ("GET /v1/health (baseline)", lambda i: "/v1/health"),
        (
            "recommendations, shoppers with history",
            lambda i: f"/v1/shoppers/{known(i)}/recommendations?k=10",
        ),
        (
            "recommendations, with measurements (fit-aware)",
            lambda i: f"/v1/shoppers/{measured(i)}/recommendations?k=10",
        ),
        (
            "recommendations, unknown shoppers (cold start)",
            lambda i: f"/v1/shoppers/new-{i}/recommendations?k=10",
        ),
        ("recommendations, mixed (1/3 each)", mixed),
        ("similar, k=10", lambda i: f"/v1/products/{products(i)}/similar?k=10"),
        ("outfit, k=6", lambda i: f"/v1/products/{products(i)}/outfit?k=6"),
    ]
    concurrent_rows = []
    capacity_rps = 0.0
    single_rows = []
    verdicts = []
    with fitroom_server(var_dir, workers=args.workers) as base:
        for name, make_path in scenarios:
            stats = measure(base, make_path, args.clients, args.requests, args.rounds)
            concurrent_rows.append(_row(name, stats))
            if not name.startswith("GET /v1/health"):
                verdicts.append(stats["p99"] < TARGET_P99_MS)
            single = measure(base, make_path, 1, max(200, args.requests // 4), args.rounds)
            single_rows.append(
                [
                    name,
                    single["n"],
                    f"{single['p50']:.2f}",
                    f"{single['p95']:.2f}",
                    f"{single['p99']:.2f}",
                    f"{single['rps']:.0f}",
                ]
            )
            print(f"{name}: {json.dumps(stats, default=str)}", file=sys.stderr)
            if name.startswith("recommendations, mixed"):
                capacity_rps = stats["rps"]
        # Open loop: the mixed recommendations at fixed arrival rates below capacity.
        open_rows = []
        for share in (0.25, 0.5, 0.75):
            rate = share * capacity_rps
            paths = [mixed(50_000 + i) for i in range(args.open_requests)]
            timings = asyncio.run(_open_loop(base, paths, rate, args.clients, args.seed))
            open_rows.append(
                [
                    f"{rate:.0f} ({share:.0%} of capacity)",
                    len(timings),
                    f"{percentile(timings, 50):.1f}",
                    f"{percentile(timings, 95):.1f}",
                    f"{percentile(timings, 99):.1f}",
                ]
            )

    # The ceiling: servers that do no work, same uvicorn, workers, client and cores.
    ceiling_rows = []
    for name, app in (
        ("bare ASGI app, fixed 1.5 kB answer", "_ceiling_apps:bare"),
        ("FastAPI async route, fixed answer", "_ceiling_apps:noop"),
    ):
        command = [
            sys.executable,
            *("-m", "uvicorn", app, "--app-dir", str(Path(__file__).resolve().parent)),
            *("--workers", str(args.workers), "--log-level", "warning", "--no-access-log"),
        ]
        with serve(command, "--port", "/ready") as base:
            stats = measure(
                base, lambda i: f"/ceiling/{i}", args.clients, args.requests, args.rounds
            )
        ceiling_rows.append(_row(name, stats))
        print(f"{name}: {json.dumps(stats, default=str)}", file=sys.stderr)

    header = ["request", "n", "p50 ms", "p95 ms", "p99 ms", "round p99s ms", "requests/s"]
    single_header = ["request", "n", "p50 ms", "p95 ms", "p99 ms", "requests/s"]
    met = "met" if all(verdicts) else "NOT met"
    text = (
        f"Machine: {machine()}; load average {load_before:.1f} before the run (other "
        f"processes share the cores). {args.workers} uvicorn worker(s), SQLite (WAL), "
        "loopback; the load generator runs on the same machine. "
        f"Store: {store['n_products']} products ({store['n_sizes']} size rows), "
        f"{store['n_shoppers']} shoppers ({store['n_measured']} with measurements), "
        f"{store['n_events']} events; model {meta['model']} {meta['version']} (trained in "
        f"{meta['train_seconds']:.1f} s). 200 warm-up requests, then {args.rounds} rounds x "
        f"{args.requests} requests per scenario.\n\n"
        f"{args.clients} concurrent clients (closed loop, keep-alive):\n\n"
        f"{markdown_table(header, concurrent_rows)}\n\n"
        f"One client (service time, no queueing):\n\n"
        f"{markdown_table(single_header, single_rows)}\n\n"
        f"Open loop, recommendations mixed (1/3 each): Poisson arrivals at a fixed rate, "
        f"at most {args.clients} requests in flight, latency from the scheduled time:\n\n"
        f"{markdown_table(['requests/s', 'n', 'p50 ms', 'p95 ms', 'p99 ms'], open_rows)}"
        f"\n\nThe ceiling: servers that do no work at all, under the same uvicorn with "
        f"{args.workers} worker(s), {args.clients} clients, same client and cores "
        f"(`bench/_ceiling_apps.py`):\n\n"
        f"{markdown_table(header, ceiling_rows)}"
        f"\n\nTarget p99 < {TARGET_P99_MS:.0f} ms at {args.clients} concurrent requests: "
        f"**{met}**. In a closed loop, mean latency = clients / throughput (Little's law), so "
        f"p99 < {TARGET_P99_MS:.0f} ms with {args.clients} clients needs more than "
        f"{args.clients / (TARGET_P99_MS / 1000):.0f} requests/s; the ceiling rows show "
        f"what this machine gives a request that does nothing.\n\n"
        f"Command: `.venv/bin/python bench/recsys_latency.py --requests "
        f"{args.requests} --rounds {args.rounds} --clients {args.clients} --workers "
        f"{args.workers} --open-requests {args.open_requests} --out {args.out}`\n"
    )
    return text


if __name__ == "__main__":
    main()
