"""Reading multipart uploads within the configured byte limit."""

from __future__ import annotations

from fastapi import UploadFile

from fitroom.errors import ImageTooLarge


def read_upload(file: UploadFile, limit_bytes: int, what: str = "upload") -> bytes:
    """The upload's bytes; ``ImageTooLarge`` (413) past ``limit_bytes``, read no further."""
    data = file.file.read(limit_bytes + 1)
    if len(data) > limit_bytes:
        raise ImageTooLarge(
            f"{what} is larger than {limit_bytes} bytes; send a smaller image",
            max_upload_bytes=limit_bytes,
        )
    return data
