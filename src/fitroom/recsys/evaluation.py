"""Leave-one-out, full-ranking evaluation of several models in one run.

Protocol: each shopper's last item is the test target and the second last the
validation target. Every item is a candidate except the shopper's own earlier items;
ties count against the model. Each model's settings (``SEARCH_SPACES``), early stopping
(SASRec's epochs) and the hybrid's weights are chosen by fitting on the sequences
without their last two items and scoring the validation targets. Then (``refit``) the
chosen setting is fitted again, with what validation chose fixed, on the sequences
without their last item only, and that model is scored on the test targets: the usual
final fit, which gives every model the same most recent data and never the test item.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    "transitions": [
        {"window": 5, "shrink": 100.0, "decay": 0.8},
        {"window": 5, "shrink": 300.0, "decay": 0.8},
        {"window": 3, "shrink": 20.0, "decay": 0.6},
        {"window": 1, "shrink": 5.0, "decay": 0.5},
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

DEFAULT_MODELS = ("pop", "itemknn", "transitions", "als", "bpr", "sasrec", "hybrid")
#: Event callback: (model name, message).
Log = Callable[[str, str], None]


@dataclass
class ModelResult:
    model: str
    params: dict[str, Any]
    valid: RankingMetrics
    test: RankingMetrics
    #: Fitting the model that was tested (the final fit, or the chosen one).
    train_seconds: float
    #: Every fit on the validation split (all settings tried).
    search_seconds: float
    tried: list[dict[str, Any]] = field(default_factory=list)
    fit_info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        info = {k: v for k, v in self.fit_info.items() if k != "curve"}
        return {
            "params": self.params,
            "test": self.test.to_dict(),
            "valid": self.valid.to_dict(),
            "train_seconds": round(self.train_seconds, 1),
            "search_seconds": round(self.search_seconds, 1),
            "tried": self.tried,
            "fit_info": info,
        }


def evaluate_models(
    data: Interactions,
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    tune: bool = True,
    refit: bool = True,
    log: Log | None = None,
    progress: Callable[[str], Progress] | None = None,
) -> dict[str, ModelResult]:
    """Choose, fit and test each model; results keyed by model name.

    ``overrides`` adds parameters to every setting tried for a model (e.g. SASRec's
    ``max_minutes``). The hybrid reuses the components fitted earlier in the same run
    (list them before it).
    """
    split = leave_one_out(data)
    valid_h = split.valid_histories()
    test_h = split.test_histories()
    train_valid = list(split.train)
    for u, target in zip(split.eval_users, split.valid_targets, strict=True):
        train_valid[u] = np.append(split.train[u], target)
    n = data.n_items
    results: dict[str, ModelResult] = {}
    chosen: dict[str, Recommender] = {}
    final: dict[str, Recommender] = {}

    def valid_ndcg(model: Recommender) -> float:
        return evaluate_ranking(model.score, valid_h, split.valid_targets, n).ndcg_at_10

    for name in models:
        extra = dict((overrides or {}).get(name, {}))
        space = SEARCH_SPACES.get(name, [{}]) if tune else [{}]
        best: tuple[float, Recommender, dict[str, Any], float] | None = None
        tried: list[dict[str, Any]] = []
        search_started = time.perf_counter()
        for setting in space:
            params = {**setting, **extra}
            model = create_model(name, **params)
            if isinstance(model, Hybrid):
                model.prefitted = dict(chosen)
            started = time.perf_counter()
            model.fit(
                data,
                train=split.train,
                valid=valid_ndcg,
                progress=progress(name) if progress else None,
            )
            seconds = time.perf_counter() - started
            score = float(model.fit_info["valid_ndcg_at_10"])
            tried.append({"params": params, "valid_ndcg_at_10": round(float(score), 5)})
            if log:
                log(name, f"{params} valid NDCG@10 {score:.4f} ({seconds:.0f} s)")
            if best is None or score > best[0]:
                best = (float(score), model, params, seconds)
        assert best is not None
        _, model, params, seconds = best
        search_seconds = time.perf_counter() - search_started
        chosen[name] = model
        valid_metrics = evaluate_ranking(model.score, valid_h, split.valid_targets, n)
        tested = model
        if refit:
            params = {**params, **model.refit_params()}
            tested = create_model(name, **params)
            if isinstance(tested, Hybrid):
                tested.prefitted = dict(final)
            started = time.perf_counter()
            tested.fit(data, train=train_valid, progress=progress(name) if progress else None)
            seconds = time.perf_counter() - started
            if log:
                log(name, f"refitted with the validation items ({seconds:.0f} s)")
        final[name] = tested
        results[name] = ModelResult(
            model=name,
            params=params,
            valid=valid_metrics,
            test=evaluate_ranking(tested.score, test_h, split.test_targets, n),
            train_seconds=seconds,
            search_seconds=search_seconds,
            tried=tried,
            fit_info=dict(model.fit_info),
        )
        if log:
            log(name, f"test NDCG@10 {results[name].test.ndcg_at_10:.4f}")
    return results
