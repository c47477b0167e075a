"""``fitroom compress``: user mistakes exit 2 with a message, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from fitroom.compress.cli import ToOpt, _compress, compress_command
from tests.compress.tiny import DATA_DIR, ship

app = typer.Typer()
app.command("compress")(compress_command)
app.command("noop")(lambda: None)  # two commands, so "compress" is a sub-command


def test_unknown_model_exits_2_with_the_known_list() -> None:
    result = CliRunner().invoke(app, ["compress", "superres/no_such_x4"])
    assert result.exit_code == 2
    assert "unknown model 'superres/no_such_x4'; known:" in result.output
    assert "Traceback" not in result.output


def test_unknown_model_as_json() -> None:
    result = CliRunner().invoke(app, ["compress", "nope", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "invalid-input"
    assert error["field"] == "model"


def test_list_prints_known_targets() -> None:
    result = CliRunner().invoke(app, ["compress", "list", "--json"])
    assert result.exit_code == 0
    assert isinstance(json.loads(result.stdout), list)


def test_missing_calibration_folder_is_reported() -> None:
    result = CliRunner().invoke(app, ["compress", "x", "--calibration", "/no/such/dir"])
    assert result.exit_code == 2
    assert "calibration folder /no/such/dir does not exist" in result.output


@pytest.mark.data
@pytest.mark.skipif(not (DATA_DIR / "superres" / "Set5").is_dir(), reason="no Set5/T91 data")
def test_chain_on_a_shipped_sr_model(tmp_path: Path) -> None:
    # An (untrained) ESPCN x2 shipped into a temporary models folder, end to end.
    ship(tmp_path / "models", "espcn_x2", "espcn", 2)
    result = _compress(
        "superres/espcn_x2",
        ToOpt.onnx_int8,
        None,
        budget=100.0,
        out=tmp_path / "out",
        prune=[0.5],
        fine_tune_steps=3,
        threads=1,
        runs=2,
        data_dir=DATA_DIR,
        quiet=True,
        models_dir=tmp_path / "models",
    )
    names = [row["name"] for row in result["rows"]]
    assert names == [
        "torch fp32",
        "onnx fp32",
        "onnx int8 (static)",
        "control: fine-tuned, unpruned onnx fp32",
        "pruned 50% onnx fp32",
        "pruned 50% onnx int8 (static)",
    ]
    assert result["metric"] == "Set5 x2 Y-PSNR (dB)"
    assert result["rows"][1]["quality_delta"] == pytest.approx(0.0, abs=1e-3)
    assert result["chosen"] in names
    assert Path(result["report_md"]).is_file()
