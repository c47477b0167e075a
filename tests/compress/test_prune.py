"""Structured channel pruning: a smaller real module, the right channels, recovery."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import Tensor, nn

from fitroom.compress.prune import (
    count_parameters,
    find_prunable_pairs,
    fine_tune,
    l1_filter_norms,
    prune_channels,
)
from fitroom.errors import InputError, NotCompressible
from tests.compress.tiny import Residual, conv_net


def conv_weights(model: nn.Module) -> int:
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d))


def test_half_the_channels_halves_channels_and_conv_weights() -> None:
    # conv 3->16, ReLU, conv 16->3: one prunable pair.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 3, 3, padding=1))
    result = prune_channels(model, 0.5)
    first, last = result.model.get_submodule("0"), result.model.get_submodule("2")
    assert isinstance(first, nn.Conv2d) and isinstance(last, nn.Conv2d)
    assert (first.out_channels, last.in_channels) == (8, 8)
    assert first.weight.shape == (8, 3, 3, 3) and last.weight.shape == (3, 8, 3, 3)
    assert conv_weights(result.model) * 2 == conv_weights(model)
    # 3*16*9 + 16 + 16*3*9 + 3 = 883 before; 3*8*9 + 8 + 8*3*9 + 3 = 443 after.
    assert (result.parameters_before, result.parameters_after) == (883, 443)
    x = torch.rand(2, 3, 11, 13)
    assert result.model(x).shape == model(x).shape == (2, 3, 11, 13)
    assert model[0].out_channels == 16  # the input model is left as it was


def test_a_chain_prunes_every_link() -> None:
    model = conv_net(width=16)
    result = prune_channels(model, 0.5)
    assert [(layer.channels_before, layer.channels_after) for layer in result.layers] == [
        (16, 8),
        (16, 8),
    ]
    assert result.skipped == {"4": "its output feeds the model output"}
    widths = [m.weight.shape[:2] for m in result.model.modules() if isinstance(m, nn.Conv2d)]
    assert widths == [(8, 3), (8, 8), (3, 8)]


def test_weakest_filters_by_l1_norm_go() -> None:
    conv1, conv2 = nn.Conv2d(1, 4, 1, bias=False), nn.Conv2d(4, 1, 1, bias=False)
    with torch.no_grad():
        conv1.weight.copy_(torch.tensor([0.1, -5.0, 0.2, 3.0]).view(4, 1, 1, 1))
        conv2.weight.copy_(torch.tensor([10.0, 20.0, 30.0, 40.0]).view(1, 4, 1, 1))
    model = nn.Sequential(conv1, nn.ReLU(), conv2)
    assert l1_filter_norms(conv1).tolist() == pytest.approx([0.1, 5.0, 0.2, 3.0])
    result = prune_channels(model, 0.5)
    assert result.layers[0].kept_channels == [1, 3]
    consumer = result.model.get_submodule("2")
    assert isinstance(consumer, nn.Conv2d)
    kept_in = consumer.weight.flatten().tolist()
    assert kept_in == [20.0, 40.0]  # the next conv keeps the matching input channels


def test_per_channel_layers_between_are_sliced() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.PReLU(8), nn.Conv2d(8, 2, 1)
    ).eval()
    pairs, _ = find_prunable_pairs(model)
    assert [(p.producer, p.consumer, p.between) for p in pairs] == [("0", "3", ("1", "2"))]
    result = prune_channels(model, 0.25)
    norm, prelu = result.model.get_submodule("1"), result.model.get_submodule("2")
    assert isinstance(norm, nn.BatchNorm2d) and isinstance(prelu, nn.PReLU)
    assert norm.num_features == 6
    assert prelu.weight.shape == (6,)
    assert result.model(torch.rand(1, 3, 5, 5)).shape == (1, 2, 5, 5)


def test_residual_output_is_not_pruned_and_says_why() -> None:
    pairs, skipped = find_prunable_pairs(Residual())
    assert [(p.producer, p.consumer) for p in pairs] == [("conv1", "conv2")]
    assert skipped == {"conv2": "its output feeds add"}


def test_model_without_prunable_convs_says_so() -> None:
    model = nn.Sequential(nn.Conv2d(3, 6, 3), nn.PixelShuffle(1))
    with pytest.raises(NotCompressible, match="no convolution whose channels") as info:
        prune_channels(model, 0.5)
    assert "pixel_shuffle" in info.value.message or "PixelShuffle" in info.value.message


def test_untraceable_model_says_so() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 1)

        def forward(self, x: Tensor) -> Tensor:
            return self.conv(x) if x.mean() > 0 else x

    with pytest.raises(NotCompressible, match=r"torch\.fx could not trace"):
        prune_channels(Branchy(), 0.5)


def test_ratio_must_be_a_fraction() -> None:
    with pytest.raises(InputError, match="ratio"):
        prune_channels(conv_net(), 1.0)


def toy_task(teacher: nn.Module, seed: int) -> Iterator[tuple[Tensor, Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    while True:
        x = torch.rand(8, 3, 12, 12, generator=generator)
        with torch.no_grad():
            y = teacher(x)
        yield x, y


def test_fine_tuning_recovers_the_loss() -> None:
    # The task: reproduce a fixed 16-channel net. Pruning it to 8 channels breaks the
    # fit; a short fine-tune must win back at least half of the loss it added.
    target = conv_net(seed=0, width=16)
    pruned = prune_channels(target, 0.5).model
    assert count_parameters(pruned) < count_parameters(target)
    probe = next(toy_task(target, seed=99))

    def loss() -> float:
        with torch.no_grad():
            return float(nn.functional.l1_loss(pruned(probe[0]), probe[1]))

    before = loss()
    assert before > 1e-3
    log = fine_tune(pruned, toy_task(target, seed=1), steps=150, learning_rate=3e-3)
    after = loss()
    assert after < 0.5 * before
    assert log.last_truth_loss < log.first_truth_loss
