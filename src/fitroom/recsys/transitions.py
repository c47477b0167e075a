"""Sequential transitions: "after X, shoppers went on to Y" (a first-order Markov chain).

Each training sequence gives its consecutive pairs (X, Y): Y came right after X, or up
to ``window`` steps after it with weight ``1 / gap``. The table keeps, per item, the
share of what followed it, shrunk towards nothing for items seldom followed by anything:
``P(Y | X) = count(X, Y) / (count(X, .) + shrink)`` (Rendle et al. 2010 factorise this
chain in FPMC; here it is counted). A history scores items by its items' rows, the
newest weighted 1, the one before ``decay``, ... (``itemknn.NeighbourTable``). It knows
direction, which item-kNN's co-occurrence does not: what comes after a tent is not what
comes before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from fitroom.recsys.base import Progress, ValidFn
from fitroom.recsys.data import History, item_counts
from fitroom.recsys.itemknn import CountedNeighbourTable, top_k_rows


def transition_counts(histories: Sequence[History], n_items: int, window: int) -> sp.csr_matrix:
    """(items, items) counts of "Y came ``gap`` <= ``window`` steps after X", each pair
    weighted ``1 / gap``; an item following itself is not counted."""
    if window < 1:
        raise ValueError("window must be at least 1")
    rows: list[NDArray[Any]] = []
    cols: list[NDArray[Any]] = []
    vals: list[NDArray[Any]] = []
    for hist in histories:
        for gap in range(1, min(window, len(hist) - 1) + 1):
            rows.append(hist[:-gap])
            cols.append(hist[gap:])
            vals.append(np.full(len(hist) - gap, 1.0 / gap))
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float64)
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    keep = r != c
    counts = sp.csr_matrix((v[keep], (r[keep], c[keep])), shape=(n_items, n_items))
    counts.sum_duplicates()
    return counts


class Transitions(CountedNeighbourTable):
    """What followed each item, as shares (see the module docstring); ``neighbours``
    followers kept per item."""

    name = "transitions"
    evidence = "sequence"
    defaults: ClassVar[dict[str, Any]] = {
        # Chosen on Amazon Sports' validation split (evaluation.SEARCH_SPACES).
        "window": 5,
        "shrink": 100.0,
        "decay": 0.8,
        "neighbours": 200,
    }

    def _fit(
        self,
        histories: Sequence[History],
        n_items: int,
        valid: ValidFn | None,
        progress: Progress | None,
    ) -> None:
        counts = transition_counts(histories, n_items, int(self.params["window"]))
        followed = np.asarray(counts.sum(axis=1)).ravel()
        total = followed + float(self.params["shrink"])
        scale = np.divide(1.0, total, out=np.zeros_like(total), where=followed > 0)
        shares = sp.csr_matrix(sp.diags(scale) @ counts)
        self.sim = top_k_rows(shares.astype(np.float32), int(self.params["neighbours"]))
        self.counts = item_counts(histories, n_items)
