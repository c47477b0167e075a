"""Distillation: the loop lowers the loss; the comparison is controlled and honest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import Tensor, nn

from fitroom.compress.distill import (
    DistillationConfig,
    compare_distillation,
    distill,
)
from fitroom.errors import InputError


def regression_batches(seed: int, noise: float = 0.0) -> Iterator[tuple[Tensor, Tensor]]:
    """y = sin(3x) (+ noise): a smooth 1-D target a small MLP can learn."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        x = torch.rand(64, 1, generator=generator) * 2 - 1
        y = torch.sin(3 * x) + noise * torch.randn(64, 1, generator=generator)
        yield x, y


def small_student() -> nn.Sequential:
    return nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))


class ExactTeacher(nn.Module):
    """Knows the clean function: the ideal teacher for noisy labels."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.sin(3 * x)


def test_distillation_lowers_the_student_loss() -> None:
    torch.manual_seed(0)
    student = small_student()
    log = distill(
        student,
        ExactTeacher(),
        regression_batches(0),
        DistillationConfig(steps=300, learning_rate=3e-2, log_every=50),
        loss_fn=nn.functional.mse_loss,
    )
    assert len(log.window_losses) == 6
    assert log.last_truth_loss < 0.1 * log.first_truth_loss
    assert log.teacher_weight == 0.5
    assert not student.training  # handed back in eval mode


def test_comparison_uses_the_same_start_and_scores_both_arms() -> None:
    probe = torch.linspace(-1, 1, 101).view(-1, 1)

    def score(model: nn.Module) -> float:
        with torch.no_grad():
            return -float(nn.functional.mse_loss(model(probe), torch.sin(3 * probe)))

    starts: list[Tensor] = []

    def make_student() -> nn.Module:
        model = small_student()
        first = model.get_submodule("0")
        assert isinstance(first, nn.Linear)
        starts.append(first.weight.detach().clone())
        return model

    result = compare_distillation(
        make_student,
        ExactTeacher(),
        lambda: regression_batches(1, noise=0.5),
        score,
        DistillationConfig(steps=200, learning_rate=1e-2, teacher_weight=0.9, seed=7),
        metric="-MSE",
        loss_fn=nn.functional.mse_loss,
    )
    assert torch.equal(starts[0], starts[1])  # same seed -> same initial weights
    assert result.gain == pytest.approx(result.distilled_score - result.alone_score)
    assert result.teacher_score == 0.0  # the teacher is the clean function itself
    # With heavy label noise and a perfect teacher, distillation must help.
    assert result.gain > 0
    assert result.alone.steps == result.distilled.steps == 200


def test_config_is_checked() -> None:
    with pytest.raises(InputError, match="steps"):
        DistillationConfig(steps=0)
    with pytest.raises(InputError, match="teacher_weight"):
        DistillationConfig(steps=1, teacher_weight=1.5)


def test_running_out_of_batches_is_an_error() -> None:
    with pytest.raises(InputError, match="ran out after 2 of 5"):
        distill(
            small_student(),
            None,
            iter([(torch.zeros(1, 1), torch.zeros(1, 1))] * 2),
            DistillationConfig(steps=5),
        )
