"""``fitroom avatar``: measurements file in, .glb out; bad files are a message and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fitroom.cli import app

pytestmark = pytest.mark.xdist_group("anny")


def test_avatar_from_plain_numbers(tmp_path: Path) -> None:
    source = tmp_path / "m.json"
    source.write_text(json.dumps({"height_cm": 172, "waist_cm": 80, "hip_cm": 100}))
    out = tmp_path / "body.glb"
    result = CliRunner().invoke(
        app, ["avatar", "--measurements", str(source), "-o", str(out), "--sex", "female", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"glTF"
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert abs(report["measurements"]["stature_cm"]["difference_cm"]) <= 0.5
    assert abs(report["measurements"]["waist_cm"]["difference_cm"]) <= 1.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"sex": "female", "height_cm": 65}), "inches"),
        (json.dumps({"height_cm": 170}), "sex"),
    ],
)
def test_avatar_bad_files(tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "m.json"
    source.write_text(content)
    result = CliRunner().invoke(
        app, ["avatar", "--measurements", str(source), "-o", str(tmp_path / "x.glb")]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x.glb").exists()
