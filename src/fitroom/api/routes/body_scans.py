"""Body scans over HTTP: photos + height in, measurements with +/- cm out.

``POST /body-scans`` is multipart (``front``, optional ``side``, ``height_cm``...). The
photos are read within ``FITROOM_MAX_UPLOAD_BYTES``, measured, and dropped; only with
``consent_to_store=true`` are the numbers kept (``id`` in the answer). Refused photos
come back as problem+json with a ``type`` per reason and ``advice`` on what to do.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Response, UploadFile

from fitroom.api.deps import SessionDep, get_settings_dep
from fitroom.api.uploads import read_upload
from fitroom.config import Settings
from fitroom.services import avatars, body_scans
from fitroom.sizing.zones import Sex

router = APIRouter(tags=["body scans"])

REFUSALS = (
    "photo-too-small, no-person, multiple-people, body-cut-off, person-too-far, "
    "person-too-close, not-facing-camera, not-in-profile, arms-against-body, arms-raised, "
    "photo-too-dark, photo-too-blurry (each with `view` and `advice`), invalid-image, "
    "measurement-out-of-range / likely-wrong-unit for the height or weight"
)


@router.post(
    "/body-scans",
    status_code=201,
    responses={
        413: {"description": "A photo past the upload limit (image-too-large)."},
        422: {"description": f"Refused input: {REFUSALS}."},
    },
)
def create_body_scan(
    front: Annotated[UploadFile, File(description="Front photo, A-pose, whole body.")],
    height_cm: Annotated[float, Form(description="Stature in cm (without shoes).")],
    session: SessionDep,
    settings: Annotated[Settings, Depends(get_settings_dep)],
    side: Annotated[UploadFile | None, File(description="Side photo (profile).")] = None,
    weight_kg: Annotated[float | None, Form(description="Body weight in kg.")] = None,
    sex: Annotated[Sex | None, Form(description="male or female.")] = None,
    consent_to_store: Annotated[
        bool, Form(description="Keep the measurements (never the photos).")
    ] = False,
    shopper_id: Annotated[str | None, Form(description="Link a stored scan to a shopper.")] = None,
) -> dict[str, Any]:
    """Measure a body from a front (and optional side) photo and the stated height.

    Returns chest, waist, hip, neck, shoulder breadth, arm length, inseam and thigh in
    cm, each with ``plus_minus_cm`` (one standard deviation) and its ``source``.
    """
    front_bytes = read_upload(front, settings.max_upload_bytes, "the front photo")
    side_bytes = (
        None if side is None else read_upload(side, settings.max_upload_bytes, "the side photo")
    )
    request = body_scans.ScanRequest(
        height_cm=height_cm,
        weight_kg=weight_kg,
        sex=None if sex is None else sex.value,
        consent_to_store=consent_to_store,
        shopper_id=shopper_id,
    )
    return body_scans.scan_and_store(session, front_bytes, side_bytes, request)


@router.get("/body-scans/{scan_id}")
def get_body_scan(scan_id: str, session: SessionDep) -> dict[str, Any]:
    """A stored scan's measurements."""
    return body_scans.scan_record_to_dict(body_scans.get_scan(session, scan_id))


@router.delete("/body-scans/{scan_id}", status_code=204)
def delete_body_scan(scan_id: str, session: SessionDep) -> Response:
    """Forget a stored scan (and its cached avatar)."""
    body_scans.delete_scan(session, scan_id)
    avatars.AVATARS.forget(scan_id)
    return Response(status_code=204)


GLB = "model/gltf-binary"


@router.get(
    "/body-scans/{scan_id}/avatar.glb",
    response_class=Response,
    responses={200: {"content": {GLB: {}}, "description": "The fitted avatar (glTF binary)."}},
)
def get_avatar(scan_id: str, session: SessionDep) -> Response:
    """The 3D avatar of a stored scan: an Anny body fitted to its measurements."""
    document = body_scans.scan_record_to_dict(body_scans.get_scan(session, scan_id))
    targets, sex = avatars.targets_from_document(document)
    data = avatars.AVATARS.get_or_make(scan_id, functools.partial(avatars.avatar_for, targets, sex))
    return Response(data, media_type=GLB)


@router.post(
    "/avatars",
    response_class=Response,
    responses={200: {"content": {GLB: {}}, "description": "The fitted avatar (glTF binary)."}},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "sex": "female",
                        "stature_cm": 165,
                        "chest_cm": 88,
                        "waist_cm": 72,
                        "hip_cm": 97,
                    }
                }
            }
        }
    },
)
def create_avatar(document: Annotated[dict[str, Any], Body()]) -> Response:
    """An avatar from measurements (a scan's answer, or plain ``*_cm`` numbers and sex)."""
    targets, sex = avatars.targets_from_document(document)
    return Response(avatars.avatar_for(targets, sex), media_type=GLB)
