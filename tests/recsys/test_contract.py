"""One contract, every recommender: known answers on the two-worlds data."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fitroom.recsys.base import Recommender, UnknownItem
from fitroom.recsys.data import Interactions
from fitroom.recsys.registry import create_model, load_model
from tests.recsys.conftest import WORLD_A, WORLD_B, two_worlds

SMALL_SASREC: dict[str, Any] = {
    "dim": 16,
    "max_len": 8,
    "dropout": 0.1,
    "lr": 5e-3,
    "batch_size": 32,
    "epochs": 40,
    "threads": 1,
}
TEXTS = {
    **{a: f"red floral summer dress number {i}" for i, a in enumerate(WORLD_A)},
    **{b: f"blue denim jeans for men, style {i}" for i, b in enumerate(WORLD_B)},
}

PERSONAL = {
    "itemknn": {},
    "transitions": {},
    "als": {"factors": 2, "threads": 1},
    "bpr": {"factors": 4, "threads": 1, "iterations": 200},
    "sasrec": SMALL_SASREC,
    "content": {},
    "hybrid": {
        "components": {"sasrec": SMALL_SASREC, "itemknn": {}, "pop": {}},
        "weights": {"sasrec": 1.0, "itemknn": 0.5, "pop": 0.1},
    },
}


@functools.cache
def _fit_once(name: str) -> Recommender:
    return _fit(name, two_worlds())


def _fit(name: str, data: Interactions) -> Recommender:
    model = create_model(name, **PERSONAL.get(name, {}))
    if name == "content":
        model.set_content(TEXTS)  # type: ignore[attr-defined]
    return model.fit(data)


@pytest.fixture(scope="module", params=sorted(PERSONAL))
def fitted(request: pytest.FixtureRequest) -> Recommender:
    return _fit_once(request.param)


def ids(scored: list[Any]) -> list[str]:
    return [s.item_id for s in scored]


@pytest.mark.parametrize(
    ("history", "world", "other"),
    [(["a0", "a1"], WORLD_A, WORLD_B), (["b1", "b2"], WORLD_B, WORLD_A)],
)
def test_history_of_one_world_gets_that_world(
    fitted: Recommender, history: list[str], world: list[str], other: list[str]
) -> None:
    top = ids(fitted.recommend(None, k=1, history=history))
    assert top[0] in world, top
    scores = fitted.score([fitted.encode(history)])[0]
    same = [i for i in world if i not in history]
    assert scores[fitted.encode(same)].mean() > scores[fitted.encode(other)].mean()


def test_seen_items_are_excluded_unless_asked(fitted: Recommender) -> None:
    top = ids(fitted.recommend(None, k=4, history=["a1", "a2"]))
    assert "a1" not in top and "a2" not in top
    everything = ids(fitted.recommend(None, k=13, history=["a1", "a2"], exclude_seen=False))
    assert {"a1", "a2"} <= set(everything)


def test_known_shopper_uses_fitted_history(fitted: Recommender, worlds: Interactions) -> None:
    user = worlds.user_ids[0]  # an A shopper: a2 a3 a4 a5
    # Only a0 ever followed a5 and its predecessors: the transition model knows one
    # next item and ranks the rest by popularity alone.
    top = ids(fitted.recommend(user, k=1 if fitted.name == "transitions" else 2))
    assert set(top) <= set(WORLD_A)
    assert not set(top) & {worlds.item_ids[i] for i in worlds.sequences[0]}


@pytest.mark.parametrize(
    ("item", "world", "other"), [("a2", WORLD_A, WORLD_B), ("b2", WORLD_B, WORLD_A)]
)
def test_similar_items_share_the_world(
    fitted: Recommender, item: str, world: list[str], other: list[str]
) -> None:
    top = ids(fitted.similar(item, k=3))
    assert item not in top and top[0] in world, top
    sims = fitted.similarity(fitted.encode([item]))[0]
    same = [i for i in world if i != item]
    assert sims[fitted.encode(same)].mean() > sims[fitted.encode(other)].mean()


def test_candidates_mask_is_respected(fitted: Recommender) -> None:
    mask = np.array([i.startswith("b") for i in fitted.item_ids])
    top = ids(fitted.recommend(None, k=3, history=["a0", "a1"], candidates=mask))
    assert top and set(top) <= set(WORLD_B)


def test_unknown_shopper_is_a_cold_start(fitted: Recommender) -> None:
    assert len(fitted.recommend("never-seen", k=5)) == 5


def test_unknown_product_and_bad_k(fitted: Recommender) -> None:
    with pytest.raises(UnknownItem):
        fitted.similar("no-such-product")
    with pytest.raises(ValueError, match="k must be"):
        fitted.recommend(None, k=0)


def test_because_of_names_a_history_item_of_the_same_world(fitted: Recommender) -> None:
    hist = fitted.encode(["b0", "a1"])
    reasons = fitted.because_of(hist, ["a2"])
    assert reasons[0] is not None and fitted.item_ids[reasons[0]] == "a1"


def test_save_and_load_give_the_same_answers(fitted: Recommender, tmp_path: Path) -> None:
    fitted.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert type(again) is type(fitted) and again.params == fitted.params
    hist = [fitted.encode(["a0", "a1"]), fitted.encode([]), fitted.encode(["b3"])]
    np.testing.assert_allclose(again.score(hist), fitted.score(hist), rtol=1e-5, atol=1e-5)
    assert ids(again.recommend("u1", k=3)) == ids(fitted.recommend("u1", k=3))


def test_saved_model_holds_no_pickles(fitted: Recommender, tmp_path: Path) -> None:
    fitted.save(tmp_path / "m")
    with np.load(tmp_path / "m" / "arrays.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)


@pytest.mark.parametrize("loss", ["full", "sampled"])
def test_sequential_model_predicts_the_next_step(loss: str, worlds: Interactions) -> None:
    if loss == "full":
        model = _fit_once("sasrec")
    else:
        model = create_model("sasrec", **{**SMALL_SASREC, "loss": "sampled", "negatives": 6})
        model.fit(worlds)
    assert ids(model.recommend(None, k=1, history=["a1", "a2"]))[0] == "a3"
    assert ids(model.recommend(None, k=1, history=["b2", "b3"]))[0] == "b4"


def test_popularity_ranks_the_best_seller_first(worlds: Interactions) -> None:
    counts = Counter(worlds.item_ids[i] for seq in worlds.sequences for i in seq)
    ranked = sorted(counts, key=lambda item: (-counts[item], worlds.item_ids.index(item)))
    model = create_model("pop").fit(worlds)
    assert ids(model.recommend("anyone", k=3)) == ranked[:3]
    assert ids(model.recommend(None, k=1, history=[ranked[0]])) == [ranked[1]]


def test_content_model_needs_content_and_reaches_cold_products(worlds: Interactions) -> None:
    with pytest.raises(ValueError, match="set_content"):
        create_model("content").fit(worlds)
    model = create_model("content")
    model.set_content({**TEXTS, "new-item": "red floral summer dress, new season"})  # type: ignore[attr-defined]
    model.fit(worlds)
    assert "new-item" in ids(model.similar("a0", k=6))


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown parameter"):
        create_model("itemknn", neighbors=5)
    with pytest.raises(ValueError, match="unknown model"):
        create_model("word2vec")
