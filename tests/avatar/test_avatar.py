"""Avatar fitting and glTF export on real Anny bodies whose measurements are known.

A sampled Anny body is measured; the fit must find a body that measures the same
(the answer is known to be reachable up to the shape changes the fit does not use).
All Anny tests share one xdist group so one worker builds Anny's cache once.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from fitroom.avatar.export import avatar_glb
from fitroom.avatar.fit import FIT_TARGETS, AvatarFit, fit_avatar
from fitroom.body.anny_model import build_meshes, sample_body_params
from fitroom.body.mesh_measure import measure_mesh
from fitroom.errors import InputError, LikelyWrongUnit
from fitroom.services.avatars import targets_from_document

pytestmark = pytest.mark.xdist_group("anny")


@pytest.fixture(scope="module")
def known_body() -> tuple[dict[str, float], str]:
    params = next(p for p in sample_body_params(np.random.default_rng(3), 6) if p.sex == "female")
    truth = measure_mesh(build_meshes([params], "scan")[0]).to_dict()
    return {name: float(truth[name]) for name in FIT_TARGETS}, params.sex


@pytest.fixture(scope="module")
def fitted(known_body: tuple[dict[str, float], str]) -> AvatarFit:
    targets, sex = known_body
    return fit_avatar(targets, "female" if sex == "female" else "male")


def test_fit_reproduces_a_known_body(fitted: AvatarFit) -> None:
    residual = fitted.residual_cm
    assert abs(residual["stature_cm"]) < 0.5
    for name in ("chest_cm", "waist_cm", "hip_cm"):
        assert abs(residual[name]) < 1.0, (name, residual)
    for name in ("thigh_cm", "neck_cm", "shoulder_breadth_cm", "arm_length_cm", "inseam_cm"):
        assert abs(residual[name]) < 2.5, (name, residual)


def test_fit_with_only_some_targets_leaves_the_rest_to_the_model() -> None:
    fit = fit_avatar({"stature_cm": 180.0, "waist_cm": 95.0}, "male")
    assert abs(fit.achieved_cm["stature_cm"] - 180.0) < 0.5
    assert abs(fit.achieved_cm["waist_cm"] - 95.0) < 1.0
    assert 85.0 < fit.achieved_cm["chest_cm"] < 130.0


def test_glb_is_valid_gltf_with_levels_and_fit(fitted: AvatarFit) -> None:
    data = avatar_glb(fitted)
    magic, version, length = struct.unpack("<4sII", data[:12])
    assert magic == b"glTF" and version == 2 and length == len(data)
    chunk_length, chunk_type = struct.unpack("<I4s", data[12:20])
    assert chunk_type == b"JSON"
    document = json.loads(data[20 : 20 + chunk_length])
    extras = document["scenes"][0]["extras"]
    assert set(extras["level_heights_m"]) >= {"chest", "waist", "hip"}
    assert extras["fit"]["measurements"]["waist_cm"]["target_cm"] > 0
    position = document["accessors"][
        document["meshes"][0]["primitives"][0]["attributes"]["POSITION"]
    ]
    height_m = position["max"][1] - position["min"][1]
    assert abs(height_m * 100 - fitted.achieved_cm["stature_cm"]) < 0.5
    assert position["count"] == fitted.mesh.vertices_m.shape[0]


def test_scan_answer_and_flat_documents_give_the_same_targets() -> None:
    scan = {
        "height_cm": 165.0,
        "sex": "female",
        "measurements": {"waist_cm": {"value_cm": 72.0, "plus_minus_cm": 2.0}},
    }
    flat = {"sex": "female", "stature_cm": 165.0, "waist_cm": 72.0}
    assert targets_from_document(scan) == targets_from_document(flat)


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ({"stature_cm": 170}, InputError),
        ({"sex": "female", "waist_cm": 70}, InputError),
        ({"sex": "female", "stature_cm": 170, "elbow_cm": 3}, InputError),
        ({"sex": "female", "stature_cm": 170, "waist_cm": "wide"}, InputError),
        ({"sex": "female", "stature_cm": 67}, LikelyWrongUnit),
        ({"sex": "female", "stature_cm": 170, "waist_cm": 29}, LikelyWrongUnit),
    ],
)
def test_bad_documents_are_refused(document: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        targets_from_document(document)
