"""ALS and BPR matrix factorisation (the ``implicit`` library), with fold-in of new histories.

Both learn item vectors; a history (a known shopper's or a new one) gets its shopper
vector by the ALS least-squares fold-in against those item vectors (confidence
``alpha`` on its items, as ``implicit`` fits them), so recent events count without refitting.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from fitroom.recsys.base import Progress, Recommender, ValidFn
from fitroom.recsys.data import History, popularity_prior
from fitroom.recsys.itemknn import user_item_matrix


class _Factorisation(Recommender):
    item_factors: NDArray[np.float32]
    counts: NDArray[np.float32]

    def _fold_in(self, histories: Sequence[History]) -> NDArray[Any]:
        """Least-squares shopper vectors for a batch, solved together (one LAPACK call:
        a Python loop of small solves crawls when BLAS threads compete)."""
        y = self.item_factors.astype(np.float64)
        f = y.shape[1]
        alpha = float(self.params["alpha"])
        reg = float(self.params["regularization"])
        items = [np.unique(h) for h in histories]
        width = max((len(i) for i in items), default=0)
        users = np.zeros((len(histories), f))
        if width == 0:
            return users
        padded = np.zeros((len(items), width), np.int64)
        mask = np.zeros((len(items), width))
        for r, row in enumerate(items):
            padded[r, : len(row)] = row
            mask[r, : len(row)] = 1.0
        yh = y[padded] * mask[..., None]
        a = y.T @ y + reg * np.eye(f) + (alpha - 1.0) * (yh.transpose(0, 2, 1) @ yh)
        b = alpha * yh.sum(axis=1)
        # Many 64x64 solves: BLAS threads only get in each other's way (70x slower
        # measured with another process busy on the cores).
        with threadpool_limits(1, "blas"):
            users = np.linalg.solve(a, b[..., None])[..., 0]
        users[mask.sum(axis=1) == 0] = 0.0
        return users

    def score(self, histories: Sequence[History]) -> NDArray[Any]:
        users = self._fold_in(histories)
        scores: NDArray[np.float32] = (users @ self.item_factors.T).astype(np.float32)
        empty = np.array([len(h) == 0 for h in histories])
        if empty.any():
            scores[empty] = popularity_prior(self.counts)
        return scores

    def similarity(self, items: NDArray[Any]) -> NDArray[Any]:
        y = self.item_factors
        norms = np.linalg.norm(y, axis=1) + 1e-9
        sims: NDArray[np.float32] = (
            (y[items] / norms[items, None]) @ (y / norms[:, None]).T
        ).astype(np.float32)
        return sims

    def _fit(
        self,
        histories: Sequence[History],
        n_items: int,
        valid: ValidFn | None,
        progress: Progress | None,
    ) -> None:
        x = user_item_matrix(histories, n_items)
        self.counts = np.asarray(x.sum(axis=0)).ravel().astype(np.float32)
        model = self._model()
        # implicit runs its own threads; a multi-threaded BLAS under them only thrashes.
        with threadpool_limits(1, "blas"):
            model.fit(x, show_progress=False)
        factors = model.item_factors
        self.item_factors = np.asarray(
            factors.to_numpy() if hasattr(factors, "to_numpy") else factors, np.float32
        )
        # Items nobody touched keep their random initial vectors: no evidence, no score.
        self._clear(self.counts == 0)

    def _clear(self, unseen: NDArray[np.bool_]) -> None:
        self.item_factors[unseen] = 0.0

    @abstractmethod
    def _model(self) -> Any:
        """The ``implicit`` model to fit."""

    def _state(self) -> dict[str, NDArray[Any]]:
        return {"item_factors": self.item_factors, "counts": self.counts}

    def _set_state(self, arrays: Mapping[str, NDArray[Any]]) -> None:
        self.item_factors = arrays["item_factors"]
        self.counts = arrays["counts"]


class ALS(_Factorisation):
    """Implicit-feedback ALS (Hu, Koren and Volinsky 2008)."""

    name = "als"
    defaults: ClassVar[dict[str, Any]] = {
        "factors": 64,
        "regularization": 1.0,
        "alpha": 20.0,
        "iterations": 15,
        "seed": 0,
        "threads": 0,
    }

    def _model(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(
            factors=int(self.params["factors"]),
            regularization=float(self.params["regularization"]),
            alpha=float(self.params["alpha"]),
            iterations=int(self.params["iterations"]),
            random_state=int(self.params["seed"]),
            num_threads=int(self.params["threads"]),
        )


class BPR(_Factorisation):
    """Bayesian personalised ranking (Rendle et al. 2009).

    ``implicit`` keeps an item bias as the last item-factor column (the shopper's is 1).
    A history's shopper vector is the mean of its items' vectors: a least-squares or
    SGD fold-in against BPR's item vectors measured worse (uniform negatives push a
    short history's own neighbours away).
    """

    name = "bpr"
    defaults: ClassVar[dict[str, Any]] = {
        "factors": 64,
        "learning_rate": 0.05,
        "regularization": 0.01,
        "iterations": 100,
        "seed": 0,
        "threads": 0,
    }

    def _clear(self, unseen: NDArray[np.bool_]) -> None:
        super()._clear(unseen)
        if (~unseen).any():  # and the least item bias
            self.item_factors[unseen, -1] = self.item_factors[~unseen, -1].min()

    def _fold_in(self, histories: Sequence[History]) -> NDArray[Any]:
        f = self.item_factors.shape[1] - 1
        users = np.zeros((len(histories), f + 1))
        users[:, f] = 1.0
        for r, hist in enumerate(histories):
            if len(hist):
                users[r, :f] = self.item_factors[hist, :f].mean(axis=0)
        return users

    def _model(self) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(
            factors=int(self.params["factors"]),
            learning_rate=float(self.params["learning_rate"]),
            regularization=float(self.params["regularization"]),
            iterations=int(self.params["iterations"]),
            random_state=int(self.params["seed"]),
            num_threads=int(self.params["threads"]),
        )
