"""Anny parametric bodies (NAVER Labs, Apache-2.0) as meshes for synthetic training data.

Anny's world is Z up, metres, body facing -Y, the body's left on +X, the root (pelvis)
at the origin. ``BodyMesh`` turns that into the frame the renderer and the measurements
use: Y up, feet on y = 0, body facing +Z, the midpoint of the hip joints on x = z = 0
(a proper rotation, so the body's left stays on +X and face winding is kept).

Anny's identity pose (its rest pose) is already an A-pose: upper arms about 40 degrees
from the body sides, elbows bent forwards about 45 degrees, ankles ~0.45 m apart. The
"scan" pose straightens the elbows, sets the arm abduction and narrows the stance.

Heavy imports (torch, anny) happen inside the functions, never at import time.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import InputError

if TYPE_CHECKING:
    import torch

Sex = Literal["male", "female"]
Pose = Literal["scan", "neutral"]

#: Anny local changes (MakeHuman "measure"/torso/hip/leg targets) the sampler varies.
#: Each takes a value in [-1, 1]: +1 is the full "...-incr" target, -1 its "decr"
#: opposite. Measured effect of +-1 on an average man (anny 0.6.2): waist-circ
#: +-10 cm waist, stomach-pregnant +12 cm waist, upperleg-height +10/-7.5 cm stature,
#: the others 2-9 cm of surface displacement.
LOCAL_CHANGE_LABELS: tuple[str, ...] = (
    "torso-scale-horiz-incr",
    "torso-scale-depth-incr",
    "torso-vshape-incr",
    "torso-muscle-pectoral-incr",
    "measure-waist-circ-incr",
    "measure-bust-circ-incr",
    "measure-underbust-circ-incr",
    "measure-hips-circ-incr",
    "measure-shoulder-dist-incr",
    "measure-napetowaist-dist-incr",
    "measure-waisttohip-dist-incr",
    "hip-scale-horiz-incr",
    "hip-scale-depth-incr",
    "stomach-pregnant-incr",
    "buttocks-volume-incr",
    "measure-thigh-circ-incr",
    "measure-upperleg-height-incr",
    "measure-lowerleg-height-incr",
    "measure-upperarm-circ-incr",
    "measure-upperarm-length-incr",
    "measure-lowerarm-length-incr",
    "measure-neck-circ-incr",
)
#: Local changes that lengthen a segment (and so change stature): drawn narrower.
_LENGTH_CHANGES = frozenset(
    {
        "measure-napetowaist-dist-incr",
        "measure-waisttohip-dist-incr",
        "measure-upperleg-height-incr",
        "measure-lowerleg-height-incr",
        "measure-upperarm-length-incr",
        "measure-lowerarm-length-incr",
    }
)

#: Anny's own morphological-age calibration (data/shape_calibration): slider 0.77 is
#: 18 years, 0.83 is 64 years, 1.0 is 110 years (linear in between).
ADULT_AGE_RANGE = (0.77, 0.85)
#: Stature is linear in the height slider (about 1.09 m per unit at fixed sex and age:
#: a man is 1.35 m at 0, 1.79 m at 0.4; a woman 0.13 m shorter). Above ~0.65 bodies
#: get implausibly tall, below ~0.1 implausibly short.
ADULT_HEIGHT_RANGE = (0.1, 0.65)

# Anny's Anthropometry BMI (mesh volume x 980 kg/m^3 / stature^2) of a 40-year-old
# (age 0.8, height 0.38, other sliders 0.5), rows muscle 0, 0.2 ... 1, columns weight
# 0, 0.2 ... 1; measured with anny 0.6.2. Height changes these by < 1 BMI unit. Weight
# only widens BMI at low muscle: "averagemuscle" bodies stay near 20-24 for any weight.
_SLIDER_GRID = np.linspace(0.0, 1.0, 6)
_BMI_TABLE: dict[Sex, NDArray[np.float64]] = {
    "male": np.array(
        [
            [14.9, 18.3, 22.2, 27.2, 33.6, 40.9],
            [16.9, 19.4, 22.1, 25.3, 29.2, 33.5],
            [19.1, 20.5, 22.0, 23.6, 25.3, 27.1],
            [20.1, 20.9, 21.7, 22.7, 24.1, 25.5],
            [19.6, 20.4, 21.2, 22.8, 25.4, 28.2],
            [19.2, 20.0, 20.8, 23.0, 26.9, 31.2],
        ]
    ),
    "female": np.array(
        [
            [12.8, 15.8, 19.3, 23.4, 28.1, 33.3],
            [14.2, 16.5, 19.0, 21.8, 24.9, 28.3],
            [15.8, 17.2, 18.7, 20.3, 21.9, 23.6],
            [16.7, 17.6, 18.5, 19.6, 20.7, 21.9],
            [16.7, 17.6, 18.5, 19.7, 21.2, 22.8],
            [16.8, 17.6, 18.4, 19.8, 21.7, 23.8],
        ]
    ),
}
#: Target BMI distribution of the sampler: log-normal, median 24.5, 90 % in 19-32,
#: clipped to 16-40 (and to what the sliders reach: about 34 for women).
_BMI_MEDIAN = 24.5
_BMI_LOG_SD = 0.16
_BMI_RANGE = (16.0, 40.0)


@dataclass(frozen=True)
class BodyParams:
    """One Anny body. All sliders are Anny phenotype values in [0, 1].

    - ``sex``: our label; ``gender`` is Anny's continuous slider (0 male, 1 female,
      in between is a blend). The sampler keeps men in [0, 0.1], women in [0.9, 1].
    - ``age``: Anny age slider; adults are ``ADULT_AGE_RANGE`` (18 to ~70 years).
    - ``height``: Anny height slider; adults are ``ADULT_HEIGHT_RANGE``.
    - ``weight``, ``muscle``: Anny sliders in [0, 1] (0.5 average); BMI depends on both.
    - ``proportions``: 0 "ideal", 1 "uncommon" proportions, in [0, 1].
    - ``cupsize``, ``firmness``: breast shape in [0, 1]; no effect on men.
    - ``ancestry``: weights of Anny's (african, asian, caucasian) shape blends, each in
      [0, 1], normalised by Anny.
    - ``local_changes``: (label, value) pairs, labels from ``LOCAL_CHANGE_LABELS``,
      values in [-1, 1] (0 is no change).
    """

    sex: Sex
    gender: float
    age: float
    height: float
    weight: float
    muscle: float
    proportions: float = 0.5
    cupsize: float = 0.5
    firmness: float = 0.5
    ancestry: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    local_changes: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.sex not in ("male", "female"):
            raise InputError(f"sex is {self.sex!r}; use 'male' or 'female'", field="sex")
        sliders = {
            "gender": self.gender,
            "age": self.age,
            "height": self.height,
            "weight": self.weight,
            "muscle": self.muscle,
            "proportions": self.proportions,
            "cupsize": self.cupsize,
            "firmness": self.firmness,
        }
        for index, value in enumerate(self.ancestry):
            sliders[f"ancestry[{index}]"] = value
        for name, value in sliders.items():
            if not 0.0 <= value <= 1.0:
                raise InputError(f"{name} is {value}; Anny sliders take 0 to 1", field=name)
        for label, value in self.local_changes:
            if label not in LOCAL_CHANGE_LABELS:
                raise InputError(
                    f"unknown local change {label!r}; known: {', '.join(LOCAL_CHANGE_LABELS)}",
                    field="local_changes",
                )
            if not -1.0 <= value <= 1.0:
                raise InputError(
                    f"local change {label} is {value}; it takes -1 to 1",
                    field="local_changes",
                )

    def phenotype_kwargs(self) -> dict[str, float]:
        """Anny's ``phenotype_kwargs`` for this body."""
        african, asian, caucasian = self.ancestry
        return {
            "gender": self.gender,
            "age": self.age,
            "height": self.height,
            "weight": self.weight,
            "muscle": self.muscle,
            "proportions": self.proportions,
            "cupsize": self.cupsize,
            "firmness": self.firmness,
            "african": african,
            "asian": asian,
            "caucasian": caucasian,
        }

    @classmethod
    def average(cls, sex: Sex) -> BodyParams:
        """An average 40-year-old adult of Anny's calibration (height slider 0.39/0.35)."""
        if sex == "male":
            return cls(sex="male", gender=0.0, age=0.8, height=0.39, weight=0.5, muscle=0.5)
        return cls(sex="female", gender=1.0, age=0.8, height=0.35, weight=0.5, muscle=0.5)


