"""Train the photo measurement models (front, front_side) on synthetic scan data.

Input: one or more ``.npz`` files written by ``scripts/make_body_scan_data.py``
(features of Anny bodies rendered and run through the real photo pipeline, and the
bodies' measurements taken on the mesh). Output:
``src/fitroom/models_dir/body_measure/<variant>/`` with ``weights.npz`` and
``config.json`` (data, command, held-out errors).

Each body is a training row several times over: with and without weight, with and
without sex, so one model serves every combination the API accepts. Bodies (not rows)
are split into train and validation; the validation set chooses each network's epoch.
``--members N`` trains N networks with consecutive seeds and ships their average as one
MLP. ``--level-grids`` makes each body a row at every level grid the scan reads
(``fitroom.body.measure_model.LEVEL_SHIFTS``; the files must keep them, see
``make_body_scan_data.py --level-shifts``), so the network learns one answer wherever
the levels fall on the body; the shipped models were trained without it.
``--calibration FILE`` (bodies drawn with ``--split test`` and a seed of their own) sets
the standard deviations; without it the validation bodies do. ``--init-from DIR``
fine-tunes: every member starts from its part of the model in ``DIR/<variant>``
(``fitroom.body.measure_model.split_members``) and keeps its standardisation, so new
kinds of bodies or clothes can be taught without remaking all the earlier data; use a
lower ``--lr`` and fewer epochs, and the validation bodies keep the start unless an
epoch beats it. ``--tuned-share S`` then ships S of the fine-tuned weights and 1 - S of
the start's (``fitroom.body.measure_model.blend_models``, weight-space ensembling): it
keeps more of what the start read well.

Run (the shipped models; the full command is in each ``config.json``):
``python scripts/train_body_measure.py var/body_scan/train2.npz
var/body_scan/more/train_s1{0,1,2,3,4,5,6,7,8,9}.npz
var/body_scan/more/train_loose_s2{0,1,2,3,4,5}.npz
var/body_scan/more/train_mirror_s2{6,7,8,9}.npz --epochs 120 --hidden 128 --members 5
--weight-decay 1e-2 --dropout 0.1 --noise 0.1
--calibration var/body_scan/more/val_shifted_s5.npz``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fitroom.body.measure_model import (
    MEASUREMENTS,
    VARIANTS,
    MeasurementModel,
    blend_models,
    gate_passed,
    level_grid_data,
    merge_members,
    predict_scan_data,
    read_scan_data,
    scan_rows,
    shipped_model_dir,
    split_members,
)


def build_rows(
    data: dict[str, np.ndarray], index: np.ndarray, variant: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs, stature-ratio targets and heights for the bodies in ``index`` (each body
    with and without weight, with and without sex: ``scan_rows``)."""
    inputs, targets_cm, heights = scan_rows(data, index, variant)
    return inputs, targets_cm / heights[:, None], heights


def grid_data(data: dict[str, np.ndarray], level_grids: bool) -> list[dict[str, np.ndarray]]:
    """``data`` once per level grid of the scan (``level_grid_data``), or just ``data``."""
    return level_grid_data(data) if level_grids else [data]


