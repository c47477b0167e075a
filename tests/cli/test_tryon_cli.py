"""``fitroom tryon``: person and garment photos in, the dressed photo (and masks) out.

Refusals print the message and the advice and exit 2, writing nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fitroom.cli import app
from tests.conftest import data_dir

TRYON = data_dir() / "tryon"
PERSON = TRYON / "person" / "00034_00.jpg"
GARMENT = TRYON / "garment" / "00126_00.jpg"
pytestmark = pytest.mark.skipif(
    not (PERSON.is_file() and GARMENT.is_file()),
    reason=f"VITON-HD try-on photos not found in {TRYON} (set FITROOM_DATA_DIR)",
)


def test_tryon_writes_the_image_and_debug_masks(tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    debug = tmp_path / "debug"
    args = ["tryon", str(PERSON), str(GARMENT), "--category", "upper", "-o", str(out)]
    result = CliRunner().invoke(app, [*args, "--debug-dir", str(debug), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    with Image.open(PERSON) as person, Image.open(out) as dressed:
        assert dressed.format == "PNG" and dressed.size == person.size
        assert report["size_px"] == list(person.size)
    assert report["agnostic_input"] is False
    names = {"region", "garment_alpha", "skin", "front", "garment_landmarks"}
    assert {p.stem for p in debug.iterdir()} == names
    region = np.asarray(Image.open(debug / "region.png"))
    assert region.shape == (report["size_px"][1], report["size_px"][0])
    assert set(np.unique(region).tolist()) == {0, 255}
    cut_out = np.asarray(Image.open(debug / "garment_landmarks.png"))
    assert cut_out.shape[2] == 4
    # The landmarks are drawn in pure-ish red on the garment's cut-out.
    x, y = (round(v) for v in report["garment_landmarks"]["neck"])
    assert tuple(cut_out[y, x]) == (255, 0, 0, 255)


def test_tryon_jpeg_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jpg"
    result = CliRunner().invoke(app, ["tryon", str(PERSON), str(GARMENT), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout
    with Image.open(out) as dressed:
        assert dressed.format == "JPEG"


@pytest.mark.parametrize(
    ("person", "garment", "extra", "message"),
    [
        (GARMENT, GARMENT, [], "no person was found"),
        (PERSON, GARMENT, ["--category", "hat"], "is unknown"),
        (PERSON, TRYON / "missing.jpg", [], "no such photo"),
    ],
)
def test_tryon_refusals_print_message_and_advice(
    tmp_path: Path, person: Path, garment: Path, extra: list[str], message: str
) -> None:
    out = tmp_path / "out.png"
    result = CliRunner().invoke(app, ["tryon", str(person), str(garment), "-o", str(out), *extra])
    assert result.exit_code == 2
    assert message in result.output
    if message == "no person was found":
        assert "advice: use a photo of one person" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