@dataclass(frozen=True)
class BodyMesh:
    """A posed body in the fitroom frame: metres, Y up, feet on y = 0, facing +Z.

    ``keypoints_m`` holds every Anny bone head by its rig label (e.g. ``upperarm01.L``
    is the left shoulder joint centre, ``lowerarm01.L`` the elbow, ``wrist.L``,
    ``upperleg01.L`` the hip joint, ``lowerleg01.L`` the knee, ``foot.L`` the ankle,
    ``neck01`` the neck base, ``head`` the skull base) and Anny's COCO-style surface
    keypoints as ``coco_<name>`` (``coco_nose``, ``coco_left_shoulder``...). ``.L`` is
    the body's left, on +X. The ``anny_*`` fields are Anny's ``Anthropometry`` of the
    unposed body (mass from volume at 980 kg/m^3; Anny's own waist loop, for reference).
    """

    vertices_m: NDArray[np.float64]
    faces: NDArray[np.int64]
    keypoints_m: dict[str, NDArray[np.float64]]
    params: BodyParams
    pose: Pose
    anny_stature_m: float
    anny_mass_kg: float
    anny_waist_m: float


def configure_anny_cache(cache_dir: Path) -> None:
    """Point Anny's model cache (~0.9 GB, built once in ~60-80 s) and Warp's kernel cache
    at folders under ``cache_dir``. Call before ``anny`` is imported; if it already is,
    Anny's cache path is updated too (Warp's is fixed once Warp has started)."""
    anny_dir = cache_dir / "anny"
    warp_dir = cache_dir / "warp"
    os.environ["ANNY_CACHE_DIR"] = str(anny_dir)
    os.environ["WARP_CACHE_PATH"] = str(warp_dir)
    import sys

    paths = sys.modules.get("anny.paths")
    if paths is not None:
        paths.set_anny_cache_path(anny_dir)


