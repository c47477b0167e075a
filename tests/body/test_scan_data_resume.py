"""scripts/make_body_scan_data.py stops and goes on: the same file as one whole run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_body_scan_data.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_body_scan_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.BATCH = 1  # one body per batch keeps this test to a few renders
    return module


def run(script: ModuleType, out: Path, *extra: str) -> None:
    argv = ["make_body_scan_data.py", "--bodies", "3", "--seed", "9", "--out", str(out)]
    old, sys.argv = sys.argv, [*argv, "--loose-top-share", "0.5", *extra]
    try:
        script.main()
    finally:
        sys.argv = old


def test_a_stopped_run_goes_on_to_the_same_file(script: ModuleType, tmp_path: Path) -> None:
    whole = tmp_path / "whole.npz"
    run(script, whole)
    assert not Path(f"{whole}.partial.pkl").exists()  # removed once the file is written

    pieces = tmp_path / "pieces.npz"
    run(script, pieces, "--stop-after-minutes", "0")  # stops after the first body
    partial = Path(f"{pieces}.partial.pkl")
    assert partial.is_file() and not pieces.exists()
    run(script, pieces)
    assert pieces.is_file() and not partial.exists()

    with np.load(whole) as a, np.load(pieces) as b:
        assert a.files == b.files
        for name in a.files:
            if name != "meta_json":
                np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        assert len(a["height_cm"]) == 3


def test_a_partial_file_of_other_settings_is_refused(script: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "data.npz"
    run(script, out, "--stop-after-minutes", "0")
    with pytest.raises(SystemExit, match="other settings"):
        run(script, out, "--split", "test")
    assert Path(f"{out}.partial.pkl").is_file()  # kept for the command that made it
