"""The SASRec network of a saved recommender as a compression target (``recsys/sasrec``).

Which model: a recommender saved by ``Recommender.save`` (``config.json`` +
``arrays.npz``), normally the version the API serves (``fitroom recsys train`` writes
it under ``VAR_DIR/models/recsys``; the CLI resolves the ``current`` pointer). It is a
SASRec, or a hybrid with a SASRec component (the served default); this target
compresses that network only. A model without one is not a target: ``fitroom compress
list`` leaves ``recsys/sasrec`` out and asking for it explains how to train one.

What is exported: :class:`NextItemScores`, the network over (batch, max_len) rows of
item index + 1, left-padded with 0, returning the next-item score of every item (the
last position's state against the tied item embeddings), as ``SASRec.score`` computes
for a non-empty history.

Quality: NDCG@10 of each shopper's last item given the items before it, with the
protocol of ``fitroom recsys eval`` (``leave_one_out`` and ``evaluate_ranking``: full
ranking over every item, earlier items masked, ties against the model, shoppers with 3+
items) on the histories the recommender was fitted on. The store's model is fitted on
all of its events, so these last items were seen in training: the figure is in-sample,
a like-for-like yardstick between compressed variants and FP32, not the live accuracy
(``fitroom recsys eval`` measures that on a held-out split).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from torch import Tensor, nn

from fitroom.compress.export import EquivalenceCheck, InputSpec, check_equivalence, export_onnx
from fitroom.compress.metrics import Feeds, Predictor
from fitroom.compress.targets import CompressionTarget
from fitroom.errors import InputError, ModelError

if TYPE_CHECKING:
    from fitroom.recsys.base import Recommender
    from fitroom.recsys.data import History
    from fitroom.recsys.sasrec import NextItemRuntime, SASRec

#: The target's name.
RECSYS_SASREC = "recsys/sasrec"
#: Name of the exported model's input: (batch, max_len) int64 item rows.
SEQUENCE_INPUT = "seq"
#: Shoppers scored per call when evaluating (as ``SASRec.score`` batches them).
EVAL_BATCH = 512
#: Histories compared torch vs ONNX in the export check.
EQUIVALENCE_ROWS = 64
HOW_TO_TRAIN = (
    "train one on the store's events with `fitroom recsys train` (FITROOM_RECSYS_MODEL "
    "hybrid, the default, or sasrec), or pass a saved recommender folder with --model-dir"
)


class NextItemScores(nn.Module):
    """(batch, max_len) left-padded rows of item index + 1 -> (batch, n_items) scores."""

    net: Any  # the SASRec network (``fitroom.recsys.sasrec._net``)

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.eval()

    def forward(self, seq: Tensor) -> Tensor:
        last: Tensor = self.net(seq)[:, -1]
        scores: Tensor = last @ self.net.item_table().T
        return scores


def _config_holds_sasrec(config: dict[str, Any]) -> bool:
    if config.get("model") == "sasrec":
        return True
    components = (config.get("params") or {}).get("components") or {}
    return config.get("model") == "hybrid" and "sasrec" in components


def holds_sasrec(model_dir: Path) -> bool:
    """Whether ``model_dir`` holds a saved SASRec, or a hybrid with a SASRec part
    (read from its ``config.json`` alone; False when there is none)."""
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and _config_holds_sasrec(config)


def load_recommender(model_dir: Path) -> Recommender:
    """A saved recommender of any kind (``fitroom.recsys.registry.load_model``)."""
    from fitroom.recsys.registry import load_model

    if not (model_dir / "config.json").is_file():
        raise InputError(
            f"no recommender saved in {model_dir} (config.json missing); {HOW_TO_TRAIN}",
            path=str(model_dir),
        )
    try:
        return load_model(model_dir)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelError(
            f"cannot load the recommender in {model_dir}: {exc}", path=str(model_dir)
        ) from exc


def sasrec_part(recommender: Recommender) -> SASRec | None:
    """The SASRec itself, or the SASRec part of a hybrid; None when there is none."""
    from fitroom.recsys.hybrid import Hybrid
    from fitroom.recsys.sasrec import SASRec

    if isinstance(recommender, SASRec):
        return recommender
    part = recommender.parts.get("sasrec") if isinstance(recommender, Hybrid) else None
    return part if isinstance(part, SASRec) else None


def sasrec_of(recommender: Recommender, model_dir: Path) -> SASRec:
    """The SASRec itself, or the SASRec part of a hybrid; InputError when there is none."""
    part = sasrec_part(recommender)
    if part is not None:
        return part
    raise InputError(
        f"the recommender in {model_dir} is {recommender.name!r} with no SASRec network to "
        f"compress; {HOW_TO_TRAIN}",
        path=str(model_dir),
    )


class NextItemEval:
    """Leave-last-out NDCG@10 over fitted histories, as ``fitroom recsys eval`` scores.

    Each shopper with 3+ items: the history is every item but the last, the target the
    last (``LeaveOneOut.test_histories`` / ``test_targets``).
    """

    def __init__(self, histories: dict[str, History], item_ids: list[str], max_len: int) -> None:
        from fitroom.recsys.data import Interactions, leave_one_out

        split = leave_one_out(Interactions(list(histories), item_ids, list(histories.values())))
        self.histories = split.test_histories()
        self.targets = split.test_targets
        self.n_items = len(item_ids)
        self.max_len = max_len

    @property
    def shoppers(self) -> int:
        return len(self.histories)

    def feeds(self, histories: Sequence[History]) -> Feeds:
        from fitroom.recsys.sasrec import pad_left_to

        return {SEQUENCE_INPUT: pad_left_to(histories, self.max_len)}

    def quality(self, predict: Predictor) -> float:
        """NDCG@10 of the last items (``fitroom.recsys.metrics.evaluate_ranking``)."""
        from fitroom.recsys.metrics import evaluate_ranking

        def score(batch: Sequence[History]) -> npt.NDArray[Any]:
            return np.asarray(predict(self.feeds(batch)))

        metrics = evaluate_ranking(
            score, self.histories, self.targets, self.n_items, batch_size=EVAL_BATCH
        )
        return metrics.ndcg_at_10


def sequence_input(max_len: int, n_items: int) -> InputSpec:
    """The network's input: (batch, max_len) item rows, 0 = padding, items 1..n_items."""
    return InputSpec(
        SEQUENCE_INPUT,
        (4, max_len),
        dynamic_axes={0: "batch"},
        dtype="int64",
        value_range=(0, n_items + 1),
    )