def default_cache_dir() -> Path:
    """The project's cache folder for heavy models (``FITROOM_CACHE_DIR``)."""
    from fitroom.config import get_settings

    return get_settings().resolved_cache_dir


def load_anny(cache_dir: Path | None = None) -> Any:
    """The Anny model with our local changes and all phenotypes (incl. cup size and
    ancestry), on CPU in float64; built once per process and cache folder."""
    return _load_anny((cache_dir or default_cache_dir()).resolve())


@functools.cache
def _load_anny(cache_dir: Path) -> Any:
    configure_anny_cache(cache_dir)
    import anny

    return anny.Anny(local_changes=list(LOCAL_CHANGE_LABELS), phenotypes="all")


@functools.cache
def _anny_helpers(model: Any) -> tuple[Any, Any]:
    import anny

    return anny.KeypointsRegressor.coco(model), anny.Anthropometry(model)


def sample_body_params(rng: np.random.Generator, count: int) -> list[BodyParams]:
    """Plausible adult bodies: half men, half women (on average), 18-70 years.

    - height slider: Anny's own adult calibration, Beta(16.5, 25.7) for men (mean 0.39,
      ~1.78 m) and Beta(13.7, 25.7) for women (mean 0.35, ~1.60 m), clipped to
      ``ADULT_HEIGHT_RANGE``;
    - BMI: a target is drawn (log-normal, median 24.5, 90 % in 19-32, clipped 16-40),
      then a muscle value from which the target is reachable and the weight that gives
      it on ``_BMI_TABLE`` (Anny's BMI, bilinear in muscle and weight);
    - proportions uniform in [0, 1] (Anny's calibration), cup size 0.1-0.9, firmness
      0.2-0.8, ancestry Dirichlet(1, 1, 1);
    - each local change ~ N(0, 0.2) clipped to +-0.5 (length changes N(0, 0.12),
      +-0.3; stomach-pregnant skewed to a belly, -0.3 to 0.6).
    """
    if count < 0:
        raise InputError(f"count is {count}; it must be 0 or more", field="count")
    bodies: list[BodyParams] = []
    for _ in range(count):
        sex: Sex = "male" if rng.random() < 0.5 else "female"
        if sex == "male":
            gender = float(rng.uniform(0.0, 0.1))
            height = float(rng.beta(16.5, 25.7))
        else:
            gender = float(rng.uniform(0.9, 1.0))
            height = float(rng.beta(13.7, 25.7))
        height = float(np.clip(height, *ADULT_HEIGHT_RANGE))
        target_bmi = float(
            np.clip(np.exp(rng.normal(math.log(_BMI_MEDIAN), _BMI_LOG_SD)), *_BMI_RANGE)
        )
        muscle, weight = _muscle_weight_for_bmi(rng, sex, target_bmi)
        ancestry = rng.dirichlet((1.0, 1.0, 1.0))
        local_changes = tuple(
            (label, round(_draw_local_change(rng, label), 4)) for label in LOCAL_CHANGE_LABELS
        )
        bodies.append(
            BodyParams(
                sex=sex,
                gender=gender,
                age=float(rng.uniform(*ADULT_AGE_RANGE)),
                height=height,
                weight=weight,
                muscle=muscle,
                proportions=float(rng.uniform(0.0, 1.0)),
                cupsize=float(rng.uniform(0.1, 0.9)),
                firmness=float(rng.uniform(0.2, 0.8)),
                ancestry=(float(ancestry[0]), float(ancestry[1]), float(ancestry[2])),
                local_changes=local_changes,
            )
        )
    return bodies


