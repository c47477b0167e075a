"""recsys/sasrec: a tiny SASRec, fitted here and saved as the store saves its model.

Data: the two-worlds shoppers of the recsys tests (each walks a0 -> a1 -> ... or the b
items in order), so the next item is predictable and a fitted SASRec ranks it high.
The known answer for the chain's torch row is the recommender's own scoring path:
``evaluate_ranking(sasrec.score, ...)`` on the same leave-last-out split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from fitroom.compress.cli import ToOpt, _compress
from fitroom.compress.recsys_target import NextItemScores, holds_sasrec, sasrec_target
from fitroom.compress.targets import get_target, known_targets
from fitroom.errors import InputError
from fitroom.recsys.data import Interactions, leave_one_out
from fitroom.recsys.hybrid import Hybrid
from fitroom.recsys.metrics import evaluate_ranking
from fitroom.recsys.registry import create_model, load_model
from fitroom.recsys.sasrec import SASRec, pad_left_to
from tests.compress.tiny import DATA_DIR
from tests.recsys.conftest import two_worlds

TINY_SASREC: dict[str, Any] = {
    "dim": 16,
    "max_len": 8,
    "dropout": 0.0,
    "lr": 5e-3,
    "batch_size": 32,
    "epochs": 25,
    "threads": 1,
    "seed": 0,
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hybrid with a SASRec part, fitted on 80 shoppers and saved like a store version."""
    torch.set_num_threads(1)
    model = Hybrid(components={"sasrec": TINY_SASREC, "pop": {}})
    model.fit(two_worlds(n_users=80, seed=1))
    return model.save(tmp_path_factory.mktemp("recsys") / "v0001")


def load_served(folder: Path) -> tuple[Hybrid, SASRec]:
    loaded = load_model(folder)
    assert isinstance(loaded, Hybrid)
    sasrec = loaded.parts["sasrec"]
    assert isinstance(sasrec, SASRec)
    return loaded, sasrec


def test_wrapper_scores_equal_the_recommenders_own(served: Path) -> None:
    _, sasrec = load_served(served)
    histories = [np.array([0, 1]), np.array([6, 7, 8]), np.array([2, 3, 4, 5, 0, 1, 2, 3, 4])]
    wrapper = sasrec_target(served).load_model()
    assert isinstance(wrapper, NextItemScores)
    with torch.no_grad():
        got = wrapper(torch.from_numpy(pad_left_to(histories, 8))).numpy()
    np.testing.assert_allclose(got, sasrec.score(histories), rtol=0, atol=1e-5)


def test_chain_reports_ndcg_for_each_variant(served: Path, tmp_path: Path) -> None:
    result = _compress(
        "recsys/sasrec",
        ToOpt.onnx_int8,
        None,
        budget=0.05,
        out=tmp_path / "out",
        prune=[],
        fine_tune_steps=0,
        threads=1,
        runs=2,
        data_dir=DATA_DIR,
        quiet=True,
        recsys_model_dir=served,
    )
    rows = {row["name"]: row for row in result["rows"]}
    assert list(rows) == ["torch fp32", "onnx fp32", "onnx int8 (dynamic)"]
    # Known answer: the recommender's own scoring on the same split.
    loaded, sasrec = load_served(served)
    data = Interactions(
        list(loaded.fitted_histories()),
        loaded.item_ids,
        list(loaded.fitted_histories().values()),
    )
    split = leave_one_out(data)
    expected = evaluate_ranking(
        sasrec.score, split.test_histories(), split.test_targets, loaded.n_items
    ).ndcg_at_10
    assert rows["torch fp32"]["quality"] == pytest.approx(expected, abs=1e-6)
    assert expected > 0.8  # the walk is learnt: the next item ranks at the top
    assert rows["onnx fp32"]["quality_delta"] == pytest.approx(0.0, abs=1e-6)
    assert 0.0 <= rows["onnx int8 (dynamic)"]["quality"] <= 1.0
    assert result["budget"]["higher_is_better"] is True
    assert result["chosen"] in rows
    assert "onnx int8 (dynamic)" in result["files"]
    assert f"over the {len(split.test_targets)} shoppers with 3+ items" in result["notes"][0]


def test_listed_only_for_a_recommender_with_a_sasrec(served: Path, tmp_path: Path) -> None:
    assert holds_sasrec(served)
    assert "recsys/sasrec" in known_targets(recsys_model_dir=served)
    popularity = create_model("pop").fit(two_worlds(n_users=20)).save(tmp_path / "pop")
    assert not holds_sasrec(popularity)
    assert "recsys/sasrec" not in known_targets(recsys_model_dir=popularity)
    with pytest.raises(InputError, match=r"'pop' with no SASRec network .*fitroom recsys train"):
        get_target("recsys/sasrec", DATA_DIR, recsys_model_dir=popularity)


def test_a_model_without_scorable_histories_is_refused(tmp_path: Path) -> None:
    # Every shopper has two items: leave-last-out needs three (as fitroom recsys eval).
    pairs = Interactions.from_sequences(["u1", "u2"], [["a", "b"], ["b", "c"]])
    saved = SASRec(**{**TINY_SASREC, "epochs": 1}).fit(pairs).save(tmp_path / "v0001")
    with pytest.raises(InputError, match="no shopper with 3 or more items"):
        get_target("recsys/sasrec", DATA_DIR, recsys_model_dir=saved)
