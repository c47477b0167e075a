"""Train the photo measurement models (front, front_side) on synthetic scan data.

Input: the ``.npz`` written by ``scripts/make_body_scan_data.py`` (features of Anny
bodies rendered and run through the real photo pipeline, and the bodies' measurements
taken on the mesh). Output: ``src/fitroom/models_dir/body_measure/<variant>/`` with
``weights.npz`` and ``config.json`` (data, command, held-out errors).

Each body is a training row several times over: with and without weight, with and
without sex, so one model serves every combination the API accepts. Bodies (not rows)
are split into train and validation; the validation set chooses the epoch and
calibrates the standard deviations.

Run: ``python scripts/train_body_measure.py var/body_scan/train.npz [--epochs 300]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fitroom.body.measure_model import (
    MEASUREMENTS,
    MeasurementModel,
    gate_passed,
    read_scan_data,
    scan_rows,
    shipped_model_dir,
)


def build_rows(
    data: dict[str, np.ndarray], index: np.ndarray, variant: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs, stature-ratio targets and heights for the bodies in ``index`` (each body
    with and without weight, with and without sex: ``scan_rows``)."""
    inputs, targets_cm, heights = scan_rows(data, index, variant)
    return inputs, targets_cm / heights[:, None], heights


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


def train_variant(
    data: dict[str, np.ndarray],
    variant: str,
    epochs: int,
    hidden: int,
    seed: int,
    weight_decay: float = 1e-4,
    dropout: float = 0.0,
    noise: float = 0.0,
) -> tuple[MeasurementModel, dict[str, float]]:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    ok = gate_passed(data, variant)
    ok = ok[rng.permutation(ok.size)]
    n_val = max(50, ok.size // 8)
    val_index, train_index = ok[:n_val], ok[n_val:]
    x_tr, y_tr, _ = build_rows(data, train_index, variant)
    x_va, y_va, h_va = build_rows(data, val_index, variant)
    x_mean, x_std = x_tr.mean(0), x_tr.std(0) + 1e-6
    y_mean, y_std = y_tr.mean(0), y_tr.std(0) + 1e-9
    count = len(MEASUREMENTS)
    net = _Net(x_tr.shape[1], hidden, count, dropout)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    xt = torch.tensor((x_tr - x_mean) / x_std, dtype=torch.float32)
    yt = torch.tensor((y_tr - y_mean) / y_std, dtype=torch.float32)
    xv = torch.tensor((x_va - x_mean) / x_std, dtype=torch.float32)
    yv = torch.tensor((y_va - y_mean) / y_std, dtype=torch.float32)
    best, best_state, best_epoch = float("inf"), None, 0

    def nll(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        mean, log_sd = out[:, :count], out[:, count:].clamp(-6, 3)
        return (log_sd + 0.5 * ((y - mean) / log_sd.exp()) ** 2).mean()

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
            print(f"{variant} epoch {epoch} val nll {val:.4f} (best {best:.4f} @ {best_epoch})")
    assert best_state is not None
    net.load_state_dict(best_state)
    linears = [m for m in net.body if isinstance(m, nn.Linear)]  # dropout has no weights
    layers = tuple(
        (m.weight.detach().numpy().T.astype(np.float64), m.bias.detach().numpy().astype(np.float64))
        for m in linears
    )
    model = MeasurementModel(
        variant=variant,
        input_mean=x_mean,
        input_std=x_std,
        layers=layers,
        target_mean=y_mean,
        target_std=y_std,
        sd_scale=np.ones(count),
        config={},
    )
    mean_cm, sd_cm = model.predict(x_va, h_va)
    truth_cm = y_va * h_va[:, None]
    z = np.abs(mean_cm - truth_cm) / sd_cm
    # Rescale so that 68.3% of validation errors are within +/- 1 sd.
    model = dataclasses.replace(model, sd_scale=np.quantile(z, 0.683, axis=0))
    mae = np.abs(mean_cm - truth_cm).mean(0)
    figures = {name: round(float(v), 2) for name, v in zip(MEASUREMENTS, mae, strict=True)}
    figures["best_epoch"] = best_epoch
    figures["train_bodies"] = int(train_index.size)
    figures["validation_bodies"] = int(val_index.size)
    return model, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help=".npz from scripts/make_body_scan_data.py")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--noise", type=float, default=0.0, help="feature noise, in sd units")
    parser.add_argument("--out", type=Path, default=shipped_model_dir())
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = read_scan_data(args.data)
    meta = json.loads(str(data.pop("meta_json")))
    for variant in ("front", "front_side"):
        started = time.perf_counter()
        model, figures = train_variant(
            data,
            variant,
            args.epochs,
            args.hidden,
            args.seed,
            args.weight_decay,
            args.dropout,
            args.noise,
        )
        config = {
            "description": f"photo measurement model, {variant.replace('_', ' + ')} view(s)",
            "measurements_are": "ISO 8559-1 definitions in fitroom.body.mesh_measure",
            "inputs": "fitroom.body.features view vectors + height, weight, sex (model_inputs)",
            "hidden": args.hidden,
            "weight_decay": args.weight_decay,
            "dropout": args.dropout,
            "feature_noise_sd": args.noise,
            "epochs": args.epochs,
            "seed": args.seed,
            "data": meta,
            "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
            "validation_mae_cm": figures,
            "train_seconds": round(time.perf_counter() - started, 1),
        }
        model = dataclasses.replace(model, config=config)
        model.save(args.out / variant)
        print(variant, json.dumps(figures))


if __name__ == "__main__":
    main()