class _Net(nn.Module):
    def __init__(self, inputs: int, hidden: int, outputs: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(inputs, hidden),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 2 * outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(x)
        return out


def combine_scan_data(
    parts: list[dict[str, np.ndarray]],
) -> tuple[dict[str, np.ndarray], dict[str, Any] | list[dict[str, Any]]]:
    """Several scan-data files as one (arrays concatenated body-wise) and their metadata
    (one dict for one file, a list for several)."""
    metas = [json.loads(str(part["meta_json"])) for part in parts]
    keys = [k for k in parts[0] if k != "meta_json" and all(k in part for part in parts)]
    shifts = [meta.get("level_shifts") for meta in metas]
    if any(s != shifts[0] for s in shifts):  # grids kept differently: keep none
        keys = [k for k in keys if k not in ("front_shifted", "side_shifted")]
    data = {k: np.concatenate([part[k] for part in parts]) for k in keys}
    if "front_shifted" in data:
        data["meta_json"] = np.array(json.dumps({"level_shifts": shifts[0]}))
    # Files made before --loose-top-share have no loose_top array: nobody wore one.
    data["loose_top"] = np.concatenate(
        [part.get("loose_top", np.zeros(len(part["height_cm"]), dtype=bool)) for part in parts]
    )
    return data, metas[0] if len(metas) == 1 else metas


def _fit_member(
    xt: torch.Tensor,
    yt: torch.Tensor,
    xv: torch.Tensor,
    yv: torch.Tensor,
    variant: str,
    epochs: int,
    hidden: int,
    seed: int,
    weight_decay: float,
    dropout: float,
    noise: float,
    start: tuple[tuple[np.ndarray, np.ndarray], ...] | None = None,
    lr: float = 2e-3,
) -> tuple[tuple[tuple[np.ndarray, np.ndarray], ...], int]:
    """Train one MLP (from random weights, or from ``start``'s layers, numpy inputs x
    outputs); its layers at the best validation epoch."""
    torch.manual_seed(seed)
    count = len(MEASUREMENTS)
    net = _Net(xt.shape[1], hidden, count, dropout)
    if start is not None:
        linears = [m for m in net.body if isinstance(m, nn.Linear)]
        if [w.shape for w, _ in start] != [tuple(m.weight.shape[::-1]) for m in linears]:
            raise ValueError("the starting layers do not fit this network's shape")
        with torch.no_grad():
            for module, (weight, bias) in zip(linears, start, strict=True):
                module.weight.copy_(torch.tensor(weight.T, dtype=torch.float32))
                module.bias.copy_(torch.tensor(bias, dtype=torch.float32))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)

    def nll(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        mean, log_sd = out[:, :count], out[:, count:].clamp(-6, 3)
        return (log_sd + 0.5 * ((y - mean) / log_sd.exp()) ** 2).mean()

    best, best_state, best_epoch = float("inf"), None, -1
    if start is not None:  # fine-tuning keeps the start unless an epoch beats it
        net.eval()
        with torch.no_grad():
            best = float(nll(net(xv), yv))
        best_state = {k: v.clone() for k, v in net.state_dict().items()}
    for epoch in range(epochs):
        net.train()
        for batch in torch.randperm(xt.shape[0]).split(256):
            opt.zero_grad()
            inputs = xt[batch]
            if noise > 0:
                # Feature noise (standardised units): silhouettes of real photos are
                # noisier than renders; heights, weight and sex columns stay exact.
                jitter = noise * torch.randn_like(inputs)
                jitter[:, -5:] = 0.0
                inputs = inputs + jitter
            nll(net(inputs), yt[batch]).backward()
            opt.step()
        sched.step()
        net.eval()
        with torch.no_grad():
            val = float(nll(net(xv), yv))
        if val < best:
            best, best_epoch = val, epoch
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        if epoch % 25 == 0 or epoch == epochs - 1:
            print(
                f"{variant} seed {seed} epoch {epoch} val nll {val:.4f} "
                f"(best {best:.4f} @ {best_epoch})"
            )
    assert best_state is not None
    net.load_state_dict(best_state)
    linears = [m for m in net.body if isinstance(m, nn.Linear)]  # dropout has no weights
    layers = tuple(
        (m.weight.detach().numpy().T.astype(np.float64), m.bias.detach().numpy().astype(np.float64))
        for m in linears
    )
    return layers, best_epoch


def train_variant(
    data: dict[str, np.ndarray],
    variant: str,
    epochs: int,
    hidden: int,
    seed: int,
    weight_decay: float = 1e-4,
    dropout: float = 0.0,
    noise: float = 0.0,
    members: int = 1,
    calibration: dict[str, np.ndarray] | None = None,
    level_grids: bool = False,
    init: MeasurementModel | None = None,
    lr: float = 2e-3,
    tuned_share: float = 1.0,
) -> tuple[MeasurementModel, dict[str, Any]]:
    """Train ``members`` MLPs (seeds ``seed``, ``seed + 1``, ...) on one split of the
    bodies and merge them into one averaging MLP (``merge_members``). The validation
    bodies pick each member's epoch; the ``calibration`` bodies (else the validation
    ones) calibrate the merged model's sds. With ``level_grids`` every body is a row at
    every level grid of the scan (``LEVEL_SHIFTS``), so the network learns the same
    answer wherever the levels fall on the body, and validation and calibration average
    the grids as the scan does. With ``init`` (a merged model of ``members`` MLPs of
    ``hidden`` units) each member starts from its own part of it (``split_members``)
    and keeps its input and target standardisation: fine-tuning on new bodies; the
    merged result is then ``tuned_share`` of the fine-tuned weights and the rest of
    ``init``'s (``blend_models``), before validation and the sd calibration."""
    rng = np.random.default_rng(seed)
    ok = gate_passed(data, variant)
    ok = ok[rng.permutation(ok.size)]
    n_val = max(50, ok.size // 8)
    val_index, train_index = ok[:n_val], ok[n_val:]
    grids = grid_data(data, level_grids)
    train_rows = [build_rows(grid, train_index, variant) for grid in grids]
    val_rows = [build_rows(grid, val_index, variant) for grid in grids]
    x_tr, y_tr = (np.concatenate([r[i] for r in train_rows]) for i in (0, 1))
    x_va, y_va = (np.concatenate([r[i] for r in val_rows]) for i in (0, 1))
    x_mean, x_std = x_tr.mean(0), x_tr.std(0) + 1e-6
    y_mean, y_std = y_tr.mean(0), y_tr.std(0) + 1e-9
    starts: list[tuple[tuple[np.ndarray, np.ndarray], ...] | None] = [None] * members
    if init is not None:
        x_mean, x_std = init.input_mean, init.input_std
        y_mean, y_std = init.target_mean, init.target_std
        starts = [m.layers for m in split_members(init, members)]
    count = len(MEASUREMENTS)
    xt = torch.tensor((x_tr - x_mean) / x_std, dtype=torch.float32)
    yt = torch.tensor((y_tr - y_mean) / y_std, dtype=torch.float32)
    xv = torch.tensor((x_va - x_mean) / x_std, dtype=torch.float32)
    yv = torch.tensor((y_va - y_mean) / y_std, dtype=torch.float32)
    fitted, best_epochs = [], []
    for member in range(members):
        layers, best_epoch = _fit_member(
            xt,
            yt,
            xv,
            yv,
            variant,
            epochs,
            hidden,
            seed + member,
            weight_decay,
            dropout,
            noise,
            starts[member],
            lr,
        )
        best_epochs.append(best_epoch)
        fitted.append(
            MeasurementModel(
                variant=variant,
                input_mean=x_mean,
                input_std=x_std,
                layers=layers,
                target_mean=y_mean,
                target_std=y_std,
                sd_scale=np.ones(count),
                config={},
            )
        )
    model = merge_members(fitted)
    if init is not None and tuned_share != 1.0:
        model = blend_models(init, model, tuned_share)
    mean_cm, sd_cm, truth_cm, _ = predict_scan_data(model, grids, val_index, variant)
    mae = np.abs(mean_cm - truth_cm).mean(0)
    figures: dict[str, Any] = {
        name: round(float(v), 2) for name, v in zip(MEASUREMENTS, mae, strict=True)
    }
    figures["best_epoch"] = best_epochs[0] if members == 1 else best_epochs
    figures["train_bodies"] = int(train_index.size)
    figures["validation_bodies"] = int(val_index.size)
    if calibration is not None:
        # Shifted bodies (other poses, cameras, lights): their errors, not the in-range
        # validation's, set the +/-, so that it stays honest off the training range.
        index = gate_passed(calibration, variant)
        calibration_grids = grid_data(calibration, level_grids)
        mean_cm, sd_cm, truth_cm, _ = predict_scan_data(model, calibration_grids, index, variant)
        figures["calibration_bodies"] = int(index.size)
        figures["calibration_mae_cm"] = {
            name: round(float(v), 2)
            for name, v in zip(MEASUREMENTS, np.abs(mean_cm - truth_cm).mean(0), strict=True)
        }
    z = np.abs(mean_cm - truth_cm) / sd_cm
    # Rescale so that 68.3% of the calibration errors are within +/- 1 sd.
    model = dataclasses.replace(model, sd_scale=np.quantile(z, 0.683, axis=0))
    return model, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "data", type=Path, nargs="+", help=".npz files from scripts/make_body_scan_data.py"
    )
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--noise", type=float, default=0.0, help="feature noise, in sd units")
    parser.add_argument(
        "--members", type=int, default=1, help="MLPs averaged into the shipped model"
    )
    parser.add_argument(
        "--calibration",
        type=Path,
        help="scan data (e.g. a --split test draw with another seed) that sets the +/-",
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help="comma-separated variants to train (run one process per variant in parallel)",
    )
    parser.add_argument(
        "--level-grids",
        action="store_true",
        help="train on every level grid of the scan (LEVEL_SHIFTS; the files must keep "
        "them: make_body_scan_data.py --level-shifts), so the answer does not hang on "
        "where the levels fall",
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        help="fine-tune: start from the models in this folder (one sub-folder per variant, "
        "e.g. the shipped ones) with their hidden size, member count and standardisation",
    )
    parser.add_argument("--lr", type=float, default=2e-3, help="AdamW learning rate")
    parser.add_argument(
        "--tuned-share",
        type=float,
        default=1.0,
        help="with --init-from: ship this share of the fine-tuned weights and the rest of "
        "the start's (weight-space ensembling; 1 = the fine-tuned weights alone)",
    )
    parser.add_argument("--out", type=Path, default=shipped_model_dir())
    args = parser.parse_args()
    torch.set_num_threads(1)
    data, meta = combine_scan_data([read_scan_data(path) for path in args.data])
    calibration = None if args.calibration is None else read_scan_data(args.calibration)
    if args.level_grids:
        for name, part in (("the training files", data), ("--calibration", calibration)):
            if part is not None and "front_shifted" not in part:
                parser.error(
                    f"--level-grids: {name} keep no level grids (or keep different ones); "
                    "make them with scripts/make_body_scan_data.py --level-shifts"
                )
    if args.tuned_share != 1.0 and args.init_from is None:
        parser.error("--tuned-share blends a fine-tune with its start: give --init-from")
    if not 0.0 <= args.tuned_share <= 1.0:
        parser.error(f"--tuned-share is {args.tuned_share}; use 0 to 1")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    for variant in variants:
        started = time.perf_counter()
        init = None
        hidden, members = args.hidden, args.members
        if args.init_from is not None:
            # Read before anything is written: --out may be the same folder.
            init = MeasurementModel.load(args.init_from / variant)
            hidden, members = int(init.config["hidden"]), int(init.config["members"])
        model, figures = train_variant(
            data,
            variant,
            args.epochs,
            hidden,
            args.seed,
            args.weight_decay,
            args.dropout,
            args.noise,
            members,
            calibration,
            args.level_grids,
            init,
            args.lr,
            args.tuned_share,
        )
        config = {
            "description": f"photo measurement model, {variant.replace('_', ' + ')} view(s)",
            "measurements_are": "ISO 8559-1 definitions in fitroom.body.mesh_measure",
            "inputs": "fitroom.body.features view vectors + height, weight, sex (model_inputs)",
            "hidden": hidden,
            "weight_decay": args.weight_decay,
            "dropout": args.dropout,
            "feature_noise_sd": args.noise,
            "epochs": args.epochs,
            "seed": args.seed,
            "members": members,
            "learning_rate": args.lr,
            "tuned_share": args.tuned_share,
            "level_grids": args.level_grids,
            "data": meta,
            "calibration_data": None
            if calibration is None
            else json.loads(str(calibration["meta_json"])),
            "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
            "validation_mae_cm": figures,
            "train_seconds": round(time.perf_counter() - started, 1),
        }
        if init is not None:
            # What the starting model learnt from stays on record under the new data.
            keep = ("data", "command", "selection", "validation_mae_cm", "fine_tuned_from")
            config["fine_tuned_from"] = {k: init.config[k] for k in keep if k in init.config}
        model = dataclasses.replace(model, config=config)
        model.save(args.out / variant)
        print(variant, json.dumps(figures))


if __name__ == "__main__":
    main()
