"""The transition model on hand-made sequences whose next items are known."""

from __future__ import annotations

import numpy as np
import pytest

from fitroom.recsys.base import Recommender
from fitroom.recsys.data import Interactions, leave_one_out
from fitroom.recsys.hybrid import Hybrid
from fitroom.recsys.metrics import evaluate_ranking
from fitroom.recsys.registry import create_model
from fitroom.recsys.transitions import transition_counts


def seqs(*rows: list[int]) -> list[np.ndarray]:
    return [np.array(r, np.int64) for r in rows]


def test_counts_are_consecutive_pairs_in_order() -> None:
    counts = transition_counts(seqs([0, 1, 2], [0, 1, 3], [3]), 4, window=1).toarray()
    expected = np.zeros((4, 4))
    expected[0, 1] = 2.0
    expected[1, 2] = 1.0
    expected[1, 3] = 1.0
    np.testing.assert_array_equal(counts, expected)


def test_wider_window_counts_later_items_by_one_over_the_gap() -> None:
    counts = transition_counts(seqs([0, 1, 2, 3]), 4, window=3).toarray()
    assert counts[0, 1] == 1.0 and counts[0, 2] == 0.5 and counts[0, 3] == pytest.approx(1 / 3)
    assert counts[1, 0] == 0.0 and counts[3].sum() == 0.0


def test_an_item_following_itself_is_not_a_transition() -> None:
    counts = transition_counts(seqs([2, 2, 1]), 3, window=1).toarray()
    assert counts[2, 2] == 0.0 and counts[2, 1] == 1.0
    with pytest.raises(ValueError, match="window"):
        transition_counts(seqs([0, 1]), 2, window=0)


def _data(rows: list[list[str]]) -> Interactions:
    return Interactions.from_sequences([f"u{i}" for i in range(len(rows))], rows)


def test_table_holds_shares_of_what_followed_shrunk() -> None:
    data = _data([["a", "b"]] * 3 + [["a", "c"]])
    plain = create_model("transitions", shrink=0.0).fit(data)
    row = plain.similarity(plain.encode(["a"]))[0]
    assert row[plain.item_index("b")] == pytest.approx(0.75)
    assert row[plain.item_index("c")] == pytest.approx(0.25)
    shrunk = create_model("transitions", shrink=4.0).fit(data)
    row = shrunk.similarity(shrunk.encode(["a"]))[0]
    assert row[shrunk.item_index("b")] == pytest.approx(3 / 8)


def test_the_newest_item_decides_and_direction_counts() -> None:
    # p -> q and r -> s, ten shoppers each; nobody goes back.
    data = _data([["p", "q"]] * 10 + [["r", "s"]] * 10)
    model = create_model("transitions", decay=0.5).fit(data)
    assert model.recommend(None, k=1, history=["p", "r"])[0].item_id == "s"
    assert model.recommend(None, k=1, history=["r", "p"])[0].item_id == "q"
    # What follows q is unknown: q's own predecessor p is not scored above r or s.
    scores = model.score([model.encode(["q"])])[0]
    assert scores[model.item_index("p")] < 1e-5


def test_empty_history_gets_the_best_sellers() -> None:
    data = _data([["p", "q"], ["r", "q"], ["s", "q"]])
    model = create_model("transitions").fit(data)
    assert model.recommend(None, k=1, history=[])[0].item_id == "q"


def test_hybrid_weight_search_takes_up_the_transitions(worlds: Interactions) -> None:
    # Validation: each shopper's second-last step (MRR: with 13 items HR@10 is ~1).
    split = leave_one_out(worlds)
    histories = split.valid_histories()

    def valid(model: Recommender) -> float:
        return evaluate_ranking(model.score, histories, split.valid_targets, worlds.n_items).mrr

    hybrid = Hybrid(components={"pop": {}, "transitions": {"window": 1}})
    hybrid.fit(worlds, train=split.train, valid=valid)
    assert hybrid.weights["pop"] == 1.0 and hybrid.weights["transitions"] > 0.0
    assert hybrid.fit_info["valid_ndcg_at_10"] > valid(hybrid.parts["pop"])