def _draw_local_change(rng: np.random.Generator, label: str) -> float:
    if label == "stomach-pregnant-incr":
        return float(np.clip(rng.normal(0.05, 0.25), -0.3, 0.6))
    if label in _LENGTH_CHANGES:
        return float(np.clip(rng.normal(0.0, 0.12), -0.3, 0.3))
    return float(np.clip(rng.normal(0.0, 0.2), -0.5, 0.5))


def _bmi_row(sex: Sex, muscle: float) -> NDArray[np.float64]:
    """Anny BMI along the weight grid at one muscle value (linear between table rows)."""
    table = _BMI_TABLE[sex]
    return np.array([np.interp(muscle, _SLIDER_GRID, table[:, j]) for j in range(table.shape[1])])


def _muscle_weight_for_bmi(
    rng: np.random.Generator, sex: Sex, target_bmi: float
) -> tuple[float, float]:
    """A (muscle, weight) pair whose table BMI is ``target_bmi`` (clipped to what the
    sliders reach when no muscle value reaches it)."""
    for _ in range(30):
        muscle = float(rng.uniform(0.0, 1.0))
        row = _bmi_row(sex, muscle)
        if row[0] <= target_bmi <= row[-1]:
            break
    else:
        muscle = float(rng.uniform(0.0, 0.15))
        row = _bmi_row(sex, muscle)
    # Rows rise with weight, so the inverse is a 1-D interpolation.
    weight = float(np.interp(np.clip(target_bmi, row[0], row[-1]), row, _SLIDER_GRID))
    return muscle, weight


def build_mesh(
    params: BodyParams,
    pose: Pose,
    arm_abduction_deg: float = 40.0,
    stance_width_m: float = 0.25,
    model: Any | None = None,
) -> BodyMesh:
    """One posed body; see ``build_meshes``."""
    return build_meshes([params], pose, arm_abduction_deg, stance_width_m, model)[0]


