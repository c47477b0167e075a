"""The neighbour table's scoring on a hand-made table whose answers are known."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from fitroom.recsys.itemknn import FEW_HISTORIES, ItemKNN


def knn_with_table(decay: float) -> ItemKNN:
    model = ItemKNN(decay=decay)
    # Item 0's neighbours: 1 (0.5) and 2 (0.25); item 1's: 3 (1.0); item 2: none;
    # item 3's: 0 (0.125).
    model.sim = sp.csr_matrix(
        np.array([[0, 0.5, 0.25, 0], [0, 0, 0, 1.0], [0, 0, 0, 0], [0.125, 0, 0, 0]], np.float32)
    )
    model.counts = np.array([4.0, 3.0, 2.0, 1.0])
    model.item_ids = ["a", "b", "c", "d"]
    return model


def test_one_history_sums_its_items_rows_weighted_by_age() -> None:
    model = knn_with_table(decay=0.5)
    # Newest item 1 weighs 1, item 0 before it 0.5, item 3 before that 0.25.
    scores = model.score([np.array([3, 0, 1])])[0]
    tie_break = 1e-6 * model.counts / model.counts.max()
    expected = np.array([0.25 * 0.125, 0.5 * 0.5, 0.5 * 0.25, 1.0]) + tie_break
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    # An item seen twice counts twice; an empty history gets popularity alone.
    twice = model.score([np.array([0, 0])])[0] - tie_break
    np.testing.assert_allclose(twice, [0, 1.5 * 0.5, 1.5 * 0.25, 0], atol=1e-7)
    np.testing.assert_allclose(model.score([np.array([], np.int64)])[0], tie_break, rtol=1e-6)


def test_a_request_and_a_batch_score_the_same() -> None:
    model = knn_with_table(decay=0.7)
    rng = np.random.default_rng(0)
    histories = [rng.integers(0, 4, size=n) for n in range(3 * FEW_HISTORIES)]
    batch = model.score(histories)  # more than FEW_HISTORIES: one sparse product
    one_by_one = np.stack([model.score([h])[0] for h in histories])
    np.testing.assert_allclose(one_by_one, batch, rtol=1e-6, atol=1e-9)
