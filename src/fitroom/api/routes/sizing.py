"""Size recommendations and measurement estimates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from fitroom.api.deps import SessionDep, SizingDep
from fitroom.api.schemas import EstimateOut, RecommendationOut
from fitroom.services import sizing
from fitroom.sizing.zones import Sex, Zone

router = APIRouter(tags=["sizing"])


@router.post(
    "/size-recommendations",
    response_model=RecommendationOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "chart_id": "nordform-men-tops",
                        "measurements": {"chest_cm": 101, "waist_cm": 84, "height_cm": 180},
                        "sex": "male",
                        "fit": "regular",
                    }
                }
            }
        }
    },
)
def recommend_size(
    request: sizing.RecommendIn, session: SessionDep, context: SizingDep
) -> dict[str, Any]:
    """Recommend a size of a product (or chart) for a body, per-zone fit and why.

    Missing zones are estimated from height, weight and sex when those are given;
    ``estimated_zones`` says which. Returns of the product and the shopper's own
    returns shift the recommendation (``adjustments``).
    """
    return sizing.recommend(session, request, context)


class EstimateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    height_cm: float = Field(description="stature in cm")
    weight_kg: float | None = Field(default=None, description="body weight in kg")
    sex: Sex
    known: dict[Zone, float] = Field(
        default_factory=dict, description="zones already measured (cm), to condition on"
    )


@router.post("/measurements/estimate", response_model=EstimateOut)
def estimate(request: EstimateIn, context: SizingDep) -> dict[str, Any]:
    """Estimate body measurements (cm, +/- one sd) from height, weight and sex."""
    return sizing.estimate_measurements(
        height_cm=request.height_cm,
        weight_kg=request.weight_kg,
        sex=request.sex,
        known_cm=request.known,
        estimator_path=context.estimator_path,
    )
