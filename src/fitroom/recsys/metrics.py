"""Full-ranking evaluation: every item is a candidate, the shopper's earlier items excepted.

A target that is also one of the shopper's earlier items is masked with them and counts
as a miss (nothing is unmasked because it is the answer), and ties count against the
model: the rank is the number of candidates scoring higher or equal, other than the
target itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fitroom.recsys.data import History

ScoreFn = Callable[[Sequence[History]], NDArray[Any]]


@dataclass(frozen=True)
class RankingMetrics:
    users: int
    hr_at_10: float
    ndcg_at_10: float
    recall_at_20: float
    mrr: float
    coverage_at_10: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def target_ranks(
    scores: NDArray[Any], histories: Sequence[History], targets: NDArray[Any]
) -> tuple[NDArray[Any], NDArray[Any]]:
    """0-based rank of each target among unmasked items, and each row's top 10.

    ``scores`` is (users, items); it is modified in place (history items set to -inf).
    A masked target gets rank ``n_items`` (a miss).
    """
    n_users, n_items = scores.shape
    rows = np.arange(n_users)
    target_scores = scores[rows, targets].copy()
    for r, hist in enumerate(histories):
        if len(hist):
            scores[r, hist] = -np.inf
    masked = np.isneginf(scores[rows, targets])
    ranks = (scores >= target_scores[:, None]).sum(axis=1) - 1
    ranks[masked] = n_items
    top = (
        np.argpartition(-scores, 10, axis=1)[:, :10]
        if n_items > 10
        else np.tile(np.arange(n_items), (n_users, 1))
    )
    return ranks, top


def evaluate_ranking(
    score: ScoreFn,
    histories: Sequence[History],
    targets: NDArray[Any],
    n_items: int,
    *,
    batch_size: int = 1024,
) -> RankingMetrics:
    """HR@10, NDCG@10, Recall@20 (one target: HR@20), MRR and catalogue coverage@10."""
    all_ranks: list[NDArray[Any]] = []
    recommended = np.zeros(n_items, bool)
    for start in range(0, len(histories), batch_size):
        batch = list(histories[start : start + batch_size])
        scores = np.asarray(score(batch), np.float64)
        if scores.shape != (len(batch), n_items):
            raise ValueError(f"scores shape {scores.shape}, expected {(len(batch), n_items)}")
        ranks, top = target_ranks(scores, batch, targets[start : start + batch_size])
        recommended[top.ravel()] = True
        all_ranks.append(ranks)
    ranks = np.concatenate(all_ranks) if all_ranks else np.zeros(0, np.int64)
    hit10 = ranks < 10
    return RankingMetrics(
        users=len(ranks),
        hr_at_10=float(hit10.mean()) if len(ranks) else 0.0,
        ndcg_at_10=float(np.where(hit10, 1.0 / np.log2(ranks + 2.0), 0.0).mean())
        if len(ranks)
        else 0.0,
        recall_at_20=float((ranks < 20).mean()) if len(ranks) else 0.0,
        mrr=float(np.where(ranks < n_items, 1.0 / (ranks + 1.0), 0.0).mean())
        if len(ranks)
        else 0.0,
        coverage_at_10=float(recommended.mean()),
    )
