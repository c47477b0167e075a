"""Sequence files and the leave-one-out split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fitroom.errors import InputError
from fitroom.recsys.data import Interactions, leave_one_out, load_sequence_file


def test_sequence_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "seq.txt"
    path.write_text("1 10 11 12 13\n2 11 12\n\n3 14 10 12\n", encoding="utf-8")
    data = load_sequence_file(path)
    assert data.user_ids == ["1", "2", "3"]
    assert data.item_ids == ["10", "11", "12", "13", "14"]
    assert [data.item_ids[i] for i in data.sequences[2]] == ["14", "10", "12"]
    assert data.n_interactions == 9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 10 11\n2\n", ":2: user '2' has no items"),
        ("1 10 11\n1 12 13\n", ":2: user '1' listed twice"),
        ("", "has no sequences"),
    ],
)
def test_malformed_sequence_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_sequence_file(path)


def test_missing_and_binary_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such dataset"):
        load_sequence_file(tmp_path / "nope.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="not UTF-8"):
        load_sequence_file(tmp_path / "bin.txt")


def test_leave_one_out_holds_out_the_last_two_items() -> None:
    data = Interactions.from_sequences(["a", "b"], [["1", "2", "3", "4"], ["5", "6"]])
    split = leave_one_out(data)
    assert [data.item_ids[i] for i in split.train[0]] == ["1", "2"]
    assert [data.item_ids[i] for i in split.train[1]] == ["5", "6"]  # too short: not evaluated
    assert split.eval_users.tolist() == [0]
    assert data.item_ids[split.valid_targets[0]] == "3"
    assert data.item_ids[split.test_targets[0]] == "4"
    assert [data.item_ids[i] for i in split.test_histories()[0]] == ["1", "2", "3"]
    assert np.array_equal(split.valid_histories()[0], split.train[0])
