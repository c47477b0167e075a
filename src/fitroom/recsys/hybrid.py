"""The hybrid: a weighted blend of the other models' standardised scores.

Each component's scores for a history are standardised per row (zero mean, unit
spread), then summed with the component's weight. Weights left out of the parameters
are tuned on the validation split by coordinate search over ``WEIGHT_GRID``, one
component at a time. Cold start follows from the parts: a shopper with no history gets
the popularity component's answer (the others return popularity for an empty
history), and a product with no interactions can still rank through the content part.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from fitroom.recsys.base import Progress, Recommender, ValidFn
from fitroom.recsys.data import History, Interactions

#: Weights when nothing can be tuned (a store's own training has no validation split):
#: the behavioural ones as tuned on Amazon Beauty; content small, so it decides mostly
#: where behaviour says little (new products, new shoppers).
DEFAULT_WEIGHTS = {
    "sasrec": 1.0,
    "itemknn": 0.1,
    "pop": 0.05,
    "transitions": 0.1,
    "content": 0.05,
}
WEIGHT_GRID = (0.0, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0)


def standardise(scores: NDArray[Any]) -> NDArray[Any]:
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    out: NDArray[Any] = (scores - mean) / np.where(std > 0, std, 1.0)
    return out


class Hybrid(Recommender):
    name = "hybrid"
    reports_progress = True  # its parts do
    defaults: ClassVar[dict[str, Any]] = {
        # Component name -> its parameters. "content" is used only with set_content.
        # SASRec's epochs and item-kNN's settings are those validation chose on Amazon
        # Beauty (bench/results/recsys_quality_beauty.md); the transitions' those it
        # chose on Amazon Sports. Weights are tuned in this order.
        "components": {
            "sasrec": {"epochs": 30},
            "itemknn": {"decay": 0.5, "neighbours": 200, "shrink": 20.0},
            "pop": {},
            "transitions": {"window": 5, "shrink": 100.0, "decay": 0.8},
            "content": {},
        },
        # Component name -> weight. None: tuned on the validation split when fitting
        # has one, else DEFAULT_WEIGHTS.
        "weights": None,
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.parts: dict[str, Recommender] = {}
        #: Components already fitted on the same training data, by name (evaluation
        #: reuses the validation-tuned models instead of fitting them again).
        self.prefitted: dict[str, Recommender] = {}
        self._content_args: tuple[Any, ...] | None = None

    def set_content(self, *args: Any, **kwargs: Any) -> None:
        self._content_args = (args, kwargs)

    def _make_parts(self) -> dict[str, Recommender]:
        from fitroom.recsys.registry import create_model

        parts: dict[str, Recommender] = {}
        for name, params in dict(self.params["components"]).items():
            if name == "content" and self._content_args is None:
                continue
            model = create_model(name, **dict(params))
            if name == "content":
                args, kwargs = self._content_args  # type: ignore[misc]
                model.set_content(*args, **kwargs)  # type: ignore[attr-defined]
            parts[name] = model
        return parts

    def _fit(
        self,
        histories: Sequence[History],
        n_items: int,
        valid: ValidFn | None,
        progress: Progress | None,
    ) -> None:
        data = Interactions(list(self._histories), self.item_ids, list(histories))
        self.parts = {}
        for name, model in self._make_parts().items():
            ready = self.prefitted.get(name)
            if ready is not None and ready.item_ids == self.item_ids:
                self.parts[name] = ready
                # Saved with the part's own settings, so loading rebuilds it exactly.
                self.params["components"] = {
                    **dict(self.params["components"]),
                    name: dict(ready.params),
                }
            else:
                self.parts[name] = model.fit(data, train=histories, valid=valid, progress=progress)
        given = self.params["weights"]
        names = list(self.parts)
        if given is not None:
            self.weights = {n: float(given.get(n, 0.0)) for n in names}
        elif valid is not None and len(names) > 1:
            self.weights = {n: (1.0 if i == 0 else 0.0) for i, n in enumerate(names)}
            self._tune(names, valid)
        else:
            self.weights = {n: DEFAULT_WEIGHTS.get(n, 0.0) for n in names}
        self.fit_info["weights"] = self.weights
        self.fit_info["components"] = {
            n: {"params": m.params, "valid_ndcg_at_10": m.fit_info.get("valid_ndcg_at_10")}
            for n, m in self.parts.items()
        }

    def _tune(self, names: list[str], valid: ValidFn) -> None:
        """Coordinate search: each later component's weight over the grid, one pass."""
        best = valid(self)
        for name in names[1:]:
            for w in WEIGHT_GRID:
                if w == self.weights[name]:
                    continue
                old = self.weights[name]
                self.weights[name] = w
                score = valid(self)
                if score > best:
                    best = score
                else:
                    self.weights[name] = old
        self.fit_info["valid_ndcg_at_10"] = best

    def refit_params(self) -> dict[str, Any]:
        return {"weights": dict(self.weights)}

    def score(self, histories: Sequence[History]) -> NDArray[Any]:
        total = np.zeros((len(histories), self.n_items), np.float32)
        for name, model in self.parts.items():
            w = self.weights.get(name, 0.0)
            if w:
                total += w * standardise(model.score(histories)).astype(np.float32)
        return total

    def similarity(self, items: NDArray[Any]) -> NDArray[Any]:
        total = np.zeros((len(items), self.n_items), np.float32)
        for name, model in self.parts.items():
            if name == "pop":
                continue
            total += standardise(model.similarity(items)).astype(np.float32)
        return total

    def similarity_sources(
        self, items: NDArray[Any], kinds: Collection[str] | None = None
    ) -> dict[str, NDArray[Any]]:
        sources: dict[str, NDArray[Any]] = {}
        for name in ("itemknn", "als", "bpr", "content", "sasrec"):
            part = self.parts.get(name)
            if part is None or part.evidence in sources:
                continue
            sources.update(part.similarity_sources(items, kinds))
        return sources

    def because_of(self, history: History, items: Sequence[str]) -> list[int | None]:
        # Reasons from the part that is easiest to explain and weighs in.
        for name in ("itemknn", "content", "sasrec", "als", "bpr"):
            if name in self.parts:
                return self.parts[name].because_of(history, items)
        return [None] * len(items)

    def _state(self) -> dict[str, NDArray[Any]]:
        state: dict[str, NDArray[Any]] = {
            "weights": np.array([self.weights[n] for n in self.parts])
        }
        for name, model in self.parts.items():
            state.update({f"{name}.{k}": v for k, v in model._state().items()})
        return state

    def _set_state(self, arrays: Mapping[str, NDArray[Any]]) -> None:
        from fitroom.recsys.registry import create_model

        self.parts = {}
        names = [
            n for n in dict(self.params["components"]) if any(k.startswith(f"{n}.") for k in arrays)
        ]
        for name in names:
            model = create_model(name, **dict(self.params["components"][name]))
            model.item_ids = self.item_ids
            model._item_index = self._item_index
            model._set_state(
                {k[len(name) + 1 :]: v for k, v in arrays.items() if k.startswith(f"{name}.")}
            )
            self.parts[name] = model
        self.weights = dict(zip(names, (float(w) for w in arrays["weights"]), strict=True))
