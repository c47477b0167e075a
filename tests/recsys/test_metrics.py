"""Full-ranking metrics with hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fitroom.recsys.data import History
from fitroom.recsys.metrics import evaluate_ranking, target_ranks


def test_rank_counts_ties_against_the_model_and_masks_history() -> None:
    scores = np.array(
        [
            [0.9, 0.5, 0.5, 0.1, 0.0],  # target 2 ties with item 1: rank 2 (0-based)
            [0.9, 0.8, 0.7, 0.6, 0.5],  # target 3; items 0 and 1 are history: rank 1
            [0.1, 0.9, 0.2, 0.3, 0.4],  # target 1 is also history: masked, a miss
        ]
    )
    hist = [np.array([], np.int64), np.array([0, 1]), np.array([1])]
    ranks, top = target_ranks(scores.copy(), hist, np.array([2, 3, 1]))
    assert ranks.tolist() == [2, 1, 5]
    assert top.shape == (3, 5)


def test_metrics_match_hand_computation() -> None:
    n_items = 30
    # Item i scores -i for everyone: item 0 is first, item 1 second, ...
    table = -np.arange(n_items, dtype=np.float64)

    def score(histories: list[History]) -> np.ndarray:
        return np.tile(table, (len(histories), 1))

    histories = [np.array([], np.int64)] * 3 + [np.array([0, 1], np.int64)]
    targets = np.array([0, 9, 25, 4])  # ranks 0, 9, 25, and 2 (items 0 and 1 masked)
    m = evaluate_ranking(score, histories, targets, n_items, batch_size=3)
    assert m.users == 4
    assert m.hr_at_10 == pytest.approx(3 / 4)
    assert m.ndcg_at_10 == pytest.approx((1 + 1 / math.log2(11) + 1 / math.log2(4)) / 4)
    assert m.recall_at_20 == pytest.approx(3 / 4)
    assert m.mrr == pytest.approx((1 + 1 / 10 + 1 / 26 + 1 / 3) / 4)
    # Top 10 of the first three rows are items 0-9, of the last 2-11: 12 of 30 items.
    assert m.coverage_at_10 == pytest.approx(12 / 30)


def test_wrong_score_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="scores shape"):
        evaluate_ranking(lambda h: np.zeros((len(h), 3)), [np.zeros(0, np.int64)], np.array([0]), 4)