def sasrec_target(model_dir: Path | None) -> CompressionTarget:
    """The compression target of the SASRec in the recommender saved in ``model_dir``."""
    if model_dir is None:
        raise InputError(
            f"{RECSYS_SASREC} compresses the SASRec network of the served recommender, "
            f"and none is served yet: {HOW_TO_TRAIN}",
            field="model",
        )
    recommender = load_recommender(model_dir)
    sasrec = sasrec_of(recommender, model_dir)
    max_len = int(sasrec.params["max_len"])
    evaluation = NextItemEval(recommender.fitted_histories(), recommender.item_ids, max_len)
    if not evaluation.shoppers:
        raise InputError(
            f"the recommender in {model_dir} was fitted on no shopper with 3 or more items, "
            "so there is nothing to score NDCG@10 on; retrain it with `fitroom recsys train` "
            "once shoppers have events",
            path=str(model_dir),
        )

    def calibration(folder: Path | None) -> list[Feeds]:
        if folder is not None:
            raise InputError(
                f"{RECSYS_SASREC} is quantized dynamically (attention and Linear layers) and "
                "takes no calibration set; leave out --calibration",
                field="calibration",
            )
        return []

    def load_model() -> nn.Module:
        network = sasrec_of(load_recommender(model_dir), model_dir).net
        return NextItemScores(network)

    return CompressionTarget(
        name=RECSYS_SASREC,
        metric="NDCG@10 of the last item, fitted histories",
        load_model=load_model,
        inputs=(sequence_input(max_len, evaluation.n_items),),
        calibration=calibration,
        quality=lambda: evaluation.quality,
        real_feeds=lambda: [evaluation.feeds(evaluation.histories[:EQUIVALENCE_ROWS])],
        latency_feeds=lambda: evaluation.feeds(evaluation.histories[:1]),
        fine_tune_batches=None,
        definition=(
            f"Quality: NDCG@10 of each shopper's last item given the items before it "
            f"(the last {max_len}), ranked against all {evaluation.n_items} items with the "
            f"shopper's earlier items masked and ties counted against the model, over the "
            f"{evaluation.shoppers} shoppers with 3+ items in the histories the "
            f"{recommender.name} in {model_dir} was fitted on (the protocol of `fitroom "
            "recsys eval`). Those last items were in its training data: the figure is "
            "in-sample, a yardstick between variants, not live accuracy. Only the SASRec "
            "network is scored, not a hybrid's blend."
        ),
    )


# -- serving -----------------------------------------------------------------------------

#: The serving export's file name inside a recommender version folder.
SERVING_ONNX = "sasrec.onnx"
#: How far the serving export may differ from torch, per score: absolute + relative.
SERVING_TOLERANCE = (1e-3, 1e-4)


def export_for_serving(recommender: Recommender, directory: Path) -> EquivalenceCheck | None:
    """Write the recommender's SASRec network (itself, or a hybrid's part) to
    ``directory / SERVING_ONNX`` as FP32 ONNX, checked against torch on random rows and
    on up to 64 fitted histories; None (and no file) when it holds no SASRec.

    Raises NotCompressible when the export fails or differs beyond
    ``SERVING_TOLERANCE``; the file is then removed.
    """
    from fitroom.recsys.sasrec import pad_left_to

    sasrec = sasrec_part(recommender)
    if sasrec is None:
        return None
    max_len = int(sasrec.params["max_len"])
    spec = (sequence_input(max_len, sasrec.n_items),)
    histories = [h for h in recommender.fitted_histories().values() if len(h)]
    real = (
        [{SEQUENCE_INPUT: pad_left_to(histories[:EQUIVALENCE_ROWS], max_len)}] if histories else []
    )
    path = directory / SERVING_ONNX
    network = NextItemScores(sasrec.net)
    try:
        export_onnx(network, spec, path, output_name="scores")
        absolute, relative = SERVING_TOLERANCE
        return check_equivalence(
            network, path, spec, real_feeds=real, tolerance=absolute, relative_tolerance=relative
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise


def serving_runtime(directory: Path) -> NextItemRuntime:
    """The serving export in ``directory`` as a SASRec runtime: ONNX Runtime on one
    thread per call (it releases the GIL while it runs, so the API's worker threads
    score side by side)."""
    from fitroom.compress.backends import OnnxRuntimeBackend

    backend = OnnxRuntimeBackend(directory / SERVING_ONNX, threads=1)

    def scores(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        return backend.predict({SEQUENCE_INPUT: rows})

    return scores
