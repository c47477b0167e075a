"""Leave-one-out, full-ranking evaluation of several models in one run.

Protocol: each shopper's last item is the test target and the second last the
validation target; models are fitted on the rest. Every item is a candidate except the
shopper's own earlier items; ties count against the model. Hyper-parameters (each
model's ``search_space``) and early stopping use the validation targets only; the
figures reported are the test figures of the setting chosen on validation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fitroom.recsys.base import Progress, Recommender
from fitroom.recsys.data import Interactions, leave_one_out
from fitroom.recsys.hybrid import Hybrid
from fitroom.recsys.metrics import RankingMetrics, evaluate_ranking
from fitroom.recsys.registry import create_model

#: Settings tried per model on the validation split (the first is the default).
SEARCH_SPACES: dict[str, list[dict[str, Any]]] = {
    "pop": [{}],
    "itemknn": [
        {"decay": d, "neighbours": n, "shrink": s}
        for d in (0.5, 0.8)
        for n in (50, 200)
        for s in (0.0, 20.0)
    ],
    "als": [
        {"regularization": 1.0, "alpha": 20.0},
        {"regularization": 1.0, "alpha": 5.0},
        {"regularization": 10.0, "alpha": 20.0},
        {"regularization": 0.1, "alpha": 40.0},
    ],
    "bpr": [{"learning_rate": 0.05}, {"learning_rate": 0.01, "iterations": 200}],
    "sasrec": [{}],
    "hybrid": [{}],
}

DEFAULT_MODELS = ("pop", "itemknn", "als", "bpr", "sasrec", "hybrid")
#: Event callback: (model name, message).
Log = Callable[[str, str], None]


@dataclass
class ModelResult:
    model: str
    params: dict[str, Any]
    valid: RankingMetrics
    test: RankingMetrics
    train_seconds: float
    tried: list[dict[str, Any]] = field(default_factory=list)
    fit_info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        info = {k: v for k, v in self.fit_info.items() if k != "curve"}
        return {
            "params": self.params,
            "test": self.test.to_dict(),
            "valid": self.valid.to_dict(),
            "train_seconds": round(self.train_seconds, 1),
            "tried": self.tried,
            "fit_info": info,
        }


def evaluate_models(
    data: Interactions,
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    tune: bool = True,
    log: Log | None = None,
    progress: Callable[[str], Progress] | None = None,
) -> dict[str, ModelResult]:
    """Fit, tune on validation and test each model; results keyed by model name.

    ``overrides`` adds parameters to every setting tried for a model (e.g. SASRec's
    ``max_minutes``). The hybrid reuses components fitted earlier in the same run.
    """
    split = leave_one_out(data)
    valid_h = split.valid_histories()
    test_h = split.test_histories()
    n = data.n_items
    results: dict[str, ModelResult] = {}
    fitted: dict[str, Recommender] = {}

    def valid_ndcg(model: Recommender) -> float:
        return evaluate_ranking(model.score, valid_h, split.valid_targets, n).ndcg_at_10

    for name in models:
        extra = dict((overrides or {}).get(name, {}))
        space = SEARCH_SPACES.get(name, [{}]) if tune else [{}]
        best: tuple[float, Recommender, dict[str, Any], float] | None = None
        tried: list[dict[str, Any]] = []
        for setting in space:
            params = {**setting, **extra}
            model = create_model(name, **params)
            if isinstance(model, Hybrid):
                model.prefitted = dict(fitted)
            started = time.perf_counter()
            model.fit(
                data,
                train=split.train,
                valid=valid_ndcg,
                progress=progress(name) if progress else None,
            )
            seconds = time.perf_counter() - started
            score = model.fit_info.get("valid_ndcg_at_10")
            if score is None:
                score = valid_ndcg(model)
            tried.append({"params": params, "valid_ndcg_at_10": round(float(score), 5)})
            if log:
                log(name, f"{params} valid NDCG@10 {score:.4f} ({seconds:.0f} s)")
            if best is None or score > best[0]:
                best = (float(score), model, params, seconds)
        assert best is not None
        _, model, params, seconds = best
        fitted[name] = model
        results[name] = ModelResult(
            model=name,
            params=params,
            valid=evaluate_ranking(model.score, valid_h, split.valid_targets, n),
            test=evaluate_ranking(model.score, test_h, split.test_targets, n),
            train_seconds=seconds,
            tried=tried,
            fit_info=dict(model.fit_info),
        )
        if log:
            log(name, f"test NDCG@10 {results[name].test.ndcg_at_10:.4f}")
    return results
