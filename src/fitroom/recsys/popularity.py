"""Most-bought first: the baseline, and the cold-start answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from fitroom.recsys.base import Progress, Recommender, ValidFn
from fitroom.recsys.data import History, item_counts, popularity_prior


class Popularity(Recommender):
    """Scores every item by how many training interactions it has (same for everyone)."""

    name = "pop"
    evidence = None
    defaults: ClassVar[dict[str, Any]] = {}

    def _fit(
        self,
        histories: Sequence[History],
        n_items: int,
        valid: ValidFn | None,
        progress: Progress | None,
    ) -> None:
        self.counts = item_counts(histories, n_items)

    def score(self, histories: Sequence[History]) -> NDArray[Any]:
        return np.tile(self.counts, (len(histories), 1))

    def similarity(self, items: NDArray[Any]) -> NDArray[Any]:
        # No notion of likeness: "similar" falls back to the best sellers.
        return np.tile(popularity_prior(self.counts), (len(items), 1))

    def because_of(self, history: History, items: Sequence[str]) -> list[int | None]:
        return [None] * len(items)

    def _state(self) -> dict[str, NDArray[Any]]:
        return {"counts": self.counts}

    def _set_state(self, arrays: Mapping[str, NDArray[Any]]) -> None:
        self.counts = arrays["counts"].astype(np.float32)
