"""Personal recommendations, similar products, "complete the look", and retraining."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from fitroom.api.deps import AdminDep, RecsysDep, SessionDep, SettingsDep, WorkDep
from fitroom.api.schemas import ProductRecommendationsOut, RecsysTrainOut, ShopperRecommendationsOut
from fitroom.services import recommendations

router = APIRouter(tags=["recommendations"])

KQuery = Query(default=10, ge=1, le=recommendations.MAX_K, description="how many products")


@router.get("/shoppers/{shopper_id}/recommendations", response_model=ShopperRecommendationsOut)
async def for_shopper(
    shopper_id: str, work: WorkDep, serving: RecsysDep, k: int = KQuery
) -> dict[str, Any]:
    """What this shopper is likely to want next: in stock, in a size that fits them when
    their measurements are stored (``fit_size``), each with a reason.

    An unknown shopper is a cold start (popular products), not an error. Events posted
    since the last retrain count at once for models that read the history.
    """
    return await work(
        lambda session: recommendations.recommend_for_shopper(session, serving, shopper_id, k)
    )


@router.get("/products/{product_id}/similar", response_model=ProductRecommendationsOut)
async def similar(
    product_id: str, work: WorkDep, serving: RecsysDep, k: int = KQuery
) -> dict[str, Any]:
    """Products like this one, in stock."""
    return await work(
        lambda session: recommendations.similar_products(session, serving, product_id, k)
    )


@router.get("/products/{product_id}/outfit", response_model=ProductRecommendationsOut)
async def outfit(
    product_id: str,
    work: WorkDep,
    serving: RecsysDep,
    k: int = Query(default=6, ge=1, le=recommendations.MAX_K, description="how many products"),
) -> dict[str, Any]:
    """Complete the look: products of other categories that go with this one, from
    co-purchases and the model's similarity."""
    return await work(lambda session: recommendations.outfit(session, serving, product_id, k))


@router.post("/recsys/train", response_model=RecsysTrainOut, dependencies=[AdminDep])
def train(session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Retrain the recommender on the whole events table and serve the new version
    (admin key). The request lasts as long as training; for large stores or slow
    models, run ``fitroom recsys train`` instead."""
    return recommendations.train(session, settings)
