"""Known targets: shipped SR folders are found and loaded; unknown names are listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from fitroom.compress.targets import (
    SuperResolutionEval,
    find_shipped_superres,
    get_target,
    known_targets,
)
from fitroom.errors import InputError, ModelError
from fitroom.superres.models import build_model
from tests.compress.tiny import DATA_DIR, ship


def test_shipped_folders_become_targets(tmp_path: Path) -> None:
    original = ship(tmp_path, "espcn_x2", "espcn", 2)
    (tmp_path / "half_written").mkdir()  # no config.json / model.pt: ignored
    assert known_targets(tmp_path, body_models_dir=tmp_path / "none") == ["superres/espcn_x2"]
    (shipped,) = find_shipped_superres(tmp_path)
    assert (shipped.architecture, shipped.scale) == ("espcn", 2)
    target = get_target("superres/espcn_x2", DATA_DIR, models_dir=tmp_path)
    loaded = target.load_model()
    x = torch.rand(1, 3, 8, 8)
    assert torch.equal(loaded(x), original.eval()(x))
    assert target.metric == "Set5 x2 Y-PSNR (dB)"
    assert target.inputs[0].dynamic_axes == {0: "batch", 2: "height", 3: "width"}


def test_unknown_target_lists_the_known_ones(tmp_path: Path) -> None:
    ship(tmp_path, "fitsr_x4", "fitsr", 4)
    with pytest.raises(InputError) as info:
        get_target("superres/fitsr_x3", DATA_DIR, models_dir=tmp_path)
    assert "known: superres/fitsr_x4, body_measure/front" in info.value.message
    assert info.value.details["known"] == [
        "superres/fitsr_x4",
        "body_measure/front",
        "body_measure/front_side",
    ]
    none = tmp_path / "none"
    with pytest.raises(InputError, match="none shipped yet"):
        get_target("superres/fitsr_x4", DATA_DIR, models_dir=none, body_models_dir=none)
    # No recommender served: recsys/sasrec is not listed, and asking says how to get one.
    with pytest.raises(InputError, match=r"none is served yet: train one .*fitroom recsys train"):
        get_target("recsys/sasrec", DATA_DIR, models_dir=tmp_path / "empty")


def test_weights_that_do_not_match_the_config_are_a_model_error(tmp_path: Path) -> None:
    ship(tmp_path, "espcn_x4", "espcn", 4)
    config = {"model": "fsrcnn", "scale": 4}
    (tmp_path / "espcn_x4" / "config.json").write_text(json.dumps(config))
    target = get_target("superres/espcn_x4", DATA_DIR, models_dir=tmp_path)
    with pytest.raises(ModelError, match=r"does not match its config\.json"):
        target.load_model()


@pytest.mark.data
@pytest.mark.skipif(not (DATA_DIR / "superres" / "Set5").is_dir(), reason="no Set5 data")
def test_set5_bicubic_x4_matches_the_published_figure() -> None:
    # Published: bicubic x4 on Set5, Y-PSNR 28.42 dB (MATLAB imresize protocol).
    evaluation = SuperResolutionEval.set5(DATA_DIR, scale=4)
    assert evaluation.evaluate_torch(build_model("bicubic", 4)) == pytest.approx(28.42, abs=0.05)
