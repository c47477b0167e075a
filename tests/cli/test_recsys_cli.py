"""``fitroom recsys train``, run as a user would run it (a subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fitroom.config import Settings
from fitroom.store.db import Database
from tests.cli.test_cli import fitroom
from tests.recsys.conftest import two_worlds
from tests.recsys_shop import seed_shop

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def test_train_writes_versions_and_reports(settings: Settings, db: Database) -> None:
    empty = fitroom(settings, "recsys", "train")
    assert empty.returncode == 2
    assert "the catalogue has no products" in empty.stderr
    assert "Traceback" not in empty.stderr

    seed_shop(db)
    first = fitroom(settings, "recsys", "train", "--json")
    assert first.returncode == 0, first.stderr
    meta = json.loads(first.stdout)
    assert meta["version"] == "v0001" and meta["model"] == "hybrid" and meta["events"] == 28

    second = fitroom(settings, "recsys", "train")
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("recommender v0002 (hybrid) trained in")
    assert "fitting 1/1" in second.stderr  # progress, on stderr
    current = settings.resolved_recsys_dir / "current"
    assert current.read_text().strip() == "v0002"


def _write_two_worlds(path: Path) -> None:
    data = two_worlds()
    lines = [
        " ".join([user, *(data.item_ids[i] for i in seq)])
        for user, seq in zip(data.user_ids, data.sequences, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_eval_reports_every_model_as_json(settings: Settings, tmp_path: Path, backend: str) -> None:
    path = tmp_path / "worlds.txt"
    _write_two_worlds(path)
    out = tmp_path / "report.json"
    result = fitroom(
        settings,
        "recsys",
        "eval",
        "--dataset",
        str(path),
        "--models",
        "pop,itemknn",
        "--threads",
        "1",
        "--out",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == ["pop", "itemknn"]
    # Walks through a world in order: item-kNN finds the next items, popularity cannot.
    assert report["itemknn"]["test"]["hr_at_10"] > 0.9
    assert report["itemknn"]["test"]["ndcg_at_10"] > 2 * report["pop"]["test"]["ndcg_at_10"]
    assert len(report["itemknn"]["tried"]) > 1  # settings chosen on validation
    saved = json.loads(out.read_text())
    assert saved["dataset"]["users"] == 240 and "full ranking" in saved["protocol"]


def test_eval_refuses_bad_input(settings: Settings, tmp_path: Path, backend: str) -> None:
    path = tmp_path / "worlds.txt"
    _write_two_worlds(path)
    unknown = fitroom(settings, "recsys", "eval", "--dataset", str(path), "--models", "pop,gru4rec")
    assert unknown.returncode == 2 and "unknown model(s) gru4rec" in unknown.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("1 10 11\n2\n", encoding="utf-8")
    malformed = fitroom(settings, "recsys", "eval", "--dataset", str(bad))
    assert malformed.returncode == 2 and "bad.txt:2: user '2' has no items" in malformed.stderr
    assert "Traceback" not in malformed.stderr + unknown.stderr


def test_train_on_a_schedule(settings: Settings, db: Database, backend: str) -> None:
    seed_shop(db)
    result = fitroom(settings, "recsys", "train", "--every", "0.001", "--runs", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("the API serves it now (onnx)") == 2
    assert (settings.resolved_recsys_dir / "current").read_text().strip() == "v0002"
    bad = fitroom(settings, "recsys", "train", "--every", "0")
    assert bad.returncode == 2 and "--every must be a positive" in bad.stderr
