"""Recommendation use cases on a real SQLite file with a shop whose answers are known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from fitroom.config import Settings
from fitroom.errors import BatchRejected, ConfigError, InputError, NotCompressible, NotFound
from fitroom.recsys.hybrid import Hybrid
from fitroom.services import catalog, events, recommendations
from fitroom.services.recommendations import Serving
from fitroom.store.db import Database
from fitroom.store.models import Event
from tests.recsys_shop import (
    BUYER_OF_OXFORD,
    MEASURED_SHOPPER,
    add_measured_shopper,
    purchase,
    seed_catalog,
    seed_events,
    seed_shop,
)

# Both backends: the SQL here (ordering, co-purchase subquery, the version counter)
# must hold on PostgreSQL as it does on SQLite.


@pytest.fixture()
def shop(db: Database) -> Database:
    seed_shop(db)
    return db


def trained(db: Database, settings: Settings) -> dict[str, object]:
    with db.session() as session:
        return recommendations.train(session, settings)


def ids(answer: dict[str, object]) -> list[str]:
    items = answer["items"]
    assert isinstance(items, list)
    return [item["product_id"] for item in items]


def test_interactions_are_positive_shopper_events_in_time_order(shop: Database) -> None:
    with shop.session() as session:
        data, n_events = recommendations.load_interactions(session)
    # Every product is an item, touched or not (jeans and dress have no events).
    assert set(data.item_ids) >= {"straight-jeans", "wrap-dress"}
    assert len(data.item_ids) == 9
    history = dict(zip(data.user_ids, data.sequences, strict=True))
    assert [data.item_ids[i] for i in history["ab1"]] == ["oxford", "chinos"]  # no return
    assert MEASURED_SHOPPER not in history  # no events
    # 5x2 + 3x2 + 2x2 + 7 + 1 purchases and views; the anonymous view and the return: no.
    assert n_events == 28 == data.n_interactions


def test_buyer_of_a_gets_b_first_with_a_in_the_reason(shop: Database, settings: Settings) -> None:
    meta = trained(shop, settings)
    assert meta["version"] == "v0001" and meta["model"] == "hybrid"
    serving = Serving.from_settings(settings)
    with shop.session() as session:
        answer = recommendations.recommend_for_shopper(session, serving, BUYER_OF_OXFORD, 5)
    assert answer["model"] == "hybrid" and answer["model_version"] == "v0001"
    first = answer["items"][0]
    assert first["product_id"] == "chinos"
    assert first["reason"] == "often bought with Oxford shirt"
    assert first["title"] == "Chino trousers"
    assert "oxford" not in ids(answer)  # already bought
    # The rest: nothing the shopper had explains them, but they are picked for this
    # history (the sequential and content parts), not merely popular.
    assert {item["reason"] for item in answer["items"][1:]} == {"based on your recent activity"}


def test_events_after_training_count_at_once(shop: Database, settings: Settings) -> None:
    trained(shop, settings)
    serving = Serving.from_settings(settings)
    with shop.session() as session:
        events.record_event(session, purchase("linen", "newcomer"))
    with shop.session() as session:
        answer = recommendations.recommend_for_shopper(session, serving, "newcomer", 3)
    assert answer["items"][0]["product_id"] == "denim-jacket"
    assert answer["items"][0]["reason"] == "often bought with Linen shirt"


def test_unknown_shopper_gets_popular_in_stock_products(shop: Database, settings: Settings) -> None:
    trained(shop, settings)
    with shop.session() as session:
        answer = recommendations.recommend_for_shopper(
            session, Serving.from_settings(settings), "never-seen", 10
        )
    # sold-out (7 views) is the most touched but has no stock; then oxford (6), chinos (5).
    assert ids(answer)[:2] == ["oxford", "chinos"]
    assert "sold-out" not in ids(answer)
    assert {item["reason"] for item in answer["items"]} == {"popular right now"}
    assert all(item["fit_size"] is None for item in answer["items"])


def test_before_any_training_popularity_from_events_is_served(
    shop: Database, tmp_path: Path
) -> None:
    serving = Serving(tmp_path / "no-models-here")
    with shop.session() as session:
        answer = recommendations.recommend_for_shopper(session, serving, BUYER_OF_OXFORD, 3)
    assert answer["model"] == "popularity-fallback" and answer["model_version"] is None
    assert ids(answer) == ["chinos", "linen", "denim-jacket"]  # oxford: bought already
    assert answer["items"][0]["score"] == 5.0
    assert answer["items"][0]["reason"] == "popular right now"


def test_fit_aware_drops_products_without_a_fitting_size_in_stock(
    shop: Database, settings: Settings
) -> None:
    trained(shop, settings)
    serving = Serving.from_settings(settings)
    with shop.session() as session:
        anyone = recommendations.recommend_for_shopper(session, serving, "no-measurements", 10)
        measured = recommendations.recommend_for_shopper(session, serving, MEASURED_SHOPPER, 10)
    assert "striped-tee" in ids(anyone)  # popular enough to be recommended
    assert "striped-tee" not in ids(measured)  # but L, their size, is out of stock
    fits = {item["product_id"]: item["fit_size"] for item in measured["items"]}
    assert fits["basic-tee"] == "L"
    assert fits["oxford"] == "L"
    assert fits["chinos"] is None  # no size chart
    assert fits["straight-jeans"] is None  # the chart needs an inseam they did not give


def test_fit_follows_stock_changes(shop: Database, settings: Settings) -> None:
    """Restocking L brings the striped tee back: the catalogue version reloads the copy."""
    trained(shop, settings)
    serving = Serving.from_settings(settings)
    with shop.session() as session:
        assert "striped-tee" not in ids(
            recommendations.recommend_for_shopper(session, serving, MEASURED_SHOPPER, 10)
        )
    with shop.session() as session:
        product = catalog.product_to_dict(catalog.get_product(session, "striped-tee"))
        for size in product["sizes"]:
            size["stock"] = 3
        catalog.put_product(session, catalog.ProductIn.model_validate(product))
    with shop.session() as session:
        answer = recommendations.recommend_for_shopper(session, serving, MEASURED_SHOPPER, 10)
    assert {i["product_id"]: i["fit_size"] for i in answer["items"]}["striped-tee"] == "L"


def test_similar_and_outfit(shop: Database, settings: Settings) -> None:
    trained(shop, settings)
    serving = Serving.from_settings(settings)
    with shop.session() as session:
        similar = recommendations.similar_products(session, serving, "oxford", 3)
        look = recommendations.outfit(session, serving, "oxford", 4)
    assert similar["items"][0]["product_id"] == "chinos"
    assert similar["items"][0]["reason"] == (
        "shoppers who looked at Oxford shirt also looked at this"
    )
    # Then products alike in text (the hybrid's content part), never out of stock.
    assert [i["reason"] for i in similar["items"][1:]] == ["like Oxford shirt"] * 2
    assert "sold-out" not in ids(similar)

    assert look["items"][0]["product_id"] == "chinos"
    assert look["items"][0]["reason"] == "often bought with Oxford shirt"
    chosen = ids(look)
    assert "oxford" not in chosen and "linen" not in chosen  # tops: same category
    assert "wrap-dress" not in chosen  # women's, for a men's shirt
    assert set(chosen) == {"chinos", "denim-jacket", "straight-jeans"}  # all there is


def test_unknown_product_is_not_found_and_k_is_checked(shop: Database, settings: Settings) -> None:
    serving = Serving.from_settings(settings)
    with shop.session() as session:
        with pytest.raises(NotFound):
            recommendations.similar_products(session, serving, "no-such-thing", 5)
        with pytest.raises(NotFound):
            recommendations.outfit(session, serving, "no-such-thing", 5)
        for k in (0, 101):
            with pytest.raises(InputError, match="k must be 1-100"):
                recommendations.recommend_for_shopper(session, serving, "x", k)


def test_retraining_switches_the_pointer_and_prunes(shop: Database, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", recsys_keep_versions=2)
    models_dir = settings.resolved_recsys_dir
    serving = Serving.from_settings(settings)

    def served() -> str | None:
        model = serving.model()
        return None if model is None else model.version

    assert served() is None
    assert trained(shop, settings)["version"] == "v0001"
    assert served() == "v0001"
    assert trained(shop, settings)["version"] == "v0002"
    assert (models_dir / "current").read_text().strip() == "v0002"
    assert served() == "v0002"
    assert trained(shop, settings)["version"] == "v0003"
    assert recommendations.versions(models_dir) == ["v0002", "v0003"]  # v0001 pruned
    assert served() == "v0003"
    # Nothing half-done is left behind: no staging folders, no temporary pointer.
    assert sorted(p.name for p in models_dir.iterdir()) == [".lock", "current", "v0002", "v0003"]
    meta = json.loads((models_dir / "v0003" / "meta.json").read_text())
    assert meta["events"] == 28 and meta["products"] == 9 and meta["shoppers"] == 18
    assert meta["train_seconds"] >= 0 and meta["created_at"]
    assert (models_dir / "v0003" / "config.json").is_file()


def test_a_broken_version_keeps_the_model_that_was_served(
    shop: Database, settings: Settings
) -> None:
    trained(shop, settings)
    serving = Serving.from_settings(settings)
    with shop.session() as session:
        before = recommendations.recommend_for_shopper(session, serving, "x", 1)
    assert before["model_version"] == "v0001"
    models_dir = settings.resolved_recsys_dir
    (models_dir / "current").write_text("v0099\n")  # names a version that is not there
    with shop.session() as session:
        answer = recommendations.recommend_for_shopper(session, serving, BUYER_OF_OXFORD, 1)
    assert answer["model_version"] == "v0001"
    assert answer["items"][0]["product_id"] == "chinos"
    # A fresh process with nothing loaded falls back to popularity, and says so.
    with shop.session() as session:
        fresh = recommendations.recommend_for_shopper(
            session, Serving.from_settings(settings), BUYER_OF_OXFORD, 1
        )
    assert fresh["model"] == "popularity-fallback"


def test_training_with_no_events_serves_and_says_so(db: Database, settings: Settings) -> None:
    seed_catalog(db)
    add_measured_shopper(db)
    meta = trained(db, settings)
    assert meta["events"] == 0 and meta["warnings"]
    with db.session() as session:
        answer = recommendations.recommend_for_shopper(
            session, Serving.from_settings(settings), MEASURED_SHOPPER, 3
        )
    assert answer["model_version"] == "v0001" and len(answer["items"]) == 3


def test_training_needs_products_and_a_known_model(db: Database, tmp_path: Path) -> None:
    with db.session() as session, pytest.raises(InputError, match="no products"):
        recommendations.train(session, Settings(var_dir=tmp_path))
    seed_catalog(db)
    seed_events(db)
    with db.session() as session, pytest.raises(ConfigError, match="unknown model"):
        recommendations.train(session, Settings(var_dir=tmp_path, recsys_model="nope"))
    with db.session() as session:
        meta = recommendations.train(
            session, Settings(var_dir=tmp_path, recsys_model="pop", recsys_params={})
        )
    assert meta["model"] == "pop"


def count_events(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def test_event_batch_is_all_or_nothing(shop: Database) -> None:
    before = count_events(shop)
    rows = [
        {"kind": "view", "product_id": "oxford", "shopper_id": "b1"},
        {"kind": "purchase", "product_id": "oxford", "shopper_id": "b1", "size": "XXS"},
        {"kind": "view", "product_id": "nothing-like-it"},
        {"kind": "look", "product_id": "oxford"},
        {"kind": "view", "product_id": "linen", "shopper_id": "b1"},
    ]
    with shop.session() as session, pytest.raises(BatchRejected) as caught:
        events.record_events(session, rows)
    errors = caught.value.details["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (2, "size"),
        (3, "product_id"),
        (4, "kind"),
    ]
    assert "XXS" in errors[0]["reason"]
    assert count_events(shop) == before

    with shop.session() as session:
        stored = events.record_events(session, [rows[0], rows[4]])
        assert [e.product_id for e in stored] == ["oxford", "linen"]
    assert count_events(shop) == before + 2
    with shop.session() as session, pytest.raises(InputError, match="empty"):
        events.record_events(session, [])


def test_a_product_nobody_touched_gets_similar_products_by_content(
    shop: Database, settings: Settings
) -> None:
    trained(shop, settings)  # the default hybrid: its content part reads the product texts
    serving = Serving.from_settings(settings)
    with shop.session() as session:
        similar = recommendations.similar_products(session, serving, "straight-jeans", 2)
    first = similar["items"][0]
    assert first["product_id"] == "chinos"  # the other trousers
    assert first["reason"] == "like Straight jeans"


def _answers(db: Database, serving: Serving) -> list[list[tuple[object, ...]]]:
    """Four shoppers' recommendations: (product, reason, fit size, score to 4 places)."""
    with db.session() as session:
        answers = [
            recommendations.recommend_for_shopper(session, serving, shopper, 5)
            for shopper in (BUYER_OF_OXFORD, "ab1", MEASURED_SHOPPER, "nobody")
        ]
    return [
        [(i["product_id"], i["reason"], i["fit_size"], round(i["score"], 4)) for i in a["items"]]
        for a in answers
    ]


