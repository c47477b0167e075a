"""Live try-on speed at 640x480: server work per frame, and fps end to end over a WebSocket.

Method. Frames: a VITON-HD person photo (``../shared/data/tryon/person``) letterboxed
into 640x480 and shifted sideways by up to +-6 px from frame to frame (a person standing
and swaying), the garment a VITON-HD garment photo (``tryon/garment``), as a webcam
session would send them.

1. Server work: ``LiveTryOn.process()`` in this process (tracking pose, smoothing,
   try-on on the body box); warm-up 20 frames, then R rounds of N frames; median and
   p90 per frame over all timed frames, with the median per step. Baselines in the same
   run: the same session with try-on on the whole frame (``crop_to_body=False``), and
   pose tracking alone.
2. End to end: ``fitroom serve`` (one uvicorn worker, as ``make run`` does) on
   loopback; a Python client (``websockets``) uploads the garment, then sends JPEG frames
   (encoded beforehand at quality 80, so the client costs little CPU) keeping K frames in
   flight, and counts the dressed JPEGs that come back. Warm-up 20 frames, then R rounds
   of N frames; fps = frames / wall time per round (median of rounds), plus the median
   and p90 latency from sending a frame to receiving its image. K = 2 (what the page
   does) and K = 1 (no pipelining) as the baseline.

The client, the server and MediaPipe share the machine's cores; the figures are for
that whole system, like a shopper's laptop running both would not be, but like a small
server with the browser elsewhere is close to.

Run: ``.venv/bin/python bench/tryon_live.py [--frames 100] [--rounds 3]``; writes
bench/results/tryon_live.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    RESULTS_DIR,
    data_dir,
    demo_server,
    machine,
    markdown_table,
    summary,
    write_result,
)

WARMUP_FRAMES = 20


def person_frames(count: int) -> list[NDArray[np.uint8]]:
    """``count`` 640x480 RGB frames of the first person photo, swaying +-6 px."""
    photo = sorted((data_dir() / "tryon" / "person").glob("*.jpg"))[0]
    bgr = cv2.imread(str(photo))
    scale = 480 / bgr.shape[0]
    small = cv2.resize(bgr, (round(bgr.shape[1] * scale), 480), interpolation=cv2.INTER_AREA)
    edge = small[:, :4].reshape(-1, 3).mean(axis=0)
    frames = []
    for index in range(count):
        frame = np.empty((480, 640, 3), np.uint8)
        frame[:] = edge
        x0 = (640 - small.shape[1]) // 2 + round(6 * math.sin(2 * math.pi * index / 40))
        frame[:, x0 : x0 + small.shape[1]] = small
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    return frames


def garment_photo() -> Path:
    return sorted((data_dir() / "tryon" / "garment").glob("*.jpg"))[0]


def server_side(frames: list[NDArray[np.uint8]], rounds: int) -> dict[str, Any]:
    from fitroom.tryon.garment import prepare_garment
    from fitroom.tryon.live import LiveTryOn
    from fitroom.vision.tracking import PoseTracker

    rgb = cv2.cvtColor(cv2.imread(str(garment_photo())), cv2.COLOR_BGR2RGB)
    garment = prepare_garment(rgb, "upper")
    results: dict[str, Any] = {}
    for name, crop in (("process, body box", True), ("process, whole frame", False)):
        session = LiveTryOn(garment, crop_to_body=crop)
        clock_s = 0.0
        for frame in frames[:WARMUP_FRAMES]:
            session.process(frame, clock_s)
            clock_s += 1 / 30
        totals: list[float] = []
        steps: dict[str, list[float]] = {}
        for _ in range(rounds):
            for frame in frames:
                started = time.perf_counter()
                _out, info = session.process(frame, clock_s)
                totals.append((time.perf_counter() - started) * 1000)
                clock_s += 1 / 30
                assert info.person_found, info.problem_detail
                for step, value_ms in info.timings_ms.items():
                    steps.setdefault(step, []).append(value_ms)
        session.close()
        results[name] = {
            **summary(totals),
            "n": len(totals),
            "steps_median_ms": {k: statistics.median(v) for k, v in steps.items()},
        }
    tracker = PoseTracker()
    for frame in frames[:WARMUP_FRAMES]:
        tracker.observe(frame)
    pose: list[float] = []
    for _ in range(rounds):
        for frame in frames:
            started = time.perf_counter()
            tracker.observe(frame)
            pose.append((time.perf_counter() - started) * 1000)
    tracker.close()
    results["pose tracking alone (baseline)"] = {**summary(pose), "n": len(pose)}
    return results


def encode(frame: NDArray[np.uint8]) -> bytes:
    ok, buffer = cv2.imencode(
        ".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80]
    )
    assert ok
    return bytes(buffer)


async def stream_round(ws: Any, jpegs: list[bytes], in_flight: int) -> tuple[float, list[float]]:
    """Send every frame keeping ``in_flight`` on their way; (wall seconds, latencies ms)."""
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    next_index = 0
    received = 0
    started = time.perf_counter()
    while next_index < min(in_flight, len(jpegs)):
        sent_at[next_index] = time.perf_counter()
        await ws.send(jpegs[next_index])
        next_index += 1
    while received < len(jpegs):
        message = await ws.recv()
        if isinstance(message, str):
            status = json.loads(message)
            if status["type"] != "frame":
                raise RuntimeError(f"server error: {status}")
            if not status["person_found"]:
                raise RuntimeError(f"no person found: {status}")
            continue
        latencies.append((time.perf_counter() - sent_at.pop(received)) * 1000)
        received += 1
        if next_index < len(jpegs):
            sent_at[next_index] = time.perf_counter()
            await ws.send(jpegs[next_index])
            next_index += 1
    return time.perf_counter() - started, latencies


async def end_to_end(base_url: str, jpegs: list[bytes], rounds: int) -> dict[str, Any]:
    import websockets

    url = base_url.replace("http://", "ws://") + "/v1/try-on/stream"
    garment = base64.b64encode(garment_photo().read_bytes()).decode()
    results: dict[str, Any] = {}
    for in_flight in (2, 1):
        async with websockets.connect(url, max_size=2**24) as ws:
            await ws.send(json.dumps({"garment": garment, "category": "upper"}))
            ready = json.loads(await ws.recv())
            assert ready["type"] == "garment-ready", ready
            await stream_round(ws, jpegs[:WARMUP_FRAMES], in_flight)
            fps_rounds: list[float] = []
            latencies: list[float] = []
            for _ in range(rounds):
                wall_s, round_latencies = await stream_round(ws, jpegs, in_flight)
                fps_rounds.append(len(jpegs) / wall_s)
                latencies += round_latencies
        results[f"{in_flight} in flight"] = {
            "fps_median": statistics.median(fps_rounds),
            "fps_rounds": fps_rounds,
            "latency": summary(latencies),
            "n": len(latencies),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100, help="timed frames per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (data_dir() / "tryon" / "person").is_dir():
        raise SystemExit(f"try-on photos not found under {data_dir()} (set FITROOM_DATA_DIR)")

    frames = person_frames(args.frames)
    server = server_side(frames, args.rounds)
    jpegs = [encode(frame) for frame in frames]
    with demo_server() as base:
        e2e = asyncio.run(end_to_end(base, jpegs, args.rounds))

    rows = [
        [name, r["n"], f"{r['median_ms']:.1f}", f"{r['p90_ms']:.1f}"] for name, r in server.items()
    ]
    steps = server["process, body box"]["steps_median_ms"]
    step_rows = [[name, f"{value:.1f}"] for name, value in steps.items()]
    whole_steps = server["process, whole frame"]["steps_median_ms"]
    for row in step_rows:
        row.append(f"{whole_steps.get(row[0], float('nan')):.1f}")
    e2e_rows = [
        [
            name,
            r["n"],
            f"{r['fps_median']:.1f}",
            "-".join(f"{v:.1f}" for v in (min(r["fps_rounds"]), max(r["fps_rounds"]))),
            f"{r['latency']['median_ms']:.1f}",
            f"{r['latency']['p90_ms']:.1f}",
        ]
        for name, r in e2e.items()
    ]
    text = "\n\n".join(
        [
            "# Live try-on at 640x480",
            f"Machine: {machine()}. Frames: a VITON-HD person letterboxed into 640x480, "
            f"swaying +-6 px; garment {garment_photo().name}. Warm-up {WARMUP_FRAMES} "
            f"frames, then {args.rounds} rounds x {args.frames} frames.",
            "## Server work per frame (`LiveTryOn.process`, in process)",
            markdown_table(["what", "n", "median ms", "p90 ms"], rows),
            "Median per step (ms; try-on steps are `compose.try_on`'s own timings):",
            markdown_table(["step", "body box", "whole frame"], step_rows),
            "## End to end over the loopback WebSocket (`fitroom serve`, 1 worker)",
            markdown_table(
                [
                    "client",
                    "frames",
                    "fps (median of rounds)",
                    "fps range",
                    "latency median ms",
                    "latency p90 ms",
                ],
                e2e_rows,
            ),
            "Target (issue #4): at least 20 fps end to end at 640x480.",
            "Command: `.venv/bin/python bench/tryon_live.py "
            f"--frames {args.frames} --rounds {args.rounds}`",
        ]
    )
    path = write_result("tryon_live.md", text + "\n")
    (RESULTS_DIR / "tryon_live.json").write_text(
        json.dumps({"machine": machine(), "server": server, "end_to_end": e2e}, indent=2)
    )
    print(text)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
