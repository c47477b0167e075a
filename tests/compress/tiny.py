"""Tiny seeded models and data for the compression tests (diffusers' dummy components)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from fitroom.compress.export import InputSpec
from fitroom.compress.metrics import Feeds

IMAGE_SPEC = InputSpec("input", (1, 3, 16, 16), {0: "batch", 2: "height", 3: "width"})
VECTOR_SPEC = InputSpec("input", (4, 32), {0: "batch"})


def conv_net(seed: int = 0, width: int = 16) -> nn.Sequential:
    """3 -> width -> width -> 3 channels, 3x3 convs with ReLU: an image-to-image net."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(width, 3, 3, padding=1),
    ).eval()


def mlp(seed: int = 0) -> nn.Sequential:
    """32 -> 64 -> 64 -> 10: a model made of Linear layers only."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)
    ).eval()


class Residual(nn.Module):
    """conv -> conv with an identity skip around it: the second conv feeds an add."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.conv2(torch.relu(self.conv1(x)))
        return x + out


def image_feeds(count: int, seed: int, size_px: int = 16) -> list[Feeds]:
    rng = np.random.default_rng(seed)
    return [
        {"input": rng.uniform(0, 1, (1, 3, size_px, size_px)).astype(np.float32)}
        for _ in range(count)
    ]


def vector_feeds(count: int, seed: int) -> list[Feeds]:
    rng = np.random.default_rng(seed)
    return [{"input": rng.normal(0, 1, (4, 32)).astype(np.float32)} for _ in range(count)]


#: The shared real data (Set5, T91...), as the project's conftest finds it.
DATA_DIR = Path(os.environ.get("FITROOM_DATA_DIR", Path(__file__).parents[3] / "shared" / "data"))


def ship(models_dir: Path, folder: str, architecture: str, scale: int) -> nn.Module:
    """Write a seeded, untrained SR model as fitroom.superres.train ships one."""
    from fitroom.superres.models import build_model

    torch.manual_seed(0)
    model = build_model(architecture, scale)
    (models_dir / folder).mkdir(parents=True)
    torch.save(model.state_dict(), models_dir / folder / "model.pt")
    config = {"model": architecture, "scale": scale, "hyper_parameters": {}}
    (models_dir / folder / "config.json").write_text(json.dumps(config))
    return model
