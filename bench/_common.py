"""Shared helpers for benchmarks: machine description, timing summaries, tables."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO_ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """CPU model, cores and Python version, for the method line of every table."""
    from fitroom.compress.report import machine_description

    return f"{machine_description()}, Python {platform.python_version()}"


def percentile(values_ms: Sequence[float], q: float) -> float:
    ordered = sorted(values_ms)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "median_ms": statistics.median(values_ms),
        "p90_ms": percentile(values_ms, 90),
        "p99_ms": percentile(values_ms, 99),
        "max_ms": max(values_ms),
    }


def time_call(call: Callable[[], object], runs: int, warmup: int = 3) -> list[float]:
    """``warmup`` untimed calls, then ``runs`` timed ones (ms each)."""
    for _ in range(warmup):
        call()
    times_ms = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times_ms.append((time.perf_counter() - started) * 1000.0)
    return times_ms


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def data_dir() -> Path:
    return Path(os.environ.get("FITROOM_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


def write_result(name: str, text: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(text)
    return path


def run_in_scratch(prefix: str, run: Callable[[Path, float], str], result_name: str) -> None:
    """Note the load average, call ``run(scratch_dir, load_before)`` in a fresh temporary
    folder (removed afterwards), print its text and write it to bench/results."""
    load_before = os.getloadavg()[0]
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        text = run(scratch, load_before)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(text)
    write_result(result_name, text)


@contextlib.contextmanager
def demo_server() -> Iterator[str]:
    """``fitroom serve`` (one worker, SQLite) on a fresh demo store; yields its base URL.

    Migrates and seeds a temporary var dir with the CLI, starts the server as a
    subprocess, waits for /v1/health, and stops it afterwards.
    """
    var_dir = Path(tempfile.mkdtemp(prefix="fitroom-bench-"))
    env = {**os.environ, "FITROOM_VAR_DIR": str(var_dir), "FITROOM_ADMIN_API_KEY": "bench"}
    for args in (("db", "upgrade"), ("demo", "seed")):
        subprocess.run([sys.executable, "-m", "fitroom", *args], env=env, check=True, cwd=REPO_ROOT)
    with fitroom_server(var_dir) as base:
        yield base


@contextlib.contextmanager
def fitroom_server(var_dir: Path, workers: int = 1) -> Iterator[str]:
    """``fitroom serve`` on a free loopback port over an existing ``var_dir``; yields its
    base URL once /v1/health answers, and stops the server afterwards."""
    env = {**os.environ, "FITROOM_VAR_DIR": str(var_dir), "FITROOM_ADMIN_API_KEY": "bench"}
    command = [sys.executable, "-m", "fitroom", "serve", "--workers", str(workers)]
    with serve(command, "--port", "/v1/health", env) as base:
        yield base


@contextlib.contextmanager
def serve(
    command: Sequence[str], port_flag: str, ready_path: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run a server ``command`` on a free loopback port (given as ``port_flag PORT``);
    yields its base URL once ``ready_path`` answers 200, and stops it afterwards."""
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = subprocess.Popen(
        [*command, port_flag, str(port)],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}{ready_path}").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"server did not start: {' '.join(command)}")
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
