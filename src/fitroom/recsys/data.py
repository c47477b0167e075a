"""Interaction data: shoppers' item sequences in time order, and the leave-one-out split."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import InputError

#: Item indexes of one shopper's history, oldest first.
History = NDArray[np.int64]


@dataclass(frozen=True)
class Interactions:
    """Every shopper's items in time order, with the string ids behind the indexes."""

    user_ids: list[str]
    item_ids: list[str]
    sequences: list[History]

    def __post_init__(self) -> None:
        if len(self.user_ids) != len(self.sequences):
            raise ValueError("one sequence per user")

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return int(sum(len(s) for s in self.sequences))

    @classmethod
    def from_sequences(
        cls, users: Sequence[str], sequences: Sequence[Sequence[str]], item_ids: Iterable[str] = ()
    ) -> Interactions:
        """Index string sequences; ``item_ids`` adds items nobody has touched yet."""
        index: dict[str, int] = {}
        for item in item_ids:
            index.setdefault(item, len(index))
        encoded: list[History] = []
        for seq in sequences:
            encoded.append(np.array([index.setdefault(i, len(index)) for i in seq], np.int64))
        return cls(list(users), list(index), encoded)


def item_counts(histories: Sequence[History], n_items: int) -> NDArray[np.float32]:
    """Interactions per item over all histories."""
    flat = np.concatenate(list(histories)) if histories else np.zeros(0, np.int64)
    return np.bincount(flat, minlength=n_items).astype(np.float32)


def popularity_prior(counts: NDArray[np.float32]) -> NDArray[np.float32]:
    """Interaction counts scaled to [0, 1]: the answer for an empty history."""
    scaled: NDArray[np.float32] = (counts / max(float(counts.max(initial=0.0)), 1.0)).astype(
        np.float32
    )
    return scaled


def load_sequence_file(path: Path) -> Interactions:
    """Read ``user item item ...`` lines (items oldest first), as in S3Rec's Amazon files.

    A malformed file is refused with the line number: a line with a user and no items,
    or a user listed twice.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no such dataset file: {path}", field="dataset") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text", field="dataset") from None
    users: list[str] = []
    seqs: list[list[str]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 2:
            raise InputError(
                f"{path}:{number}: user {parts[0]!r} has no items "
                "(expected 'user item item ...', items oldest first)",
                field="dataset",
            )
        if parts[0] in seen:
            raise InputError(f"{path}:{number}: user {parts[0]!r} listed twice", field="dataset")
        seen.add(parts[0])
        users.append(parts[0])
        seqs.append(parts[1:])
    if not users:
        raise InputError(f"{path} has no sequences", field="dataset")
    return Interactions.from_sequences(users, seqs)


@dataclass(frozen=True)
class LeaveOneOut:
    """Last item is the test target, second last the validation target.

    ``train`` holds each sequence without its last two items (models are fitted on it);
    users with fewer than 3 items keep all of them in ``train`` and are not evaluated.
    """

    train: list[History]
    eval_users: NDArray[Any]
    valid_targets: NDArray[Any]
    test_targets: NDArray[Any]

    def valid_histories(self) -> list[History]:
        return [self.train[u] for u in self.eval_users]

    def test_histories(self) -> list[History]:
        return [
            np.append(self.train[u], t)
            for u, t in zip(self.eval_users, self.valid_targets, strict=True)
        ]


def leave_one_out(data: Interactions) -> LeaveOneOut:
    train: list[History] = []
    users: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for u, seq in enumerate(data.sequences):
        if len(seq) < 3:
            train.append(seq)
            continue
        train.append(seq[:-2])
        users.append(u)
        valid.append(int(seq[-2]))
        test.append(int(seq[-1]))
    return LeaveOneOut(
        train, np.array(users, np.int64), np.array(valid, np.int64), np.array(test, np.int64)
    )
