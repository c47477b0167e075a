"""Live try-on over a WebSocket: ``/v1/try-on/stream``.

Protocol (one session per connection):

- Client text message, first and whenever the shopper switches garments:
  ``{"product_id": "..."}`` (the product's photo on this server) or
  ``{"garment": "<base64 JPEG or PNG>", "category": "upper"}``. The server answers
  ``{"type": "garment-ready", "detail": ..., "garment": {...}}`` or an error message.
- Client binary message: one JPEG frame (640x480 works best). The server answers each
  frame, in order, with a text message ``{"type": "frame", "seq": n, "person_found":
  ..., "problem": ..., "detail": ..., "server_ms": ..., "timings_ms": {...}}`` followed
  by one binary message: the JPEG frame with the garment on (unchanged when nobody
  is in view). ``seq`` counts the client's binary messages from 1.
- Errors are text messages ``{"type": <fitroom error type>, "title": ..., "detail": ...,
  "seq": n}`` (``seq`` when they answer a frame, which then gets no image): a frame that
  is not a JPEG (``invalid-image``) or too large (``image-too-large``), a frame before
  any garment (``invalid-input``), a garment that cannot be used. The stream goes on.

The per-frame work runs in the thread pool, in two stages that overlap: tracking frame
n+1 (MediaPipe) while frame n is composed, so a client with 2 frames in flight gets
both CPU cores working.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from fitroom.config import Settings
from fitroom.errors import FitroomError, InputError
from fitroom.services import live_tryon
from fitroom.store.db import Database
from fitroom.tryon.garment import PreparedGarment
from fitroom.tryon.live import LiveTryOn, TrackedFrame

router = APIRouter(tags=["try-on"])
log = logging.getLogger("fitroom.api")

#: Messages waiting between the stages (a client should keep about 2 frames in flight).
QUEUE_DEPTH = 4


@dataclass(frozen=True)
class _Frame:
    seq: int
    data: bytes


@dataclass(frozen=True)
class _Choice:
    text: str


@dataclass(frozen=True)
class _Tracked:
    seq: int
    tracked: TrackedFrame
    decode_ms: float


@dataclass(frozen=True)
class _Failed:
    seq: int | None
    error: FitroomError


def _error_message(error: FitroomError, seq: int | None = None) -> dict[str, Any]:
    message = error.to_dict()
    if seq is not None:
        message["seq"] = seq
    return message


def _unexpected(seq: int | None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": FitroomError.type_slug,
        "title": "Server error",
        "detail": "the server failed on this message; the stream goes on",
    }
    if seq is not None:
        message["seq"] = seq
    return message


def _choose_garment(
    text: str, settings: Settings, database: Database
) -> tuple[PreparedGarment, dict[str, Any]]:
    try:
        choice = json.loads(text)
    except json.JSONDecodeError:
        raise InputError('a text message must be JSON: {"product_id": ...}') from None
    if not isinstance(choice, dict):
        raise InputError('a text message must be a JSON object: {"product_id": ...}')
    if isinstance(choice.get("product_id"), str):
        product_id = choice["product_id"]
        with database.session() as session:
            garment = live_tryon.garment_for_product(session, settings, product_id)
        return garment, {"product_id": product_id, "category": garment.category.value}
    if isinstance(choice.get("garment"), str):
        category = choice.get("category", "upper")
        if not isinstance(category, str):
            raise InputError("category must be text: upper, lower or dress", field="category")
        garment = live_tryon.garment_from_upload(choice["garment"], category, settings)
        return garment, {"category": garment.category.value, "uploaded": True}
    raise InputError(
        'choose a garment with {"product_id": "..."} or {"garment": "<base64 JPEG>", '
        '"category": "upper"}',
        fields=sorted(str(key) for key in choice),
    )


def _decode_and_track(session: LiveTryOn, seq: int, data: bytes, settings: Settings) -> _Tracked:
    started = time.perf_counter()
    frame = live_tryon.decode_frame(data, settings)
    decode_ms = (time.perf_counter() - started) * 1000
    return _Tracked(seq, session.track(frame), decode_ms)


def _render_and_encode(session: LiveTryOn, item: _Tracked) -> tuple[dict[str, Any], bytes]:
    out, info = session.render(item.tracked)
    started = time.perf_counter()
    jpeg = live_tryon.encode_frame(out)
    timings = {
        "decode_ms": item.decode_ms,
        **info.timings_ms,
        "encode_ms": (time.perf_counter() - started) * 1000,
    }
    timings["total_ms"] = timings["decode_ms"] + timings["total_ms"] + timings["encode_ms"]
    status = {
        "type": "frame",
        "seq": item.seq,
        "person_found": info.person_found,
        "problem": info.problem_type,
        "detail": info.problem_detail,
        "server_ms": round(timings["total_ms"], 2),
        "timings_ms": {name: round(value, 2) for name, value in timings.items()},
    }
    return status, jpeg


@router.websocket("/try-on/stream")
async def try_on_stream(websocket: WebSocket) -> None:
    """Live try-on: JPEG frames in, JPEG frames with the garment on out (see module doc)."""
    settings: Settings = websocket.app.state.settings
    database: Database = websocket.app.state.db
    await websocket.accept()
    session = await run_in_threadpool(LiveTryOn)
    inbox: asyncio.Queue[_Frame | _Choice | None] = asyncio.Queue(QUEUE_DEPTH)
    tracked_queue: asyncio.Queue[_Tracked | _Choice | _Failed | None] = asyncio.Queue(QUEUE_DEPTH)

    async def receive() -> None:
        seq = 0
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("bytes") is not None:
                seq += 1
                await inbox.put(_Frame(seq, message["bytes"]))
            elif message.get("text") is not None:
                await inbox.put(_Choice(message["text"]))
        await inbox.put(None)

    async def track() -> None:
        # Stage 1: decode + pose + smoothing, strictly in frame order.
        while (item := await inbox.get()) is not None:
            if isinstance(item, _Choice):
                await tracked_queue.put(item)  # garment switches keep their place
                continue
            try:
                tracked = await run_in_threadpool(
                    _decode_and_track, session, item.seq, item.data, settings
                )
                await tracked_queue.put(tracked)
            except FitroomError as error:
                await tracked_queue.put(_Failed(item.seq, error))
            except Exception:
                log.exception("live try-on: tracking frame %d failed", item.seq)
                await tracked_queue.put(_Failed(item.seq, FitroomError("tracking failed")))
        await tracked_queue.put(None)

    async def render() -> None:
        # Stage 2: compose + encode, and every message to the client (one writer).
        while (item := await tracked_queue.get()) is not None:
            if isinstance(item, _Failed):
                if type(item.error) is FitroomError:
                    await websocket.send_json(_unexpected(item.seq))
                else:
                    await websocket.send_json(_error_message(item.error, item.seq))
            elif isinstance(item, _Choice):
                try:
                    garment, about = await run_in_threadpool(
                        _choose_garment, item.text, settings, database
                    )
                except FitroomError as error:
                    await websocket.send_json(_error_message(error))
                    continue
                except Exception:
                    log.exception("live try-on: preparing a garment failed")
                    await websocket.send_json(_unexpected(None))
                    continue
                session.set_garment(garment)
                await websocket.send_json(
                    {"type": "garment-ready", "detail": "garment ready", "garment": about}
                )
            else:
                try:
                    status, jpeg = await run_in_threadpool(_render_and_encode, session, item)
                except FitroomError as error:
                    await websocket.send_json(_error_message(error, item.seq))
                    continue
                except Exception:
                    log.exception("live try-on: composing frame %d failed", item.seq)
                    await websocket.send_json(_unexpected(item.seq))
                    continue
                await websocket.send_json(status)
                await websocket.send_bytes(jpeg)

    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(receive())
            tasks.create_task(track())
            tasks.create_task(render())
    except* WebSocketDisconnect:
        pass  # the shopper left while we were answering
    finally:
        await run_in_threadpool(session.close)
