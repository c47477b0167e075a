"""Where a recommendation request's model time goes: each hybrid component's score for
one shopper, SASRec in torch and in ONNX Runtime, and the cost of the ONNX export.

Method: the store and the trained hybrid of ``bench/recsys_latency.py`` (20,000
products, 4,000 shoppers, SASRec 3 epochs), built in a temporary folder. The served
version is loaded as the API loads it (``Serving``: SASRec through its ONNX export).
For 300 of the fitted shoppers' histories, each scorer is called on one history at a
time: 30 warm-up calls, then every history once, median and p90 per call; repeated
for ``--rounds`` rounds, the table shows the median of the round medians. Baselines in
the same run: SASRec in torch (the same weights, ``use_runtime(None)``), and item-kNN /
transitions through one scipy sparse product (how they scored a request before
scoring from the table's arrays). Export: ``export_for_serving`` on the trained model,
``--exports`` times in one process (the first includes the exporter's own start-up).
One thread per process (``torch.set_num_threads(1)``), as ONNX Runtime runs.

Run: ``.venv/bin/python bench/recsys_scoring.py [--rounds 3] [--exports 3]`` (about 6
minutes on 2 cores, 4 of them training)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, percentile, run_in_scratch
from recsys_latency import build_store, train_model

HISTORIES = 300
WARMUP = 30


def time_per_call(call: Callable[[Any], object], histories: list[Any]) -> list[float]:
    for history in histories[:WARMUP]:
        call(history)
    times_ms = []
    for history in histories:
        started = time.perf_counter()
        call(history)
        times_ms.append((time.perf_counter() - started) * 1000)
    return times_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--exports", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run_in_scratch(
        "fitroom-recsys-scoring-",
        lambda var_dir, load_before: run(args, var_dir, load_before),
        "recsys_scoring.md",
    )


def run(args: argparse.Namespace, var_dir: Path, load_before: float) -> str:
    import scipy.sparse as sp
    import torch

    from fitroom.compress.recsys_target import export_for_serving
    from fitroom.config import Settings
    from fitroom.recsys.hybrid import Hybrid, standardise
    from fitroom.recsys.itemknn import NeighbourTable, history_weights
    from fitroom.services.recommendations import Serving

    torch.set_num_threads(1)
    build_store(var_dir, random.Random(args.seed))
    meta = train_model(var_dir)
    served = Serving.from_settings(Settings(var_dir=var_dir)).model()
    assert served is not None and isinstance(served.model, Hybrid)
    hybrid = served.model
    sasrec = hybrid.parts["sasrec"]
    onnx_runtime = sasrec.runtime
    if onnx_runtime is None:
        raise SystemExit(f"the served SASRec has no ONNX runtime (meta: {meta})")
    rng = np.random.default_rng(args.seed)
    fitted = [h for h in hybrid.fitted_histories().values() if len(h)]
    picked = [fitted[i] for i in rng.choice(len(fitted), HISTORIES, replace=False)]

    def sparse_product(table: NeighbourTable) -> Callable[[Any], object]:
        decay = float(table.params["decay"])

        def score(history: Any) -> object:
            w: sp.csr_matrix = history_weights([history], table.n_items, decay)
            return np.asarray((w @ table.sim).todense(), np.float32)

        return score

    def with_torch(call: Callable[[Any], object]) -> Callable[[Any], object]:
        def score(history: Any) -> object:
            sasrec.use_runtime(None)
            try:
                return call(history)
            finally:
                sasrec.use_runtime(onnx_runtime)

        return score

    scorers: list[tuple[str, Callable[[Any], object]]] = [
        ("SASRec, ONNX Runtime (served)", lambda h: sasrec.score([h])),
        ("SASRec, torch (baseline)", with_torch(lambda h: sasrec.score([h]))),
    ]
    for name in ("itemknn", "transitions"):
        part = hybrid.parts[name]
        assert isinstance(part, NeighbourTable)
        scorers.append(
            (f"{name}, from the table's arrays (served)", lambda h, p=part: p.score([h]))
        )
        scorers.append((f"{name}, one sparse product (baseline)", sparse_product(part)))
    for name in ("content", "pop"):
        if name in hybrid.parts:
            scorers.append((name, lambda h, p=hybrid.parts[name]: p.score([h])))
    scores = hybrid.parts["sasrec"].score([picked[0]])
    scorers += [
        ("standardise one component's scores", lambda h: standardise(scores)),
        ("hybrid blend, all components (served)", lambda h: hybrid.score([h])),
        ("hybrid blend with SASRec in torch", with_torch(lambda h: hybrid.score([h]))),
    ]
    medians: dict[str, list[float]] = {name: [] for name, _ in scorers}
    p90s: dict[str, list[float]] = {name: [] for name, _ in scorers}
    for _ in range(args.rounds):
        for name, call in scorers:
            times = time_per_call(call, picked)
            medians[name].append(statistics.median(times))
            p90s[name].append(percentile(times, 90))
    rows = [
        [name, f"{statistics.median(medians[name]):.3f}", f"{statistics.median(p90s[name]):.3f}"]
        for name, _ in scorers
    ]

    export_s = []
    for k in range(args.exports):
        folder = var_dir / f"export-{k}"
        folder.mkdir()
        started = time.perf_counter()
        check = export_for_serving(hybrid, folder)
        export_s.append(time.perf_counter() - started)
        assert check is not None
    n_items = hybrid.n_items
    return (
        f"Machine: {machine()}; load average {load_before:.1f} before the run. Store of "
        f"`bench/recsys_latency.py` ({n_items} products), hybrid {meta['version']} trained "
        f"in {meta['train_seconds']:.1f} s, served runtime {meta['runtime']} (export check "
        f"max |ONNX - torch| {meta['runtime_max_abs_diff']:.2g}). One history per call, "
        f"{HISTORIES} fitted histories, {WARMUP} warm-up calls, median of {args.rounds} "
        "rounds; one thread.\n\n"
        f"{markdown_table(['scorer, one shopper', 'median ms', 'p90 ms'], rows)}\n\n"
        f"Export of the SASRec network with its check (`export_for_serving`), {args.exports} "
        f"times in one process: {', '.join(f'{s:.1f}' for s in export_s)} s.\n\n"
        f"Command: `.venv/bin/python bench/recsys_scoring.py --rounds {args.rounds} "
        f"--exports {args.exports}`\n"
    )


if __name__ == "__main__":
    main()
