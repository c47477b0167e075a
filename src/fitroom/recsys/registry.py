"""The factory: model names to classes, and loading a saved model of any kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fitroom.recsys.base import Recommender, read_saved
from fitroom.recsys.content import ContentSimilarity
from fitroom.recsys.hybrid import Hybrid
from fitroom.recsys.itemknn import ItemKNN
from fitroom.recsys.matrix_factorization import ALS, BPR
from fitroom.recsys.popularity import Popularity
from fitroom.recsys.sasrec import SASRec
from fitroom.recsys.transitions import Transitions

MODELS: dict[str, type[Recommender]] = {
    cls.name: cls
    for cls in (Popularity, ItemKNN, Transitions, ALS, BPR, SASRec, ContentSimilarity, Hybrid)
}


def create_model(name: str, **params: Any) -> Recommender:
    try:
        cls = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None
    return cls(**params)


def load_model(directory: Path) -> Recommender:
    """Load any saved recommender; its config says which kind it is."""
    config, arrays = read_saved(directory)
    model = create_model(config["model"], **config["params"])
    model._restore(config, arrays)
    return model
