"""Response models: what the API returns, documented in OpenAPI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class SizeStockOut(BaseModel):
    label: str
    stock: int


class ProductOut(BaseModel):
    product_id: str
    brand_id: str
    chart_id: str | None
    category: str
    gender: str
    title: str
    description: str
    colour: str
    material: str
    price: float
    currency: str
    fit: str
    images: list[str]
    texture: str | None = None
    sizes: list[SizeStockOut]


class ProductPage(BaseModel):
    items: list[ProductOut]
    total: int
    limit: int
    offset: int


class BrandOut(BaseModel):
    brand_id: str
    name: str
    country: str | None
    description: str | None


class ZoneFitOut(BaseModel):
    zone: str
    body_cm: float
    size_range_cm: list[float]
    ease_cm: float
    fit: str
    estimated: bool


class SizeFitOut(BaseModel):
    size: str
    overall: str
    in_stock: bool | None
    zones: list[ZoneFitOut]


class AlternativeOut(BaseModel):
    size: str
    share: float


class AdjustmentOut(BaseModel):
    source: str
    size_steps: float
    evidence: str


class RecommendationOut(BaseModel):
    chart_id: str
    product_id: str | None
    size: str
    confidence: float
    alternatives: list[AlternativeOut]
    in_stock: bool | None
    reason: str
    fit_preference: str
    measurements_from: str
    zones_used: list[str]
    estimated_zones: list[str]
    fits: list[SizeFitOut]
    adjustments: list[AdjustmentOut]


class EstimatedValueOut(BaseModel):
    value_cm: float
    plus_minus_cm: float
    estimated: bool


class EstimateOut(BaseModel):
    height_cm: float
    weight_kg: float | None
    sex: str
    measurements: dict[str, EstimatedValueOut]
    given: dict[str, float]
    method: str


class ImportResultOut(BaseModel):
    kind: str
    created: int
    updated: int


class ShopperOut(BaseModel):
    shopper_id: str
    sex: str | None
    fit_preference: str | None
    measurements: dict[str, object] | None


class EventOut(BaseModel):
    event_id: int
    kind: str
    product_id: str
    shopper_id: str | None
    size: str | None
    return_reason: str | None
    occurred_at: str | None


class RecommendedItemOut(BaseModel):
    product_id: str
    title: str
    score: float
    #: Why: "often bought with X", "like Y you viewed", "popular right now", ...
    reason: str
    #: The in-stock size that fits the shopper (null: no measurements, or no chart).
    fit_size: str | None


class ShopperRecommendationsOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    shopper_id: str
    #: The recommender's name, or "popularity-fallback" before the first training.
    model: str
    model_version: str | None
    items: list[RecommendedItemOut]


class ProductRecommendationsOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    product_id: str
    model: str
    model_version: str | None
    items: list[RecommendedItemOut]


class RecsysTrainOut(BaseModel):
    version: str
    model: str
    params: dict[str, Any]
    created_at: str
    events: int
    shoppers: int
    products: int
    train_seconds: float
    warnings: list[str]
    #: What scores the SASRec network when serving: "onnx" (ONNX Runtime, exported and
    #: checked at training) or "torch".
    runtime: str
    #: Largest |ONNX - torch| score difference the export check saw (ONNX only).
    runtime_max_abs_diff: float | None = None