def test_the_served_sasrec_runs_in_onnx_runtime_with_torchs_answers(
    shop: Database, settings: Settings
) -> None:
    meta = trained(shop, settings)
    assert meta["runtime"] == "onnx"
    assert isinstance(meta["runtime_max_abs_diff"], float) and meta["runtime_max_abs_diff"] < 1e-3
    version_dir = settings.resolved_recsys_dir / str(meta["version"])
    assert (version_dir / "sasrec.onnx").is_file()
    onnx_serving = Serving.from_settings(settings)
    onnx_part = _served(onnx_serving).parts["sasrec"]
    assert onnx_part.runtime is not None
    torch_serving = Serving.from_settings(settings)
    torch_part = _served(torch_serving).parts["sasrec"]
    torch_part.use_runtime(None)
    histories = [np.array([0, 1, 2]), np.array([4]), np.array([3, 3, 5, 1, 0, 2, 7])]
    np.testing.assert_allclose(onnx_part.score(histories), torch_part.score(histories), atol=1e-4)
    assert _answers(shop, onnx_serving) == _answers(shop, torch_serving)


def test_a_broken_onnx_file_is_served_with_torch(shop: Database, settings: Settings) -> None:
    meta = trained(shop, settings)
    expected = _answers(shop, Serving.from_settings(settings))
    (settings.resolved_recsys_dir / str(meta["version"]) / "sasrec.onnx").write_bytes(b"junk")
    serving = Serving.from_settings(settings)
    assert _served(serving).parts["sasrec"].runtime is None
    assert _answers(shop, serving) == expected


