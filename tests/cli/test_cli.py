"""The fitroom command line, run as a user would run it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fitroom.config import Settings
from fitroom.store.db import Database

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def fitroom(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FITROOM_VAR_DIR": str(settings.var_dir),
        "FITROOM_ADMIN_API_KEY": "cli-key",
    }
    return subprocess.run(
        [sys.executable, "-m", "fitroom", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_is_fast(settings: Settings) -> None:
    start = time.perf_counter()
    result = fitroom(settings, "--help")
    elapsed_s = time.perf_counter() - start
    assert result.returncode == 0
    assert "size" in result.stdout and "serve" in result.stdout
    assert elapsed_s < 3.0  # generous: guards against heavy imports at start-up
    heavy = subprocess.run(
        [sys.executable, "-c", "import fitroom.cli, sys; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for module in ("'numpy'", "'sqlalchemy'", "'fastapi'", "'torch'"):
        assert module not in heavy


def test_db_upgrade_then_recommend_and_estimate(settings: Settings, seeded_db: Database) -> None:
    assert fitroom(settings, "db", "upgrade").returncode == 0
    result = fitroom(
        settings,
        "size",
        "recommend",
        "--chart",
        "acme-men-tops",
        "--chest-cm",
        "100",
        "--waist-cm",
        "88",
        "--fit",
        "regular",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["size"] == "M"

    text = fitroom(settings, "size", "recommend", "--chart", "acme-men-tops", "--chest-cm", "100")
    assert "recommended size: M" in text.stdout

    estimate = fitroom(
        settings,
        "size",
        "estimate",
        "--height-cm",
        "178",
        "--weight-kg",
        "80",
        "--sex",
        "male",
        "--json",
    )
    assert estimate.returncode == 0, estimate.stderr
    assert 92 < json.loads(estimate.stdout)["measurements"]["chest"]["value_cm"] < 108


def test_user_mistakes_exit_2_without_traceback(settings: Settings, seeded_db: Database) -> None:
    result = fitroom(settings, "size", "recommend", "--chart", "acme-men-tops", "--waist-cm", "32")
    assert result.returncode == 2
    assert "looks like inches" in result.stderr
    assert "Traceback" not in result.stderr

    missing = fitroom(
        settings, "size", "recommend", "--chart", "nope", "--chest-cm", "100", "--json"
    )
    assert missing.returncode == 2
    assert json.loads(missing.stdout)["error"]["type"] == "not-found"

    both = fitroom(settings, "size", "recommend", "--chest-cm", "100")
    assert both.returncode == 2 and "exactly one of product_id or chart_id" in both.stderr


def test_import_reports_rows(settings: Settings, seeded_db: Database, tmp_path: Path) -> None:
    bad = tmp_path / "products.csv"
    bad.write_text(
        "product_id,brand_id,chart_id,category,gender,title,price,sizes\n"
        "acme-z,acme,acme-men-tops,tops,men,Tee Z,ten,S:1\n"
    )
    result = fitroom(settings, "import", "products", str(bad))
    assert result.returncode == 2
    assert "row 2: price" in result.stderr
