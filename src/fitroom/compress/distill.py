"""Knowledge distillation: train a small model (student) from a strong one (teacher).

The student learns from a weighted sum of two terms: its error against the ground
truth and its error against the teacher's output (Hinton et al. 2015; for regression
tasks such as super-resolution the "soft targets" are simply the teacher's outputs,
as in output-level KD for SR, e.g. Gao et al. 2018). A teacher often gives an easier,
less noisy target than the ground truth, which is why a student can end up better
than the same student trained alone.

Whether it does is an empirical question, so :func:`compare_distillation` runs the
controlled experiment: the same student architecture, the same initial weights (same
seed), the same batches in the same order and the same number of steps, once alone and
once distilled, and scores both with the same evaluation function.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from fitroom.errors import InputError

#: A batch of (input, ground truth) tensors.
Batch = tuple[Tensor, Tensor]
#: Loss between a prediction and a target (reduced to a scalar).
LossFn = Callable[[Tensor, Tensor], Tensor]
#: Called every ``log_every`` steps with (step, total steps, mean loss since last call).
ProgressFn = Callable[[int, int, float], None]


@dataclass(frozen=True)
class DistillationConfig:
    """How one training run goes; the same config is used for both arms of a comparison.

    ``teacher_weight`` is alpha in ``(1 - alpha) * loss(student, truth) +
    alpha * loss(student, teacher)``; 0 trains the student alone. The learning rate
    follows a cosine decay to zero over ``steps`` (no tuning needed for short runs).
    """

    steps: int
    learning_rate: float = 1e-3
    teacher_weight: float = 0.5
    seed: int = 0
    log_every: int = 100

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise InputError(f"steps must be at least 1; got {self.steps}")
        if not 0.0 <= self.teacher_weight <= 1.0:
            raise InputError(f"teacher_weight must be in [0, 1]; got {self.teacher_weight}")
        if self.learning_rate <= 0:
            raise InputError(f"learning_rate must be positive; got {self.learning_rate}")


@dataclass(frozen=True)
class TrainingLog:
    """What a training run did: loss per logged window, steps, and wall time."""

    steps: int
    teacher_weight: float
    #: Mean training loss over each ``log_every`` window, in order.
    window_losses: list[float]
    #: Mean ground-truth loss over the first and the last window (comparable across arms).
    first_truth_loss: float
    last_truth_loss: float
    wall_s: float


def distill(
    student: nn.Module,
    teacher: nn.Module | None,
    batches: Iterator[Batch],
    config: DistillationConfig,
    *,
    loss_fn: LossFn = F.l1_loss,
    progress: ProgressFn | None = None,
) -> TrainingLog:
    """Train ``student`` in place for ``config.steps`` batches, distilled from ``teacher``.

    With ``teacher=None`` (or ``teacher_weight=0``) this is ordinary supervised
    training, so both arms of a comparison run through exactly the same code. The
    teacher is frozen (eval mode, no gradients).
    """
    alpha = config.teacher_weight if teacher is not None else 0.0
    if teacher is not None:
        teacher.eval()
        for parameter in teacher.parameters():
            parameter.requires_grad_(False)
    student.train()
    optimizer = torch.optim.Adam(student.parameters(), lr=config.learning_rate)
    window_losses: list[float] = []
    window_total, window_truth, window_count = 0.0, 0.0, 0
    first_truth = math.nan
    last_truth = math.nan
    started = time.perf_counter()
    for step in range(1, config.steps + 1):
        try:
            inputs, truth = next(batches)
        except StopIteration:
            raise InputError(
                f"the batch iterator ran out after {step - 1} of {config.steps} steps"
            ) from None
        for group in optimizer.param_groups:
            # Cosine decay from the base rate to 0 (Loshchilov & Hutter 2017, no restarts).
            group["lr"] = (
                0.5 * config.learning_rate * (1 + math.cos(math.pi * (step - 1) / config.steps))
            )
        # enable_grad: a batch generator that yields inside ``torch.no_grad()`` would
        # otherwise switch gradients off here too (grad mode is thread-local).
        with torch.enable_grad():
            prediction = student(inputs)
            truth_loss = loss_fn(prediction, truth)
            loss = truth_loss
            if alpha > 0.0 and teacher is not None:
                with torch.no_grad():
                    soft_target = teacher(inputs)
                loss = (1.0 - alpha) * truth_loss + alpha * loss_fn(prediction, soft_target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        window_total += float(loss.detach())
        window_truth += float(truth_loss.detach())
        window_count += 1
        if window_count == config.log_every or step == config.steps:
            window_losses.append(window_total / window_count)
            if math.isnan(first_truth):
                first_truth = window_truth / window_count
            last_truth = window_truth / window_count
            if progress is not None:
                progress(step, config.steps, window_total / window_count)
            window_total, window_truth, window_count = 0.0, 0.0, 0
    student.eval()
    return TrainingLog(
        steps=config.steps,
        teacher_weight=alpha,
        window_losses=window_losses,
        first_truth_loss=first_truth,
        last_truth_loss=last_truth,
        wall_s=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class DistillationComparison:
    """The controlled experiment's result; ``gain`` is distilled minus alone.

    Scores are the caller's metric (higher is better, e.g. Set5 Y-PSNR in dB).
    """

    metric: str
    teacher_score: float
    alone_score: float
    distilled_score: float
    gain: float
    steps: int
    teacher_weight: float
    seed: int
    alone: TrainingLog
    distilled: TrainingLog

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_distillation(
    make_student: Callable[[], nn.Module],
    teacher: nn.Module,
    make_batches: Callable[[], Iterator[Batch]],
    evaluate: Callable[[nn.Module], float],
    config: DistillationConfig,
    *,
    metric: str = "score",
    loss_fn: LossFn = F.l1_loss,
    progress: Callable[[str, int, int, float], None] | None = None,
) -> DistillationComparison:
    """Train the same student alone and distilled (same seed, batches, steps); score both.

    ``make_student`` and ``make_batches`` are called once per arm right after
    ``torch.manual_seed(config.seed)``, so both arms start from identical weights and
    see identical batches when the factories are deterministic given the seed.
    """
    if config.teacher_weight == 0.0:
        raise InputError("teacher_weight is 0: the distilled arm would be the alone arm")

    def arm(name: str, with_teacher: nn.Module | None) -> tuple[nn.Module, TrainingLog]:
        torch.manual_seed(config.seed)
        student = make_student()
        batches = make_batches()

        def report(step: int, total: int, loss: float) -> None:
            if progress is not None:
                progress(name, step, total, loss)

        log = distill(student, with_teacher, batches, config, loss_fn=loss_fn, progress=report)
        return student, log

    alone_model, alone_log = arm("alone", None)
    alone_score = evaluate(alone_model)
    distilled_model, distilled_log = arm("distilled", teacher)
    distilled_score = evaluate(distilled_model)
    return DistillationComparison(
        metric=metric,
        teacher_score=evaluate(teacher),
        alone_score=alone_score,
        distilled_score=distilled_score,
        gain=distilled_score - alone_score,
        steps=config.steps,
        teacher_weight=config.teacher_weight,
        seed=config.seed,
        alone=alone_log,
        distilled=distilled_log,
    )
