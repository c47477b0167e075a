"""Reading multipart uploads within the configured byte limit (and, for photos, in memory)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from fitroom.errors import ImageTooLarge, InputError


def read_upload(file: UploadFile, limit_bytes: int, what: str = "upload") -> bytes:
    """The upload's bytes; ``ImageTooLarge`` (413) past ``limit_bytes``, read no further."""
    data = file.file.read(limit_bytes + 1)
    if len(data) > limit_bytes:
        raise ImageTooLarge(
            f"{what} is larger than {limit_bytes} bytes; send a smaller image",
            max_upload_bytes=limit_bytes,
        )
    return data


#: Room for the form's text fields and part headers on top of the files' bytes.
FORM_OVERHEAD_BYTES = 64 * 1024


async def read_form_in_memory(request: Request, limit_bytes: int, max_files: int) -> FormData:
    """A multipart form parsed wholly in memory (photos never spill to a temporary file).

    Starlette spools an upload past 1 MB to a temporary file on disk; photos must not
    touch the disk, so the parser here keeps every part in memory, and the body is cut
    off at ``max_files * limit_bytes`` plus a little room for the text fields
    (``ImageTooLarge``, 413). Each file's own limit is checked by ``read_upload``.
    """
    from starlette.formparsers import MultiPartException, MultiPartParser

    budget_bytes = max_files * limit_bytes + FORM_OVERHEAD_BYTES

    class InMemoryMultiPartParser(MultiPartParser):
        # No part can be larger than the whole (bounded) body: never rolls over to disk.
        spool_max_size = budget_bytes

    declared = int(request.headers.get("content-length") or 0)
    if declared > budget_bytes:
        raise ImageTooLarge(
            f"the request is {declared} bytes; at most {budget_bytes} are accepted "
            f"({max_files} photos of up to {limit_bytes} bytes)",
            max_upload_bytes=limit_bytes,
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InputError("send the photos as multipart/form-data", field="content-type")

    async def bounded() -> AsyncGenerator[bytes, None]:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > budget_bytes:
                raise ImageTooLarge(
                    f"the request is over {budget_bytes} bytes ({max_files} photos of up "
                    f"to {limit_bytes} bytes)",
                    max_upload_bytes=limit_bytes,
                )
            yield chunk

    parser = InMemoryMultiPartParser(request.headers, bounded(), max_files=max_files, max_fields=20)
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise InputError(f"the multipart form cannot be read: {exc.message}") from exc
