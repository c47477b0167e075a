"""Content features: text embeddings (offline MiniLM), colour histograms, neighbour table."""

from __future__ import annotations

import numpy as np

from fitroom.recsys.content import COLOUR_DIM, colour_features, embed_texts, neighbour_table


def test_text_embeddings_are_offline_unit_vectors_and_close_for_close_texts() -> None:
    vectors = embed_texts(["navy wool overcoat", "dark blue wool coat", "running shoes", ""])
    assert vectors.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5)
    assert not vectors[3].any()  # no text, no vector
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_colour_features_ignore_the_plain_background() -> None:
    photo = np.full((64, 64, 3), 245, np.uint8)  # studio white
    photo[16:48, 16:48] = (20, 30, 120)  # a navy garment
    same_on_grey = np.full((64, 64, 3), 128, np.uint8)
    same_on_grey[8:56, 8:56] = (20, 30, 120)
    red = photo.copy()
    red[16:48, 16:48] = (200, 20, 20)
    a, b, c = colour_features(photo), colour_features(same_on_grey), colour_features(red)
    assert a.shape == (COLOUR_DIM,)
    assert a @ b > 0.99 and a @ c < 0.1
    assert not colour_features(np.full((8, 8, 3), 200, np.uint8)).any()


def test_neighbour_table_keeps_the_most_alike_positive_neighbours() -> None:
    v = np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], np.float32)
    table = neighbour_table(v, neighbours=1, block=2).toarray()
    assert np.count_nonzero(table[0]) == 1 and table[0, 1] == np.float32(0.8)
    assert table[2, 1] == np.float32(0.6)
    assert not table[3].any()  # nothing positive for the opposite vector
    assert np.all(np.diag(table) == 0)