def test_without_onnx_or_when_export_fails_training_serves_torch(
    shop: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = Settings(var_dir=tmp_path / "plain", recsys_onnx=False)
    meta = trained(shop, plain)
    assert meta["runtime"] == "torch" and "runtime_max_abs_diff" not in meta
    assert not (plain.resolved_recsys_dir / "v0001" / "sasrec.onnx").exists()

    # An export that fails (here: made to) must not fail the training.
    from fitroom.compress import recsys_target

    def refuse(*args: object, **kwargs: object) -> None:
        raise NotCompressible("aten::something has no ONNX form", step="export")

    monkeypatch.setattr(recsys_target, "export_onnx", refuse)
    failing = Settings(var_dir=tmp_path / "failing")
    meta = trained(shop, failing)
    assert meta["runtime"] == "torch"
    assert any("could not be exported to ONNX" in w for w in meta["warnings"])  # type: ignore[attr-defined]
    assert not (failing.resolved_recsys_dir / "v0001" / "sasrec.onnx").exists()
    assert _answers(shop, Serving.from_settings(failing))[0]


def test_a_model_without_sasrec_has_nothing_to_export(shop: Database, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", recsys_model="itemknn", recsys_params={})
    meta = trained(shop, settings)
    assert meta["runtime"] == "torch" and not meta["warnings"]
    assert not (settings.resolved_recsys_dir / "v0001" / "sasrec.onnx").exists()


def _served(serving: Serving) -> Hybrid:
    served = serving.model()
    assert served is not None and isinstance(served.model, Hybrid)
    return served.model
