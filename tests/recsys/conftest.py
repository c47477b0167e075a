"""Interaction data whose right answers are known, shared by the recsys tests."""

from __future__ import annotations

import numpy as np
import pytest

from fitroom.recsys.data import Interactions

WORLD_A = [f"a{i}" for i in range(6)]
WORLD_B = [f"b{i}" for i in range(6)]


def two_worlds(n_users: int = 240, seed: int = 0) -> Interactions:
    """Shoppers stay in one world (A or B) and walk it in order: a0 -> a1 -> a2 ...

    Each shopper starts at one of the first three items of their world and takes 3-5
    steps, so the next item after ``[a1, a2]`` is a3 and items of the other world never
    co-occur. Every other B shopper also ends with b5.
    ``new-item`` is in the catalogue with no interactions (a cold-start product).
    """
    rng = np.random.default_rng(seed)
    users, seqs = [], []
    for u in range(n_users):
        world = WORLD_A if u % 2 == 0 else WORLD_B
        start = int(rng.integers(0, 3))
        length = int(rng.integers(3, 6))
        seq = [world[(start + i) % len(world)] for i in range(length)]
        if world is WORLD_B and u % 4 == 1 and "b5" not in seq:
            seq.append("b5")
        users.append(f"u{u}")
        seqs.append(seq)
    return Interactions.from_sequences(users, seqs, item_ids=WORLD_A + WORLD_B + ["new-item"])


@pytest.fixture(scope="session")
def worlds() -> Interactions:
    return two_worlds()
