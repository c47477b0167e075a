"""The one interface every recommender implements, with saving and loading.

A model is fitted on :class:`~fitroom.recsys.data.Interactions` (or on explicit training
histories for evaluation), scores any history against every item, and answers
``recommend`` (for a shopper it knows, or for a history it is given: events since the
last retrain count at once) and ``similar``. ``save`` writes ``config.json`` (model name,
parameters, ids) beside ``arrays.npz`` (numbers only, loaded with ``allow_pickle=False``).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from fitroom.recsys.data import History, Interactions

#: ``progress(step, total, info)``: called during fitting (epochs or iterations).
Progress = Callable[[int, int, Mapping[str, float]], None]
#: Scores validation histories against every item (for early stopping and tuning).
ValidFn = Callable[["Recommender"], float]

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Scored:
    item_id: str
    score: float


class UnknownItem(KeyError):
    """The product is not in the model's catalogue."""


class Recommender(ABC):
    """Fit, score, recommend, similar, save/load. Subclasses fill in the ``_`` methods."""

    name: ClassVar[str]
    #: The kind of evidence ``similarity`` is (see ``similarity_sources``).
    evidence: ClassVar[str | None] = "behaviour"
    #: Whether ``_fit`` reports its own progress (epochs); otherwise ``fit`` reports
    #: one step when it is done.
    reports_progress: ClassVar[bool] = False
    #: Parameter names and defaults; ``__init__`` refuses others.
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise ValueError(
                f"{self.name}: unknown parameter(s) {sorted(unknown)}; "
                f"known: {sorted(self.defaults)}"
            )
        self.params: dict[str, Any] = {**self.defaults, **params}
        self.item_ids: list[str] = []
        self._item_index: dict[str, int] = {}
        self._histories: dict[str, History] = {}
        self.fit_info: dict[str, Any] = {}

    # -- what subclasses implement -------------------------------------------------
    @abstractmethod
    def _fit(
        self,
        histories: Sequence[History],
        n_items: int,
        valid: ValidFn | None,
        progress: Progress | None,
    ) -> None: ...

    @abstractmethod
    def score(self, histories: Sequence[History]) -> NDArray[Any]:
        """(len(histories), n_items) float32 scores; higher is better. Histories may be empty."""

    @abstractmethod
    def similarity(self, items: NDArray[Any]) -> NDArray[Any]:
        """(len(items), n_items) item-to-item similarity, used by ``similar`` and reasons."""

    def similarity_sources(
        self, items: NDArray[Any], kinds: Collection[str] | None = None
    ) -> dict[str, NDArray[Any]]:
        """Similarity by kind of evidence, for wording reasons: ``behaviour`` (shoppers
        touched both), ``content`` (text and colour alike), ``sequence`` (one tends to
        follow the other). Each is (len(items), n_items); kinds a model lacks, or not
        in ``kinds`` (default: all), are absent and cost nothing."""
        if self.evidence is None or (kinds is not None and self.evidence not in kinds):
            return {}
        return {self.evidence: self.similarity(items)}

    @abstractmethod
    def _state(self) -> dict[str, NDArray[Any]]: ...

    @abstractmethod
    def _set_state(self, arrays: Mapping[str, NDArray[Any]]) -> None: ...

    # -- shared behaviour -----------------------------------------------------------
    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def fit(
        self,
        data: Interactions,
        *,
        train: Sequence[History] | None = None,
        valid: ValidFn | None = None,
        progress: Progress | None = None,
    ) -> Recommender:
        """Fit on ``train`` histories (default: the full sequences of ``data``).

        ``valid`` returns a validation score for the model as it stands (higher is
        better); iterative models use it for early stopping, and the score of the
        fitted model is kept in ``fit_info["valid_ndcg_at_10"]``.
        """
        histories = list(train) if train is not None else list(data.sequences)
        if len(histories) != data.n_users:
            raise ValueError("one training history per user")
        self.item_ids = list(data.item_ids)
        self._item_index = {item: i for i, item in enumerate(self.item_ids)}
        self._histories = dict(zip(data.user_ids, histories, strict=True))
        self.fit_info = {}
        self._fit(histories, data.n_items, valid, progress)
        if progress is not None and not self.reports_progress:
            progress(1, 1, {})
        if valid is not None and self.fit_info.get("valid_ndcg_at_10") is None:
            self.fit_info["valid_ndcg_at_10"] = valid(self)
        return self

    def refit_params(self) -> dict[str, Any]:
        """Parameters that fix what validation chose (epochs, weights), for refitting
        on more data without a validation split."""
        return {}

    def item_index(self, item_id: str) -> int:
        try:
            return self._item_index[item_id]
        except KeyError:
            raise UnknownItem(item_id) from None

    def fitted_histories(self) -> dict[str, History]:
        """Every shopper's history as fitted (shopper id -> item indexes, oldest first)."""
        return dict(self._histories)

    def history_of(self, shopper_id: str) -> History:
        """The shopper's history as fitted (empty for a shopper the model never saw)."""
        return self._histories.get(shopper_id, np.zeros(0, np.int64))

    def encode(self, item_ids: Sequence[str]) -> History:
        """Item ids to indexes, dropping ids the model does not know."""
        idx = [self._item_index[i] for i in item_ids if i in self._item_index]
        return np.array(idx, np.int64)

    def recommend(
        self,
        shopper_id: str | None,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        history: Sequence[str] | None = None,
        candidates: NDArray[Any] | None = None,
    ) -> list[Scored]:
        """Top ``k`` items for a shopper. ``history`` (item ids, oldest first) replaces
        the fitted history, so events since the last fit count; an unknown shopper with
        no history is a cold start, not an error. ``candidates`` (bool mask over items)
        restricts the answer, e.g. to products in stock in the shopper's size."""
        if k < 1:
            raise ValueError("k must be at least 1")
        hist = self.encode(history) if history is not None else self.history_of(shopper_id or "")
        scores = self.score([hist])[0].astype(np.float64)
        if exclude_seen and len(hist):
            scores[hist] = -np.inf
        if candidates is not None:
            scores[~candidates] = -np.inf
        return self._top(scores, k)

    def similar(self, item_id: str, k: int = 10) -> list[Scored]:
        """The ``k`` items most like ``item_id`` (itself excluded)."""
        if k < 1:
            raise ValueError("k must be at least 1")
        i = self.item_index(item_id)
        scores = self.similarity(np.array([i]))[0].astype(np.float64)
        scores[i] = -np.inf
        return self._top(scores, k)

    def because_of(self, history: History, items: Sequence[str]) -> list[int | None]:
        """For each recommended item, the history item most similar to it (or None)."""
        if not len(history):
            return [None] * len(items)
        hist = np.unique(history)
        sims = self.similarity(hist)
        out: list[int | None] = []
        for item in items:
            column = sims[:, self.item_index(item)]
            best = int(np.argmax(column))
            out.append(int(hist[best]) if column[best] > 0 else None)
        return out

    def _top(self, scores: NDArray[Any], k: int) -> list[Scored]:
        return [Scored(self.item_ids[i], float(scores[i])) for i in top_indices(scores, k)]

    # -- persistence ----------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        users = list(self._histories)
        lengths = np.array([len(self._histories[u]) for u in users], np.int64)
        flat = (
            np.concatenate([self._histories[u] for u in users]) if users else np.zeros(0, np.int64)
        )
        arrays = {f"model.{k}": v for k, v in self._state().items()}
        arrays["histories.lengths"] = lengths
        arrays["histories.items"] = flat.astype(np.int64)
        np.savez(directory / "arrays.npz", **arrays)
        config = {
            "format": FORMAT_VERSION,
            "model": self.name,
            "params": self.params,
            "fit_info": self.fit_info,
            "item_ids": self.item_ids,
            "user_ids": users,
        }
        (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
        return directory

    def _restore(self, config: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]]) -> None:
        self.item_ids = list(config["item_ids"])
        self._item_index = {item: i for i, item in enumerate(self.item_ids)}
        self.fit_info = dict(config.get("fit_info", {}))
        lengths = arrays["histories.lengths"]
        flat = arrays["histories.items"]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        self._histories = {
            u: flat[offsets[i] : offsets[i + 1]] for i, u in enumerate(config["user_ids"])
        }
        prefix = "model."
        self._set_state({k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)})


def top_indices(scores: NDArray[Any], n: int) -> list[int]:
    """Indexes of the ``n`` highest finite scores, best first (ties: lower index first)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if not len(finite) or n < 1:
        return []
    if len(finite) > n:
        finite = finite[np.argpartition(-scores[finite], n - 1)[:n]]
    order = np.lexsort((finite, -scores[finite]))
    return [int(i) for i in finite[order]]


def read_saved(directory: Path) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """A saved model's config and arrays (numbers only: no pickled objects)."""
    directory = Path(directory)
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"no recommender saved in {directory} (config.json missing)")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("format") != FORMAT_VERSION:
        raise ValueError(f"{config_path}: format {config.get('format')!r} is not supported")
    with np.load(directory / "arrays.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return config, arrays