def build_meshes(
    params_list: list[BodyParams],
    pose: Pose,
    arm_abduction_deg: float = 40.0,
    stance_width_m: float = 0.25,
    model: Any | None = None,
    anthropometry: bool = True,
) -> list[BodyMesh]:
    """Posed meshes of several bodies in one batched Anny call (~4 ms a body in batches
    of 16 on one core, against ~25 ms one at a time).

    ``pose="neutral"`` is Anny's rest pose. ``pose="scan"`` is the A-pose of ISO 20685
    body scanning: elbows straight, each upper arm ``arm_abduction_deg`` from the
    vertical in the frontal plane, each leg turned at the hip in the frontal plane so
    the ankle joint centres are ``stance_width_m`` apart (default 0.25 m: feet about
    20 cm apart at the insides). ``model`` defaults to ``load_anny()``.
    ``anthropometry=False`` skips Anny's own stature/mass/waist (NaN in the mesh), which
    is 40 % of the time of one body; the avatar fit does not need them.
    """
    if pose not in ("scan", "neutral"):
        raise InputError(f"pose is {pose!r}; use 'scan' or 'neutral'", field="pose")
    if not 0.0 <= arm_abduction_deg <= 90.0:
        raise InputError(
            f"arm_abduction_deg is {arm_abduction_deg}; use 0 to 90 degrees",
            field="arm_abduction_deg",
        )
    if not 0.0 <= stance_width_m <= 0.6:
        raise InputError(
            f"stance_width_m is {stance_width_m}; use 0 to 0.6 m", field="stance_width_m"
        )
    if not params_list:
        return []
    import torch

    anny_model = model if model is not None else load_anny()
    dtype = anny_model.dtype
    phenotypes = {
        name: torch.tensor([p.phenotype_kwargs()[name] for p in params_list], dtype=dtype)
        for name in params_list[0].phenotype_kwargs()
    }
    local_changes = {
        label: torch.tensor(
            [dict(p.local_changes).get(label, 0.0) for p in params_list], dtype=dtype
        )
        for label in LOCAL_CHANGE_LABELS
    }
    with torch.no_grad():
        output = anny_model(phenotype_kwargs=phenotypes, local_changes_kwargs=local_changes)
        if pose == "scan":
            deltas = _scan_pose_deltas(
                anny_model, output["bone_poses"][..., :3, 3], arm_abduction_deg, stance_width_m
            )
            output = anny_model(
                pose_parameters=deltas,
                phenotype_kwargs=phenotypes,
                local_changes_kwargs=local_changes,
            )
        coco_regressor, anny_measures = _anny_helpers(anny_model)
        coco = coco_regressor(output).numpy()
        if anthropometry:
            measures = anny_measures(output["rest_vertices"])
        else:
            nan = torch.full((len(params_list),), float("nan"))
            measures = {"height": nan, "mass": nan, "waist_circumference": nan}
    heads = output["bone_poses"][..., :3, 3].numpy()
    vertices = output["vertices"].numpy()
    faces = np.ascontiguousarray(anny_model.faces.numpy().astype(np.int64))
    faces.setflags(write=False)
    labels: list[str] = list(anny_model.bone_labels)
    left_hip, right_hip = labels.index("upperleg01.L"), labels.index("upperleg01.R")
    meshes = []
    for index, params in enumerate(params_list):
        body_vertices = _to_fitroom_frame(vertices[index])
        body_heads = _to_fitroom_frame(heads[index])
        body_coco = _to_fitroom_frame(coco[index])
        offset = np.array(
            [
                0.5 * (body_heads[left_hip, 0] + body_heads[right_hip, 0]),
                body_vertices[:, 1].min(),
                0.5 * (body_heads[left_hip, 2] + body_heads[right_hip, 2]),
            ]
        )
        keypoints = {label: body_heads[j] - offset for j, label in enumerate(labels)}
        keypoints.update(
            {f"coco_{name}": body_coco[j] - offset for j, name in enumerate(coco_regressor.labels)}
        )
        meshes.append(
            BodyMesh(
                vertices_m=body_vertices - offset,
                faces=faces,
                keypoints_m=keypoints,
                params=params,
                pose=pose,
                anny_stature_m=float(measures["height"][index]),
                anny_mass_kg=float(measures["mass"][index]),
                anny_waist_m=float(measures["waist_circumference"][index]),
            )
        )
    return meshes


