"""Two servers that do no work, for the ceiling rows of ``bench/recsys_latency.py``:
what one loopback request costs this machine before fitroom does anything.

- ``bare``: a raw ASGI callable answering every request with a fixed 2 kB JSON body (the
  size of a k=10 recommendations answer), under uvicorn as fitroom serves.
- ``noop``: FastAPI with one ``async`` route returning the same fixed dict, validated by
  nothing: the framework's own routing, dependency and serialisation cost.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

PAYLOAD: dict[str, Any] = {
    "shopper_id": "s",
    "items": [
        {
            "product_id": f"p{i:05d}",
            "title": "Relaxed linen shirt, navy",
            "score": 1.234567,
            "reason": "often bought with Heavyweight T-shirt",
            "fit_size": "M",
        }
        for i in range(10)
    ],
}
BODY = json.dumps(PAYLOAD).encode()

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


async def bare(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":  # lifespan: nothing to set up
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


noop = FastAPI()


@noop.get("/{path:path}")
async def answer(path: str) -> dict[str, Any]:
    return PAYLOAD
