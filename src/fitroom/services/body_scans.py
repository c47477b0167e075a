"""Body-scan use cases: scan photos, keep the numbers only with consent, use them to size.

Photos go from the request into the pipeline and nowhere else: no file, no row. A scan
is stored (its measurements, not its photos) only when ``consent_to_store`` is true,
and is deleted with its shopper or on request.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from fitroom.body.scan import ScanPipeline, answer_zones
from fitroom.errors import InputError, NotFound
from fitroom.sizing.zones import Zone
from fitroom.store.models import BodyScan, Shopper, utcnow


@dataclass(frozen=True)
class ScanRequest:
    """What a scan needs besides the photos."""

    height_cm: float
    weight_kg: float | None = None
    sex: str | None = None
    consent_to_store: bool = False
    shopper_id: str | None = None


@functools.cache
def default_pipeline() -> ScanPipeline:
    """One pipeline per process (MediaPipe and the models load on the first scan)."""
    return ScanPipeline()


def new_scan_id() -> str:
    return "scan_" + secrets.token_urlsafe(12)


def scan_and_store(
    session: Session,
    front: bytes,
    side: bytes | None,
    request: ScanRequest,
    pipeline: ScanPipeline | None = None,
) -> dict[str, Any]:
    """Measure the photos; store the measurements when consented; the API's answer."""
    if request.shopper_id is not None:
        if not request.consent_to_store:
            raise InputError(
                "a scan is linked to a shopper only when it is stored; send "
                "consent_to_store=true or leave shopper_id out",
                field="consent_to_store",
            )
        if session.get(Shopper, request.shopper_id) is None:
            raise NotFound(f"no shopper {request.shopper_id!r}", shopper_id=request.shopper_id)
    result = (pipeline or default_pipeline())(
        front, side, request.height_cm, request.weight_kg, request.sex
    )
    answer = result.to_dict()
    answer["id"] = None
    answer["stored"] = False
    if request.consent_to_store:
        record = BodyScan(
            scan_id=new_scan_id(),
            shopper_id=request.shopper_id,
            height_cm=result.height_cm,
            weight_kg=result.weight_kg,
            sex=result.sex,
            measurements=answer["measurements"],
            views=answer["views"],
            model=result.model_variant,
            consent_given_at=utcnow(),
        )
        session.add(record)
        session.flush()
        answer["id"] = record.scan_id
        answer["stored"] = True
    return answer


def get_scan(session: Session, scan_id: str) -> BodyScan:
    scan = session.get(BodyScan, scan_id)
    if scan is None:
        raise NotFound(f"no stored body scan {scan_id!r}", scan_id=scan_id)
    return scan


def scan_record_to_dict(scan: BodyScan) -> dict[str, Any]:
    return {
        "id": scan.scan_id,
        "stored": True,
        "shopper_id": scan.shopper_id,
        "height_cm": scan.height_cm,
        "weight_kg": scan.weight_kg,
        "sex": scan.sex,
        "measurements": scan.measurements,
        "views": scan.views,
        "model": scan.model,
        "created_at": scan.created_at.isoformat(),
    }


def delete_scan(session: Session, scan_id: str) -> None:
    session.delete(get_scan(session, scan_id))
    session.flush()


def scan_zones(scan: BodyScan) -> dict[Zone, tuple[float, float]]:
    """A stored scan's size-chart zones as (value_cm, sd_cm), plus height."""
    return answer_zones(scan.measurements, scan.height_cm)