def _to_fitroom_frame(points_anny: NDArray[np.float64]) -> NDArray[np.float64]:
    """Anny (Z up, facing -Y) to fitroom (Y up, facing +Z): x' = x, y' = z, z' = -y."""
    points: NDArray[np.float64] = np.stack(
        [points_anny[:, 0], points_anny[:, 2], -points_anny[:, 1]], axis=1
    ).astype(np.float64)
    return points


def _rotation_between(
    source: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:  # (B, 3) x (B, 3) -> (B, 3, 3)
    """The smallest rotation taking direction ``source`` onto ``target`` (Rodrigues)."""
    import torch

    a = source / source.norm(dim=-1, keepdim=True)
    b = target / target.norm(dim=-1, keepdim=True)
    axis = torch.linalg.cross(a, b)
    sin = axis.norm(dim=-1)
    cos = (a * b).sum(dim=-1)
    k = axis / sin.clamp_min(1e-12)[:, None]
    zero = torch.zeros_like(sin)
    skew = torch.stack(
        [
            torch.stack([zero, -k[:, 2], k[:, 1]], dim=-1),
            torch.stack([k[:, 2], zero, -k[:, 0]], dim=-1),
            torch.stack([-k[:, 1], k[:, 0], zero], dim=-1),
        ],
        dim=-2,
    )
    eye = torch.eye(3, dtype=a.dtype).expand_as(skew)
    angle = torch.atan2(sin, cos)[:, None, None]
    return eye + torch.sin(angle) * skew + (1 - torch.cos(angle)) * (skew @ skew)


def _scan_pose_deltas(
    model: Any, heads: torch.Tensor, arm_abduction_deg: float, stance_width_m: float
) -> torch.Tensor:
    """Anny "local-ref" pose deltas (B, J, 4, 4) for the scan pose.

    With Anny's default "local-ref" parameterisation a bone's delta is a rotation in
    world axes about its head, applied on top of its parents' (world rotation of a
    child = D_parent D_child). ``heads`` are the bone heads in the rest pose (Anny frame).
    """
    import torch

    labels: list[str] = list(model.bone_labels)
    batch = heads.shape[0]
    deltas = torch.eye(4, dtype=heads.dtype).repeat(batch, len(labels), 1, 1)

    def head(label: str) -> torch.Tensor:
        return heads[:, labels.index(label)]

    abduction = math.radians(arm_abduction_deg)
    for side, sign in (("L", 1.0), ("R", -1.0)):
        shoulder, elbow, wrist = (
            head(f"upperarm01.{side}"),
            head(f"lowerarm01.{side}"),
            head(f"wrist.{side}"),
        )
        upper_arm = elbow - shoulder
        # Straighten the elbow: the forearm takes the upper arm's rest direction.
        deltas[:, labels.index(f"lowerarm01.{side}"), :3, :3] = _rotation_between(
            wrist - elbow, upper_arm
        )
        # Abduct the (now straight) arm in the frontal plane, measured from the vertical.
        target = torch.tensor(
            [sign * math.sin(abduction), 0.0, -math.cos(abduction)], dtype=heads.dtype
        ).expand_as(upper_arm)
        deltas[:, labels.index(f"upperarm01.{side}"), :3, :3] = _rotation_between(upper_arm, target)

        hip, ankle = head(f"upperleg01.{side}"), head(f"foot.{side}")
        leg = ankle - hip
        leg_length = leg.norm(dim=-1)
        lateral = sign * 0.5 * stance_width_m - hip[:, 0]
        vertical = torch.sqrt((leg_length**2 - lateral**2 - leg[:, 1] ** 2).clamp_min(1e-6))
        target_leg = torch.stack([lateral, leg[:, 1], -vertical], dim=-1)
        deltas[:, labels.index(f"upperleg01.{side}"), :3, :3] = _rotation_between(leg, target_leg)
    return deltas
