"""Item-item co-occurrence: "shoppers who had X also had Y", weighted towards recent items."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from fitroom.recsys.base import Progress, Recommender, ValidFn
from fitroom.recsys.data import History, popularity_prior

#: Up to this many histories are scored row by row from the table's arrays; more go
#: through one sparse product.
FEW_HISTORIES = 8


def user_item_matrix(histories: Sequence[History], n_items: int) -> sp.csr_matrix:
    """Binary (users, items) matrix of who touched what."""
    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    cols = np.concatenate(list(histories)) if histories else np.zeros(0, np.int64)
    m = sp.csr_matrix(
        (np.ones(len(cols), np.float32), (rows, cols)), shape=(len(histories), n_items)
    )
    m.data[:] = 1.0  # duplicates summed by the constructor count once
    return m


def history_weights(histories: Sequence[History], n_items: int, decay: float) -> sp.csr_matrix:
    """(len(histories), items) weights: the latest item 1, the one before ``decay``, ..."""
    rows, cols, vals = [], [], []
    for r, hist in enumerate(histories):
        if not len(hist):
            continue
        age = np.arange(len(hist) - 1, -1, -1)
        rows.append(np.full(len(hist), r))
        cols.append(hist)
        vals.append(decay**age)
    if not rows:
        return sp.csr_matrix((len(histories), n_items), dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(histories), n_items),
    )


def top_k_rows(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep each row's ``k`` largest entries."""
    matrix = matrix.tocsr()
    indptr = [0]
    indices: list[NDArray[Any]] = []
    data: list[NDArray[Any]] = []
    for r in range(matrix.shape[0]):
        lo, hi = matrix.indptr[r], matrix.indptr[r + 1]
        vals = matrix.data[lo:hi]
        cols = matrix.indices[lo:hi]
        if len(vals) > k:
            keep = np.argpartition(-vals, k - 1)[:k]
            vals, cols = vals[keep], cols[keep]
        indices.append(cols)
        data.append(vals)
        indptr.append(indptr[-1] + len(vals))
    return sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.array(indptr)), shape=matrix.shape
    )


class NeighbourTable(Recommender):
    """A model whose knowledge is a sparse item-to-item table ``sim`` (each row keeps an
    item's nearest neighbours): a history scores items by its items' rows, each weighted
    by ``decay`` to the power of its age (0 = newest); similarity is the row itself."""

    sim: sp.csr_matrix

    def score(self, histories: Sequence[History]) -> NDArray[Any]:
        decay = float(self.params["decay"])
        if len(histories) > FEW_HISTORIES:
            w = history_weights(histories, self.n_items, decay)
            return np.asarray((w @ self.sim).todense(), np.float32)
        # A few histories (a request): add up their items' rows straight from the
        # table's arrays; scipy's sparse product costs more to set up than to run.
        out = np.zeros((len(histories), self.n_items), np.float32)
        indptr, indices, data = self.sim.indptr, self.sim.indices, self.sim.data
        for r, hist in enumerate(histories):
            if not len(hist):
                continue
            starts, ends = indptr[hist], indptr[np.asarray(hist) + 1]
            lengths = ends - starts
            total = int(lengths.sum())
            if not total:
                continue
            # Positions of every entry of the history's rows, row after row.
            first = np.cumsum(lengths) - lengths
            at = np.repeat(starts - first, lengths) + np.arange(total)
            weight = np.repeat(decay ** np.arange(len(hist) - 1, -1, -1, dtype=np.float64), lengths)
            out[r] = np.bincount(indices[at], weights=data[at] * weight, minlength=self.n_items)
        return out

    def similarity(self, items: NDArray[Any]) -> NDArray[Any]:
        return np.asarray(self.sim[items].todense(), np.float32)

    def _table_state(self) -> dict[str, NDArray[Any]]:
        return {
            "sim_data": self.sim.data,
            "sim_indices": self.sim.indices,
            "sim_indptr": self.sim.indptr,
        }

    def _set_table(self, arrays: Mapping[str, NDArray[Any]], n_items: int) -> None:
        self.sim = sp.csr_matrix(
            (arrays["sim_data"], arrays["sim_indices"], arrays["sim_indptr"]),
            shape=(n_items, n_items),
        )


class CountedNeighbourTable(NeighbourTable):
    """A neighbour table learnt from shoppers' histories, which also keeps each item's
    interaction ``counts``: popularity breaks ties and answers empty histories."""

    counts: NDArray[Any]

    def score(self, histories: Sequence[History]) -> NDArray[Any]:
        # Break ties (and answer empty histories) by popularity, far below any real score.
        scores: NDArray[Any] = super().score(histories) + 1e-6 * popularity_prior(self.counts)
        return scores

    def _state(self) -> dict[str, NDArray[Any]]:
        return {**self._table_state(), "counts": self.counts}

    def _set_state(self, arrays: Mapping[str, NDArray[Any]]) -> None:
        self.counts = arrays["counts"]
        self._set_table(arrays, len(self.counts))


class ItemKNN(CountedNeighbourTable):
    """Cosine similarity of items' shopper sets, shrunk for rare pairs, ``neighbours``
    kept per item (see :class:`NeighbourTable` for scoring)."""

    name = "itemknn"
    defaults: ClassVar[dict[str, Any]] = {
        "neighbours": 100,
        "shrink": 10.0,
        "decay": 0.7,
        "alpha": 0.5,
    }

    def _fit(
        self,
        histories: Sequence[History],
        n_items: int,
        valid: ValidFn | None,
        progress: Progress | None,
    ) -> None:
        x = user_item_matrix(histories, n_items)
        counts = np.asarray(x.sum(axis=0)).ravel().astype(np.float64)
        co = (x.T @ x).tocsr().astype(np.float64)
        co.setdiag(0.0)
        co.eliminate_zeros()
        # Asymmetric cosine: alpha=0.5 is plain cosine.
        a = float(self.params["alpha"])
        left = np.power(np.maximum(counts, 1.0), a)
        right = np.power(np.maximum(counts, 1.0), 1.0 - a)
        coo = co.tocoo()
        vals = coo.data / (left[coo.row] * right[coo.col] + float(self.params["shrink"]))
        sim = sp.csr_matrix((vals.astype(np.float32), (coo.row, coo.col)), shape=co.shape)
        self.sim = top_k_rows(sim, int(self.params["neighbours"]))
        self.counts = counts.astype(np.float32)
