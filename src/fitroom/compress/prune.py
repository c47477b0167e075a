"""Structured pruning of convolution channels, giving a genuinely smaller network.

Method (Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017): for a
convolution whose output feeds exactly one other convolution (through element-wise
layers only: ReLU, Tanh, PReLU, BatchNorm...), rank its filters by L1 norm, remove the
weakest output channels, and remove the matching input channels of the next
convolution (and the matching entries of any per-channel layer in between). The result
is a new ``nn.Module`` with smaller weight tensors, not a mask: it is smaller on disk
and faster in any runtime. A short fine-tuning then recovers most of the lost quality.

Where channels cannot be removed without changing the computation (an output that
feeds a residual addition, a concatenation, a pixel shuffle, or more than one layer),
the layer is skipped with the reason; a model with no prunable layer at all raises
:class:`~fitroom.errors.NotCompressible` listing those reasons.

The graph is read with ``torch.fx.symbolic_trace``, so models with data-dependent
Python control flow in ``forward`` cannot be analysed (and say so).
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, fx, nn
from torch.nn import functional as F  # noqa: N812

from fitroom.compress.distill import Batch, DistillationConfig, LossFn, TrainingLog, distill
from fitroom.errors import InputError, NotCompressible

#: Modules that act on each channel independently with no per-channel parameters.
_ELEMENTWISE_MODULES: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Hardswish,
    nn.Identity,
    nn.Dropout,
    nn.Dropout2d,
)
_ELEMENTWISE_FUNCTIONS: frozenset[Callable[..., Any]] = frozenset(
    {
        F.relu,
        torch.relu,
        F.relu6,
        F.leaky_relu,
        F.elu,
        F.gelu,
        F.silu,
        torch.tanh,
        F.tanh,
        torch.sigmoid,
        F.sigmoid,
        F.hardswish,
        F.dropout,
    }
)
_ELEMENTWISE_METHODS = frozenset({"relu", "tanh", "sigmoid", "contiguous"})
_SCALAR_OPS: frozenset[Callable[..., Any]] = frozenset({operator.mul, operator.truediv, torch.mul})


@dataclass(frozen=True)
class ConvPair:
    """A producer conv whose output channels are exactly the consumer's input channels.

    ``between`` are the per-channel modules in the path that must be sliced too
    (BatchNorm2d, PReLU with one slope per channel).
    """

    producer: str
    consumer: str
    between: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrunedLayer:
    """One pruned convolution: how many output channels it had and has, which stayed."""

    producer: str
    consumer: str
    channels_before: int
    channels_after: int
    kept_channels: list[int] = field(repr=False)


@dataclass(frozen=True)
class PruneResult:
    """The smaller model and what was done to it."""

    model: nn.Module
    layers: list[PrunedLayer]
    #: Convolutions left as they are, with the reason.
    skipped: dict[str, str]
    parameters_before: int
    parameters_after: int


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _is_prunable_conv(module: nn.Module) -> bool:
    return (
        isinstance(module, nn.Conv2d)
        and module.groups == 1
        and module.padding_mode == "zeros"
        and module.out_channels > 1
    )


def _passes_channels(node: fx.Node, modules: dict[str, nn.Module]) -> tuple[bool, str | None]:
    """Whether ``node`` maps channel c to channel c only; and a module to slice, if any."""
    if node.op == "call_module":
        module = modules[str(node.target)]
        if isinstance(module, _ELEMENTWISE_MODULES):
            return True, None
        if isinstance(module, nn.PReLU | nn.BatchNorm2d):
            return True, str(node.target)
        return False, None
    if node.op == "call_function":
        if node.target in _ELEMENTWISE_FUNCTIONS:
            return True, None
        if node.target in _SCALAR_OPS:
            others = [a for a in node.args if not isinstance(a, fx.Node)]
            return len(others) == 1 and isinstance(others[0], int | float), None
        return False, None
    if node.op == "call_method":
        return str(node.target) in _ELEMENTWISE_METHODS, None
    return False, None


def _describe(node: fx.Node, modules: dict[str, nn.Module]) -> str:
    if node.op == "call_module":
        return f"{type(modules[str(node.target)]).__name__} ({node.target})"
    if node.op == "output":
        return "the model output"
    target = node.target
    return getattr(target, "__name__", str(target))


def find_prunable_pairs(model: nn.Module) -> tuple[list[ConvPair], dict[str, str]]:
    """Conv -> (element-wise)* -> conv chains, and why every other conv is not one."""
    try:
        graph = fx.symbolic_trace(model).graph
    except Exception as exc:
        raise NotCompressible(
            f"{type(model).__name__} cannot be analysed for structured pruning "
            f"(torch.fx could not trace forward: {type(exc).__name__}: {exc})",
            step="prune",
        ) from exc
    modules = dict(model.named_modules())
    uses: dict[str, int] = {}
    for node in graph.nodes:
        if node.op == "call_module":
            uses[str(node.target)] = uses.get(str(node.target), 0) + 1
    pairs: list[ConvPair] = []
    skipped: dict[str, str] = {}
    for node in graph.nodes:
        if node.op != "call_module" or not isinstance(modules[str(node.target)], nn.Conv2d):
            continue
        name = str(node.target)
        if not _is_prunable_conv(modules[name]):
            skipped[name] = "grouped/depthwise, non-zero padding mode, or a single channel"
            continue
        if uses[name] > 1:
            skipped[name] = "the same module is called more than once"
            continue
        between: list[str] = []
        current = node
        reason: str | None = None
        while True:
            users = list(current.users)
            if len(users) != 1:
                reason = f"its output feeds {len(users)} operations"
                break
            user = users[0]
            if user.op == "call_module" and isinstance(
                modules[str(user.target)], nn.Conv2d | nn.ConvTranspose2d
            ):
                consumer = modules[str(user.target)]
                if consumer.groups != 1 or uses[str(user.target)] > 1:
                    reason = f"the next conv {user.target} is grouped or shared"
                break
            passes, to_slice = _passes_channels(user, modules)
            if not passes:
                reason = f"its output feeds {_describe(user, modules)}"
                break
            if to_slice is not None:
                if uses[to_slice] > 1:
                    reason = f"{to_slice} is shared"
                    break
                between.append(to_slice)
            current = user
        if reason is not None:
            skipped[name] = reason
        else:
            pairs.append(ConvPair(name, str(next(iter(current.users)).target), tuple(between)))
    return pairs, skipped


def l1_filter_norms(conv: nn.Conv2d) -> Tensor:
    """L1 norm of each output filter (sum of |w| over input channels and kernel)."""
    return conv.weight.detach().abs().sum(dim=(1, 2, 3))


def _set_module(root: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child, module)


def _slice_conv_out(conv: nn.Conv2d, keep: Tensor) -> nn.Conv2d:
    """A copy of ``conv`` with only the output channels ``keep``."""
    new = copy.deepcopy(conv)
    new.weight = nn.Parameter(conv.weight.detach()[keep].clone())  # (out, in, kh, kw)
    if conv.bias is not None:
        new.bias = nn.Parameter(conv.bias.detach()[keep].clone())
    new.out_channels = len(keep)
    return new


def _slice_consumer_in(conv: nn.Module, keep: Tensor) -> nn.Module:
    """A copy of the next conv with only the input channels ``keep``."""
    if not isinstance(conv, nn.Conv2d | nn.ConvTranspose2d):
        raise NotCompressible(f"cannot slice the inputs of {type(conv).__name__}", step="prune")
    new = copy.deepcopy(conv)
    weight = conv.weight.detach()
    if isinstance(conv, nn.ConvTranspose2d):
        new.weight = nn.Parameter(weight[keep].clone())  # (in, out, kh, kw)
    else:
        new.weight = nn.Parameter(weight[:, keep].clone())  # (out, in, kh, kw)
    new.in_channels = len(keep)
    return new


def _slice_channelwise(module: nn.Module, keep: Tensor) -> nn.Module:
    """A copy of a per-channel layer (PReLU, BatchNorm2d) restricted to ``keep``."""
    if isinstance(module, nn.PReLU):
        prelu = copy.deepcopy(module)
        if module.num_parameters > 1:
            prelu.weight = nn.Parameter(module.weight.detach()[keep].clone())
            prelu.num_parameters = len(keep)
        return prelu
    if isinstance(module, nn.BatchNorm2d):
        norm = copy.deepcopy(module)
        norm.num_features = len(keep)
        if module.affine:
            norm.weight = nn.Parameter(module.weight.detach()[keep].clone())
            norm.bias = nn.Parameter(module.bias.detach()[keep].clone())
        if module.running_mean is not None and module.running_var is not None:
            norm.running_mean = module.running_mean[keep].clone()
            norm.running_var = module.running_var[keep].clone()
        return norm
    raise NotCompressible(f"cannot slice the channels of {type(module).__name__}", step="prune")


def prune_channels(model: nn.Module, ratio: float, *, min_channels: int = 1) -> PruneResult:
    """A copy of ``model`` with ``ratio`` of each prunable conv's output channels removed.

    The weakest filters by L1 norm go; ``round(channels * ratio)`` per layer, keeping at
    least ``min_channels``. The input model is not modified.
    """
    if not 0.0 < ratio < 1.0:
        raise InputError(f"pruning ratio must be in (0, 1); got {ratio}")
    pairs, skipped = find_prunable_pairs(model)
    if not pairs:
        reasons = "; ".join(f"{name}: {why}" for name, why in skipped.items()) or "no Conv2d"
        raise NotCompressible(
            f"{type(model).__name__} has no convolution whose channels can be removed "
            f"structurally ({reasons})",
            step="prune",
            skipped=skipped,
        )
    pruned = copy.deepcopy(model)
    layers: list[PrunedLayer] = []
    for pair in pairs:
        # Pairs never share a producer, but a consumer can be the next pair's producer:
        # read the current (possibly already input-sliced) module each time.
        producer = pruned.get_submodule(pair.producer)
        assert isinstance(producer, nn.Conv2d)
        channels = producer.out_channels
        keep_count = max(min_channels, channels - round(channels * ratio))
        if keep_count >= channels:
            skipped[pair.producer] = f"{channels} channels: nothing to remove at ratio {ratio}"
            continue
        norms = l1_filter_norms(producer)
        keep = torch.sort(torch.topk(norms, keep_count).indices).values
        _set_module(pruned, pair.producer, _slice_conv_out(producer, keep))
        for name in pair.between:
            _set_module(pruned, name, _slice_channelwise(pruned.get_submodule(name), keep))
        consumer = pruned.get_submodule(pair.consumer)
        _set_module(pruned, pair.consumer, _slice_consumer_in(consumer, keep))
        layers.append(
            PrunedLayer(pair.producer, pair.consumer, channels, keep_count, keep.tolist())
        )
    if not layers:
        raise NotCompressible(
            f"pruning ratio {ratio} removes no channel from any layer of {type(model).__name__}",
            step="prune",
            skipped=skipped,
        )
    pruned.eval()
    return PruneResult(
        model=pruned,
        layers=layers,
        skipped=skipped,
        parameters_before=count_parameters(model),
        parameters_after=count_parameters(pruned),
    )


def fine_tune(
    model: nn.Module,
    batches: Iterator[Batch],
    steps: int,
    *,
    learning_rate: float = 1e-4,
    loss_fn: LossFn = F.l1_loss,
    seed: int = 0,
) -> TrainingLog:
    """Train a pruned model in place for ``steps`` batches (Adam, cosine decay)."""
    torch.manual_seed(seed)
    return distill(
        model,
        None,
        batches,
        DistillationConfig(
            steps=steps, learning_rate=learning_rate, seed=seed, log_every=max(1, steps // 10)
        ),
        loss_fn=loss_fn,
    )
