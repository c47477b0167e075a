"""SASRec-style sequential transformer (Kang and McAuley 2018), trained with cross-entropy.

Causal self-attention over the shopper's last ``max_len`` items predicts the next item at
every position. The loss is cross-entropy over the full catalogue (``loss="full"``) or
over the target and ``negatives`` shared uniform samples (``loss="sampled"``): both beat
the original binary loss (Klenitskiy and Vasilev 2023; Petrov and Macdonald 2023).
Output and input item embeddings are tied. Early stopping on the validation score keeps
the best epoch's weights.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

from fitroom.recsys.base import Progress, Recommender, ValidFn
from fitroom.recsys.data import History, item_counts, popularity_prior


class NextItemRuntime(Protocol):
    """Next-item scores of (rows, max_len) left-padded item rows (index + 1, 0 = pad)."""

    def __call__(self, rows: NDArray[np.int64]) -> NDArray[np.float32]: ...


def _net(n_items: int, params: Mapping[str, Any]) -> Any:
    import torch
    from torch import nn

    dim = int(params["dim"])
    max_len = int(params["max_len"])
    heads = int(params["heads"])
    dropout = float(params["dropout"])

    class SASRecNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # Index 0 is padding; item i is row i + 1.
            self.items = nn.Embedding(n_items + 1, dim, padding_idx=0)
            self.positions = nn.Embedding(max_len, dim)
            self.dropout = nn.Dropout(dropout)
            layer = nn.TransformerEncoderLayer(
                dim,
                heads,
                dim_feedforward=dim * int(params["ffn_mult"]),
                dropout=dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            self.encoder = nn.TransformerEncoder(
                layer, int(params["layers"]), enable_nested_tensor=False
            )
            self.norm = nn.LayerNorm(dim)
            nn.init.normal_(self.items.weight, std=dim**-0.5)
            nn.init.normal_(self.positions.weight, std=dim**-0.5)
            with torch.no_grad():
                self.items.weight[0].zero_()

        def forward(self, seq: torch.Tensor) -> torch.Tensor:
            """(batch, length) left-padded item rows -> (batch, length, dim)."""
            length = seq.shape[1]
            real = seq > 0
            # Rows are left-padded to the batch's own length: the newest item always
            # sits at position max_len - 1, as if padded to max_len.
            pos = torch.arange(max_len - length, max_len, device=seq.device)
            x = self.items(seq) * math.sqrt(dim) + self.positions(pos)[None]
            x = self.dropout(x) * real[..., None]
            causal = torch.ones(length, length, dtype=torch.bool, device=seq.device).tril()
            allowed = causal[None] & real[:, None, :]
            allowed |= torch.eye(length, dtype=torch.bool, device=seq.device)[None]
            mask = (~allowed).repeat_interleave(heads, dim=0)
            h: torch.Tensor = self.norm(self.encoder(x, mask=mask))
            return h

        def item_table(self) -> torch.Tensor:
            return self.items.weight[1:]

    return SASRecNet()


def _pad_left(seqs: Sequence[NDArray[Any]], length: int) -> NDArray[Any]:
    """Rows of item indexes + 1, left-padded with 0 to the longest row (at most ``length``)."""
    length = max(1, min(length, max((len(s) for s in seqs), default=1)))
    out = np.zeros((len(seqs), length), np.int64)
    for r, s in enumerate(seqs):
        s = s[-length:]
        if len(s):
            out[r, length - len(s) :] = s + 1
    return out


def pad_left_to(seqs: Sequence[NDArray[Any]], length: int) -> NDArray[Any]:
    """Rows of item indexes + 1, left-padded with 0 to exactly ``length`` (the fixed
    width of an exported network's input; ``SASRec.score`` pads to the longest row)."""
    rows = _pad_left(seqs, length)
    padded: NDArray[Any] = np.pad(rows, ((0, 0), (length - rows.shape[1], 0)))
    return padded


class SASRec(Recommender):
    """Next-item transformer; see the module docstring."""

    name = "sasrec"
    evidence = "sequence"
    reports_progress = True
    defaults: ClassVar[dict[str, Any]] = {
        "dim": 64,
        "layers": 2,
        "heads": 1,
        "ffn_mult": 1,
        "max_len": 50,
        "dropout": 0.5,
        "lr": 1e-3,
        "weight_decay": 0.0,
        "batch_size": 128,
        "epochs": 200,
        "eval_every": 2,
        "patience": 5,
        "loss": "full",
        "negatives": 256,
        "seed": 0,
        "threads": 0,
        "max_minutes": 0.0,
    }

    def _fit(
        self,
        histories: Sequence[History],
        n_items: int,
        valid: ValidFn | None,
        progress: Progress | None,
    ) -> None:
        import torch
        import torch.nn.functional as functional

        self.runtime = None  # a runtime of earlier weights no longer computes this net
        p = self.params
        if p["loss"] not in ("full", "sampled"):
            raise ValueError("loss must be 'full' or 'sampled'")
        if int(p["threads"]) > 0:
            torch.set_num_threads(int(p["threads"]))
        torch.manual_seed(int(p["seed"]))
        rng = np.random.default_rng(int(p["seed"]))
        self.counts = item_counts(histories, n_items)
        self.net = _net(n_items, p)
        max_len = int(p["max_len"])
        # Each sequence of 2+ items is one training row: inputs s[:-1], targets s[1:].
        rows = [h[-(max_len + 1) :] for h in histories if len(h) >= 2]
        # Batches of similar lengths, each padded only to its longest row: most
        # shoppers have a few items, and padding all to max_len would cost ~5x.
        by_length = np.argsort([len(r) for r in rows], kind="stable")
        opt = torch.optim.AdamW(
            self.net.parameters(), lr=float(p["lr"]), weight_decay=float(p["weight_decay"])
        )
        batch = int(p["batch_size"])
        epochs = int(p["epochs"])
        best_score = -math.inf
        best_state: dict[str, Any] | None = None
        best_epoch = 0
        bad_evals = 0
        started = time.monotonic()
        history: list[dict[str, float]] = []
        epoch = 0
        for epoch in range(1, epochs + 1):
            self.net.train()
            starts = rng.permutation(np.arange(0, len(rows), batch))
            total = 0.0
            for start in starts:
                idx = by_length[start : start + batch]
                seq = torch.from_numpy(_pad_left([rows[i][:-1] for i in idx], max_len))
                tgt = torch.from_numpy(_pad_left([rows[i][1:] for i in idx], max_len))
                h = self.net(seq)
                keep = tgt > 0
                h = h[keep]
                t = tgt[keep] - 1
                table = self.net.item_table()
                if p["loss"] == "full":
                    logits = h @ table.T
                    loss = functional.cross_entropy(logits, t)
                else:
                    neg = torch.from_numpy(rng.integers(0, n_items, int(p["negatives"])))
                    pos_logit = (h * table[t]).sum(-1, keepdim=True)
                    neg_logit = h @ table[neg].T
                    neg_logit = neg_logit.masked_fill(neg[None, :] == t[:, None], -1e9)
                    logits = torch.cat([pos_logit, neg_logit], dim=1)
                    loss = functional.cross_entropy(logits, torch.zeros(len(t), dtype=torch.long))
                opt.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                opt.step()
                total += float(loss.detach()) * len(idx)
            info: dict[str, float] = {"epoch": epoch, "loss": total / max(len(rows), 1)}
            out_of_time = float(p["max_minutes"]) > 0 and time.monotonic() - started > 60.0 * float(
                p["max_minutes"]
            )
            if valid is not None and (
                epoch % int(p["eval_every"]) == 0 or out_of_time or epoch == epochs
            ):
                score = valid(self)
                info["valid"] = score
                if score > best_score:
                    best_score, best_epoch, bad_evals = score, epoch, 0
                    best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
                else:
                    bad_evals += 1
            history.append(info)
            if progress is not None:
                progress(epoch, epochs, info)
            if out_of_time or (valid is not None and bad_evals >= int(p["patience"])):
                break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        self.fit_info.update(
            {
                "epochs_run": epoch,
                "best_epoch": best_epoch or epoch,
                "valid_ndcg_at_10": best_score if best_state is not None else None,
                "train_seconds": round(time.monotonic() - started, 1),
                "curve": history,
            }
        )

    def refit_params(self) -> dict[str, Any]:
        return {"epochs": int(self.fit_info.get("best_epoch") or self.params["epochs"])}

    #: Set by :meth:`use_runtime`: the same network's next-item scores computed by
    #: another engine (ONNX Runtime when serving), over rows padded to ``max_len``.
    runtime: NextItemRuntime | None = None

    def use_runtime(self, runtime: NextItemRuntime | None) -> None:
        """Score with ``runtime`` (rows padded to ``max_len`` -> (rows, items) scores)
        instead of torch; None goes back to torch. The runtime must compute the same
        function: the API checks the exported file against torch when it is written."""
        self.runtime = runtime

    def score(self, histories: Sequence[History]) -> NDArray[Any]:
        import torch

        self.net.eval()
        out = np.empty((len(histories), self.n_items), np.float32)
        max_len = int(self.params["max_len"])
        # Similar lengths together, so each batch pads only to its own longest row.
        order = np.argsort([len(h) for h in histories], kind="stable")
        with torch.inference_mode():
            table = self.net.item_table()
            for start in range(0, len(order), 512):
                rows = order[start : start + 512]
                batch = [histories[r] for r in rows]
                if self.runtime is not None:
                    out[rows] = self.runtime(pad_left_to(batch, max_len))
                    continue
                seq = _pad_left(batch, max_len)
                h = self.net(torch.from_numpy(seq))[:, -1]
                out[rows] = (h @ table.T).numpy()
        empty = np.array([len(h) == 0 for h in histories], bool)
        if empty.any():
            # Nothing to attend to: fall back to popularity.
            out[empty] = popularity_prior(self.counts)
        return out

    def similarity(self, items: NDArray[Any]) -> NDArray[Any]:
        """Sequential relatedness: the model's scores for what follows each item alone.

        (Cosines of the tied item embeddings measured worse: they encode "comes next",
        not "is alike".)
        """
        return self.score([np.array([i], np.int64) for i in items])

    def _state(self) -> dict[str, NDArray[Any]]:
        state = {f"net.{k}": v.detach().numpy() for k, v in self.net.state_dict().items()}
        state["counts"] = self.counts
        return state

    def _set_state(self, arrays: Mapping[str, NDArray[Any]]) -> None:
        import torch

        self.counts = arrays["counts"]
        self.runtime = None
        self.net = _net(len(self.counts), self.params)
        self.net.load_state_dict(
            {
                k[4:]: torch.from_numpy(np.array(v))
                for k, v in arrays.items()
                if k.startswith("net.")
            }
        )
        self.net.eval()
