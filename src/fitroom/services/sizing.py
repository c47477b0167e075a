"""Size use cases: recommend a size for a product or chart, estimate measurements.

Composes the ``sizing`` domain (charts, recommender, estimator, returns learning)
with the store (charts, products, shoppers' consented measurements, events).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fitroom.errors import InputError, NotEnoughMeasurements
from fitroom.services import body_scans, catalog
from fitroom.services.lru import LruCache
from fitroom.sizing.charts import SizeChart
from fitroom.sizing.estimate import load_estimator
from fitroom.sizing.recommend import (
    SELF_MEASURED_SD_CM,
    Adjustment,
    FitPreference,
    Recommendation,
    ZoneValue,
    recommend_size,
)
from fitroom.sizing.returns import (
    OffsetEstimate,
    Outcome,
    Purchase,
    body_position,
    estimate_offset,
)
from fitroom.sizing.units import check_length_cm, check_weight_kg, to_cm, to_kg
from fitroom.sizing.zones import Sex, Zone
from fitroom.store.models import Event, EventKind, Product, ReturnReason, Shopper

ZONE_FIELDS: tuple[Zone, ...] = (
    Zone.chest,
    Zone.waist,
    Zone.hip,
    Zone.inseam,
    Zone.neck,
    Zone.sleeve,
    Zone.height,
)


class BodyIn(BaseModel):
    """Body measurements as a caller sends them: cm and kg, or explicitly in and lb.

    Each zone may come as ``<zone>_cm`` or ``<zone>_in`` (not both); weight as
    ``weight_kg`` or ``weight_lb``. Numbers in cm that only make sense as inches are
    refused with a message that says so; nothing is converted silently.
    """

    model_config = ConfigDict(extra="forbid")

    chest_cm: float | None = None
    waist_cm: float | None = None
    hip_cm: float | None = None
    inseam_cm: float | None = None
    neck_cm: float | None = None
    sleeve_cm: float | None = None
    height_cm: float | None = None
    chest_in: float | None = None
    waist_in: float | None = None
    hip_in: float | None = None
    inseam_in: float | None = None
    neck_in: float | None = None
    sleeve_in: float | None = None
    height_in: float | None = None
    weight_kg: float | None = None
    weight_lb: float | None = None

    @model_validator(mode="after")
    def _one_unit_per_zone(self) -> BodyIn:
        for zone in ZONE_FIELDS:
            if getattr(self, f"{zone.value}_cm") is not None and (
                getattr(self, f"{zone.value}_in") is not None
            ):
                raise ValueError(f"send {zone.value}_cm or {zone.value}_in, not both")
        if self.weight_kg is not None and self.weight_lb is not None:
            raise ValueError("send weight_kg or weight_lb, not both")
        return self

    def is_empty(self) -> bool:
        return not any(v is not None for v in self.model_dump().values())

    def checked_cm(self) -> tuple[dict[Zone, float], float | None]:
        """Zones in cm and weight in kg, each checked for plausibility and units."""
        values: dict[Zone, float] = {}
        for zone in ZONE_FIELDS:
            cm = getattr(self, f"{zone.value}_cm")
            inches = getattr(self, f"{zone.value}_in")
            if cm is not None:
                values[zone] = check_length_cm(zone, float(cm))
            elif inches is not None:
                values[zone] = check_length_cm(
                    zone, to_cm(float(inches), "in"), field=f"{zone.value}_in"
                )
        weight: float | None = None
        if self.weight_kg is not None:
            weight = check_weight_kg(float(self.weight_kg))
        elif self.weight_lb is not None:
            weight = check_weight_kg(to_kg(float(self.weight_lb), "lb"), field="weight_lb")
        return values, weight


class RecommendIn(BaseModel):
    """A size recommendation request: what to size, for which body, how it should sit."""

    model_config = ConfigDict(extra="forbid")

    product_id: str | None = None
    chart_id: str | None = None
    measurements: BodyIn = Field(default_factory=BodyIn)
    sex: Sex | None = None
    fit: FitPreference | None = None
    shopper_id: str | None = None
    body_scan_id: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> RecommendIn:
        if (self.product_id is None) == (self.chart_id is None):
            raise ValueError("send exactly one of product_id or chart_id")
        if self.body_scan_id is not None and not self.measurements.is_empty():
            raise ValueError("send measurements or body_scan_id, not both")
        return self


@dataclass(frozen=True)
class SizingContext:
    """What a sizing call needs besides the session: the estimator model and settings."""

    estimator_path: Path | None = None
    prior_sd_steps: float = 0.5
    max_offset_steps: float = 2.0


# -- body assembly ----------------------------------------------------------------------


def assemble_body(
    values_cm: Mapping[Zone, float],
    weight_kg: float | None,
    sex: Sex | None,
    needed: tuple[Zone, ...],
    estimator_path: Path | None,
    sd_cm: Mapping[Zone, float] | None = None,
) -> dict[Zone, ZoneValue]:
    """Measured zones plus estimates of the needed ones that are missing.

    ``sd_cm`` gives the uncertainty of measured zones (a body scan's +/-); zones
    without one get the usual self-measurement sd.
    """
    sds = sd_cm or {}
    body = {
        zone: ZoneValue(value_cm=value, sd_cm=sds.get(zone, SELF_MEASURED_SD_CM.get(zone, 1.0)))
        for zone, value in values_cm.items()
    }
    missing = [z for z in needed if z not in body]
    height = values_cm.get(Zone.height)
    if missing and height is not None and sex is not None:
        estimator = load_estimator(estimator_path)
        known = {z: v for z, v in values_cm.items() if z in estimator.zones}
        estimates = estimator.estimate(
            height_cm=height, sex=sex, weight_kg=weight_kg, known_cm=known
        )
        for zone in missing:
            if zone in estimates:
                estimate = estimates[zone]
                body[zone] = ZoneValue(estimate.value_cm, estimate.sd_cm, estimated=True)
    return body


def estimate_measurements(
    *,
    height_cm: float,
    sex: Sex,
    weight_kg: float | None,
    known_cm: Mapping[Zone, float] | None = None,
    estimator_path: Path | None = None,
) -> dict[str, Any]:
    """Measurements estimated from height (weight, sex, known zones), with +/- cm."""
    height = check_length_cm(Zone.height, height_cm)
    weight = None if weight_kg is None else check_weight_kg(weight_kg)
    known = {z: check_length_cm(z, v) for z, v in (known_cm or {}).items()}
    estimator = load_estimator(estimator_path)
    estimates = estimator.estimate(height_cm=height, sex=sex, weight_kg=weight, known_cm=known)
    return {
        "height_cm": height,
        "weight_kg": weight,
        "sex": sex.value,
        "measurements": {
            zone.value: {
                "value_cm": round(e.value_cm, 1),
                "plus_minus_cm": round(e.sd_cm, 1),
                "estimated": True,
            }
            for zone, e in estimates.items()
        },
        "given": {zone.value: round(value, 1) for zone, value in known.items()},
        "method": (
            "log-linear regression on height and weight fitted on the ANSUR II survey "
            "(US Army 2012), natural waist calibrated on bdims (Heinz et al. 2003); "
            "plus_minus_cm is one standard deviation of the model's error"
        ),
    }


# -- returns learning -------------------------------------------------------------------


#: Offsets keyed by (scope, id, newest event id): recomputed only after new events.
_offsets: LruCache[tuple[str, str, str, int], OffsetEstimate] = LruCache(4096)


def _db_key(session: Session) -> str:
    bind = session.get_bind()
    return str(bind.engine.url)


@dataclass(frozen=True)
class _Sale:
    shopper_id: str | None
    product_id: str
    size: str
    outcome: Outcome


def _sales(events: list[Event]) -> list[_Sale]:
    """Pair purchases with later returns (same shopper, product and size)."""
    open_purchases: dict[tuple[str | None, str, str], list[int]] = {}
    outcomes: list[Outcome | None] = []
    sales: list[tuple[str | None, str, str]] = []
    for event in sorted(events, key=lambda e: e.event_id):
        key = (event.shopper_id, event.product_id, event.size or "")
        if event.kind is EventKind.purchase:
            open_purchases.setdefault(key, []).append(len(sales))
            sales.append(key)
            outcomes.append(Outcome.kept)
        elif event.kind is EventKind.return_:
            queue = open_purchases.get(key)
            if queue:
                index = queue.pop(0)
            else:  # a return whose purchase was never recorded still counts
                index = len(sales)
                sales.append(key)
                outcomes.append(Outcome.kept)
            outcomes[index] = {
                ReturnReason.too_small: Outcome.too_small,
                ReturnReason.too_large: Outcome.too_large,
            }.get(event.return_reason or ReturnReason.other)
    return [
        _Sale(shopper, product, size, outcome)
        for (shopper, product, size), outcome in zip(sales, outcomes, strict=True)
        if outcome is not None
    ]


def _shopper_body(
    session: Session, shopper_id: str | None, chart: SizeChart
) -> dict[Zone, ZoneValue] | None:
    if shopper_id is None:
        return None
    shopper = session.get(Shopper, shopper_id)
    if shopper is None or shopper.measurements is None:
        return None
    values = shopper.measurements.values_cm
    return {
        Zone(k): ZoneValue(float(v), 1.5)
        for k, v in values.items()
        if k in Zone.__members__ and k in {z.value for z in chart.size_zones}
    }


def _learned_offset(
    session: Session,
    scope: Literal["product", "shopper"],
    column: Any,
    value: str,
    context: SizingContext,
    to_purchases: Callable[[list[_Sale]], list[Purchase]],
) -> OffsetEstimate:
    """The offset learned from the purchases/returns where ``column == value``.

    Cached per (database, scope, id, newest event id): recomputed only after new events.
    """
    sale_kinds = [EventKind.purchase, EventKind.return_]
    newest = session.scalar(
        select(func.max(Event.event_id)).where(column == value, Event.kind.in_(sale_kinds))
    )
    key = (_db_key(session), scope, value, newest or 0)
    cached = _offsets.get(key)
    if cached is not None:
        return cached
    events = list(session.scalars(select(Event).where(column == value, Event.kind.in_(sale_kinds))))
    result = estimate_offset(
        to_purchases(_sales(events)),
        prior_sd_steps=context.prior_sd_steps,
        max_offset_steps=context.max_offset_steps,
    )
    _offsets.put(key, result)
    return result


def product_offset(
    session: Session, product: Product, chart: SizeChart, context: SizingContext
) -> OffsetEstimate:
    """How far this product runs small (+) or large (-), in size steps, from returns."""

    def to_purchases(sales: list[_Sale]) -> list[Purchase]:
        purchases = []
        for sale in sales:
            try:
                size_index, _ = chart.split_label(sale.size)
            except InputError:
                continue
            body = _shopper_body(session, sale.shopper_id, chart)
            position = body_position(chart, body) if body else None
            purchases.append(Purchase(size_index, sale.outcome, position))
        return purchases

    return _learned_offset(
        session, "product", Event.product_id, product.product_id, context, to_purchases
    )


def shopper_offset(session: Session, shopper_id: str, context: SizingContext) -> OffsetEstimate:
    """How far this shopper's own measurements run small (+) or large (-), in steps."""

    def to_purchases(sales: list[_Sale]) -> list[Purchase]:
        purchases = []
        for sale in sales:
            product = session.get(Product, sale.product_id)
            if product is None or product.chart_id is None:
                continue
            chart = catalog.get_chart(session, product.chart_id)
            try:
                size_index, _ = chart.split_label(sale.size)
            except InputError:
                continue
            body = _shopper_body(session, shopper_id, chart)
            position = body_position(chart, body) if body else None
            known = product_offset(session, product, chart, context).offset_steps
            purchases.append(Purchase(size_index, sale.outcome, position, known))
        return purchases

    return _learned_offset(session, "shopper", Event.shopper_id, shopper_id, context, to_purchases)


def _adjustment(source: Literal["product", "shopper"], estimate: OffsetEstimate) -> Adjustment:
    direction = "small" if estimate.offset_steps > 0 else "large"
    subject = "This product runs" if source == "product" else "Your past orders ran"
    verb = "up" if estimate.offset_steps > 0 else "down"
    return Adjustment(
        source=source,
        steps=estimate.offset_steps,
        evidence=(
            f"{subject} {direction} ({estimate.evidence}), so we sized {verb} by "
            f"{abs(estimate.offset_steps):.1f} of a size."
        ),
    )


# -- recommendation ---------------------------------------------------------------------


def recommend(session: Session, request: RecommendIn, context: SizingContext) -> dict[str, Any]:
    """The size recommendation for a product or a chart, as the API returns it."""
    product: Product | None = None
    if request.product_id is not None:
        product = catalog.get_product(session, request.product_id)
        if product.chart_id is None:
            raise InputError(
                f"product {product.product_id!r} has no size chart, so fitroom cannot size it",
                field="product_id",
            )
        chart = catalog.get_chart(session, product.chart_id)
    else:
        chart = catalog.get_chart(session, str(request.chart_id))

    shopper = None
    if request.shopper_id is not None:
        shopper = session.get(Shopper, request.shopper_id)
    values_cm, weight_kg = request.measurements.checked_cm()
    source = "request"
    measured_sd: dict[Zone, float] = {}
    if request.body_scan_id is not None:
        scan = body_scans.get_scan(session, request.body_scan_id)
        zones = body_scans.scan_zones(scan)
        values_cm = {zone: value for zone, (value, _) in zones.items()}
        measured_sd = {zone: sd for zone, (_, sd) in zones.items()}
        weight_kg = scan.weight_kg
        source = "body-scan"
        if request.sex is None and scan.sex is not None:
            request = request.model_copy(update={"sex": Sex(scan.sex)})
    elif not values_cm and shopper is not None and shopper.measurements is not None:
        stored = shopper.measurements.values_cm
        values_cm = {Zone(k): float(v) for k, v in stored.items() if k in Zone.__members__}
        weight_kg = stored.get("weight_kg")
        source = "stored"
    sex = request.sex or (Sex(shopper.sex) if shopper and shopper.sex else None) or chart.sex
    preference = request.fit or (
        FitPreference(shopper.fit_preference)
        if shopper and shopper.fit_preference
        else FitPreference.regular
    )
    if not values_cm:
        raise NotEnoughMeasurements(
            "no measurements: send some (e.g. chest_cm, waist_cm) or height_cm with "
            "weight_kg, or a shopper_id whose measurements are stored",
            needed=[z.value for z in chart.zones],
        )
    body = assemble_body(
        values_cm, weight_kg, sex, chart.zones, context.estimator_path, measured_sd
    )

    adjustments: list[Adjustment] = []
    if product is not None:
        offset = product_offset(session, product, chart, context)
        if offset.offset_steps:
            adjustments.append(_adjustment("product", offset))
    if shopper is not None:
        personal = shopper_offset(session, shopper.shopper_id, context)
        if personal.offset_steps:
            adjustments.append(_adjustment("shopper", personal))

    recommendation = recommend_size(chart, body, preference, adjustments)
    return recommendation_to_dict(recommendation, chart, product, source)


def recommendation_to_dict(
    rec: Recommendation, chart: SizeChart, product: Product | None, source: str
) -> dict[str, Any]:
    stock = {s.label: s.stock for s in product.sizes} if product is not None else None
    return {
        "chart_id": chart.chart_id,
        "product_id": product.product_id if product else None,
        "size": rec.size,
        "confidence": rec.confidence,
        "alternatives": [{"size": size, "share": share} for size, share in rec.alternatives],
        "in_stock": None if stock is None else stock.get(rec.size, 0) > 0,
        "reason": rec.reason,
        "fit_preference": rec.preference.value,
        "measurements_from": source,
        "zones_used": [z.value for z in rec.zones_used],
        "estimated_zones": [z.value for z in rec.estimated_zones],
        "fits": [
            {
                "size": fit.size,
                "overall": fit.worst.value,
                "in_stock": None if stock is None else stock.get(fit.size, 0) > 0,
                "zones": [
                    {
                        "zone": zf.zone.value,
                        "body_cm": zf.body_cm,
                        "size_range_cm": [zf.size_min_cm, zf.size_max_cm],
                        "ease_cm": zf.ease_cm,
                        "fit": zf.fit.value,
                        "estimated": zf.estimated,
                    }
                    for zf in fit.zones
                ],
            }
            for fit in rec.fits
        ],
        "adjustments": [
            {"source": a.source, "size_steps": a.steps, "evidence": a.evidence}
            for a in rec.adjustments
        ],
    }
