"""Returns in the events table shift later recommendations (product and shopper)."""

from __future__ import annotations

import numpy as np
import pytest

from fitroom.services import events, shoppers
from fitroom.services.sizing import BodyIn, RecommendIn, SizingContext, recommend
from fitroom.sizing.charts import SizeChart
from fitroom.store.db import Database
from tests.conftest import MEN_TOPS

CHART = SizeChart.from_dict(MEN_TOPS)
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def true_outcome(size: str, chest_cm: float, runs_small_steps: float) -> str:
    """The garment's real chest range is the chart's minus ``runs_small_steps`` sizes."""
    index, _ = CHART.split_label(size)
    body_range = CHART.sizes[index].ranges[next(iter(CHART.size_zones))]
    shift_cm = runs_small_steps * CHART.step_cm(next(iter(CHART.size_zones)))
    if chest_cm > body_range.max_cm - shift_cm + 0.5:
        return "too_small"
    if chest_cm < body_range.min_cm - shift_cm - 4:
        return "too_large"
    return "kept"


def return_rate(db: Database, product_id: str, chests_cm: np.ndarray) -> float:
    returned = 0
    with db.session() as session:
        for chest in chests_cm:
            rec = recommend(
                session,
                RecommendIn(product_id=product_id, measurements=BodyIn(chest_cm=float(chest))),
                SizingContext(),
            )
            returned += true_outcome(rec["size"], float(chest), 1.0) != "kept"
    return returned / len(chests_cm)


def test_return_rate_falls_as_returns_accumulate(seeded_db: Database) -> None:
    rng = np.random.default_rng(0)
    held_out = rng.uniform(90, 118, size=60)
    rates = [return_rate(seeded_db, "acme-tee", held_out)]
    for batch in range(3):
        with seeded_db.session() as session:
            for i in range(20):
                chest = float(rng.uniform(90, 118))
                shopper_id = f"b{batch}-{i}"
                shoppers.create_shopper(session, shoppers.ShopperIn(shopper_id=shopper_id))
                shoppers.put_measurements(
                    session,
                    shopper_id,
                    shoppers.MeasurementsIn(consent=True, measurements=BodyIn(chest_cm=chest)),
                )
                size = recommend(
                    session,
                    RecommendIn(product_id="acme-tee", shopper_id=shopper_id),
                    SizingContext(),
                )["size"]
                events.record_event(
                    session,
                    events.EventIn(
                        kind="purchase", product_id="acme-tee", shopper_id=shopper_id, size=size
                    ),
                )
                result = true_outcome(size, chest, 1.0)
                if result != "kept":
                    events.record_event(
                        session,
                        events.EventIn(
                            kind="return",
                            product_id="acme-tee",
                            shopper_id=shopper_id,
                            size=size,
                            return_reason=result,
                        ),
                    )
        rates.append(return_rate(seeded_db, "acme-tee", held_out))
    assert rates[0] > 0.5, "a product one size small is returned most of the time at first"
    assert rates[-1] < rates[0] / 2, f"return rates should fall: {rates}"


def test_a_shopper_who_keeps_returning_too_small_gets_sized_up(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        shoppers.create_shopper(session, shoppers.ShopperIn(shopper_id="tight"))
        for _ in range(6):
            events.record_event(
                session,
                events.EventIn(
                    kind="purchase", product_id="acme-tee", shopper_id="tight", size="M"
                ),
            )
            events.record_event(
                session,
                events.EventIn(
                    kind="return",
                    product_id="acme-tee",
                    shopper_id="tight",
                    size="M",
                    return_reason="too_small",
                ),
            )
    request = RecommendIn(
        product_id="acme-jeans",
        shopper_id="tight",
        measurements=BodyIn(waist_cm=82, hip_cm=98, inseam_cm=80),
    )
    with seeded_db.session() as session:
        rec = recommend(session, request, SizingContext())
        anonymous = recommend(
            session, request.model_copy(update={"shopper_id": None}), SizingContext()
        )
    assert anonymous["size"] == "W32 L32"
    assert [a["source"] for a in rec["adjustments"]] == ["shopper"]
    assert rec["adjustments"][0]["size_steps"] > 0.3
    assert "Your past orders ran small" in rec["reason"]


def test_returns_for_other_reasons_teach_nothing(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        for i in range(10):
            events.record_event(
                session,
                events.EventIn(
                    kind="purchase", product_id="acme-tee", shopper_id=f"o{i}", size="M"
                ),
            )
            events.record_event(
                session,
                events.EventIn(
                    kind="return",
                    product_id="acme-tee",
                    shopper_id=f"o{i}",
                    size="M",
                    return_reason="other",
                ),
            )
        rec = recommend(
            session,
            RecommendIn(product_id="acme-tee", measurements=BodyIn(chest_cm=100)),
            SizingContext(),
        )
    assert rec["adjustments"] == []
