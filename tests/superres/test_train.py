"""Training is deterministic for a seed and a resumed run equals an uninterrupted one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fitroom.superres.train import TrainConfig, TrainProgress, learning_rate_at, train


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(3):
        smooth = rng.uniform(0, 255, size=(6, 6, 3))
        image = Image.fromarray(smooth.astype(np.uint8)).resize((40, 40), Image.BICUBIC)
        image.save(folder / f"img{i}.png")
    return folder


def config(image_dir: Path, out: Path, steps: int = 6) -> TrainConfig:
    return TrainConfig(
        model="fitsr",
        scale=2,
        data_dirs=[str(image_dir)],
        out_dir=str(out),
        steps=steps,
        batch_size=2,
        lr_patch_px=8,
        warmup_steps=2,
        holdout_images=1,
        validate_every_steps=3,
        checkpoint_every_minutes=0.0,
        hyper_parameters={"blocks": 1, "features": 4},
    )


def weights(path: Path) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = torch.load(path, weights_only=True)
    return state


class Interrupt(Exception):
    pass


def test_same_seed_same_weights_and_resume(image_dir: Path, tmp_path: Path) -> None:
    first = train(config(image_dir, tmp_path / "a"))
    second = train(config(image_dir, tmp_path / "b"))
    a, b = weights(first.weights_path), weights(second.weights_path)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert first.steps_done == 6 and len(first.history) == 2

    def stop_at_three(progress: TrainProgress) -> None:
        if progress.step == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(config(image_dir, tmp_path / "c"), on_progress=stop_at_three)
    resumed = train(config(image_dir, tmp_path / "c"), resume=True)
    c = weights(resumed.weights_path)
    assert resumed.steps_done == 6
    assert all(torch.equal(a[k], c[k]) for k in a)


def test_learning_rate_schedule() -> None:
    cfg = TrainConfig("fitsr", 2, [], "x", steps=1000, learning_rate=1e-3, warmup_steps=100)
    assert learning_rate_at(0, cfg) == pytest.approx(1e-5)
    assert learning_rate_at(99, cfg) == pytest.approx(1e-3)
    assert learning_rate_at(1000, cfg) == pytest.approx(1e-5)  # final_lr_fraction 0.01
    assert learning_rate_at(550, cfg) == pytest.approx((1e-3 + 1e-5) / 2)


def test_losses_have_known_values() -> None:
    from fitroom.errors import InputError
    from fitroom.superres.train import CHROMA_WEIGHT, make_loss

    target = torch.zeros(1, 3, 4, 4)
    grey = torch.full((1, 3, 4, 4), 0.1)  # +0.1 on R, G and B: luma only
    assert make_loss("l1")(grey, target).item() == pytest.approx(0.1)
    assert make_loss("l2")(grey, target).item() == pytest.approx(0.01)
    # Y of a +0.1 grey step is 0.1 * 219/255; Cb and Cr do not move.
    luma = 0.1 * 219.0 / 255.0
    weight_sum = 1.0 + 2 * CHROMA_WEIGHT
    assert make_loss("l1-luma")(grey, target).item() == pytest.approx(luma / weight_sum)
    assert make_loss("l2-luma")(grey, target).item() == pytest.approx(luma**2 / weight_sum)
    # A colour error the eye sees less (equal-luma blue/red swap) weighs less there.
    swap = torch.zeros(1, 3, 4, 4)
    swap[:, 0], swap[:, 2] = 0.1, -0.1 * 65.481 / 24.966  # Y unchanged
    assert make_loss("l1-luma")(swap, target) < make_loss("l1")(swap, target)
    with pytest.raises(InputError, match="unknown loss"):
        make_loss("huber")


def test_growing_a_net_starts_where_the_smaller_one_was(tmp_path: Path) -> None:
    from fitroom.superres.models import FitSR
    from fitroom.superres.train import _load_matching

    torch.manual_seed(0)
    small = FitSR(scale=2, blocks=2, features=4).eval()
    torch.save(small.state_dict(), tmp_path / "small.pt")
    grown = FitSR(scale=2, blocks=4, features=4).eval()
    assert _load_matching(grown, tmp_path / "small.pt") == len(small.state_dict())
    x = torch.rand(1, 3, 9, 11)
    with torch.inference_mode():
        torch.testing.assert_close(grown(x), small(x), rtol=0, atol=1e-6)
    assert torch.count_nonzero(grown.body[3].conv1.weight) > 0  # new blocks still learn


def test_schedule_minutes_spans_a_time_budget() -> None:
    cfg = TrainConfig(
        "fitsr", 2, [], "x", steps=10**9, learning_rate=1e-3, warmup_steps=10, schedule_minutes=4.0
    )
    assert learning_rate_at(5, cfg, elapsed_minutes=3.0) == pytest.approx(6e-4)  # warm-up
    assert learning_rate_at(50, cfg, elapsed_minutes=2.0) == pytest.approx((1e-3 + 1e-5) / 2)
    assert learning_rate_at(50, cfg, elapsed_minutes=9.0) == pytest.approx(1e-5)


def test_a_time_budget_stops_the_run(image_dir: Path, tmp_path: Path) -> None:
    cfg = config(image_dir, tmp_path / "timed", steps=10**9)
    cfg.schedule_minutes = 0.02  # 1.2 s
    result = train(cfg)
    assert 0 < result.steps_done < 10**9
    assert not result.stopped_by_deadline


def taught_by_itself(image_dir: Path, tmp_path: Path) -> tuple[Path, TrainConfig]:
    """A short run's weights, and a run starting from them with them as its only teacher."""
    start = train(config(image_dir, tmp_path / "start", steps=3))
    cfg = config(image_dir, tmp_path / "taught", steps=4)
    cfg.init_from = str(start.weights_path)
    cfg.teacher_model, cfg.teacher_from = "fitsr", str(start.weights_path)
    cfg.teacher_hyper_parameters = {"blocks": 1, "features": 4}
    cfg.teacher_weight = 1.0
    return start.weights_path, cfg


def test_distilling_from_a_copy_of_itself_changes_nothing(image_dir: Path, tmp_path: Path) -> None:
    """With the whole loss on a teacher equal to the student, every gradient is zero."""
    start_path, cfg = taught_by_itself(image_dir, tmp_path)
    taught = weights(train(cfg).weights_path)
    before = weights(start_path)
    assert all(torch.equal(before[k], taught[k]) for k in before)

    cfg.out_dir, cfg.teacher_weight = str(tmp_path / "half"), 0.5  # the truth still pulls
    half = weights(train(cfg).weights_path)
    assert not all(torch.equal(before[k], half[k]) for k in before)


def test_impossible_settings_are_refused(image_dir: Path, tmp_path: Path) -> None:
    from fitroom.errors import InputError

    cases = {
        "teacher_weight must be in": {"teacher_weight": 1.5},
        "needs both": {"teacher_model": "fitsr"},
        "schedule_minutes must be positive": {"schedule_minutes": 0.0},
        "patch_sampler must be": {"patch_sampler": "gpu"},
        "sample_by must be one of area, image": {"sample_by": "pixel"},
        "self-ensemble takes 1, 2, 4, 8 passes; got 3": {"teacher_ensemble": 3},
        "teacher_ensemble needs a teacher": {"teacher_ensemble": 8},
    }
    if not torch.cuda.is_available():
        cases["no CUDA GPU"] = {"device": "cuda"}
    for message, changes in cases.items():
        cfg = config(image_dir, tmp_path / "refused")
        for name, value in changes.items():
            setattr(cfg, name, value)
        with pytest.raises(InputError, match=message):
            train(cfg)


def test_dihedral_codes_are_the_eight_flips_and_rotations() -> None:
    from fitroom.superres.train import apply_dihedral

    patch = torch.arange(9.0).view(1, 1, 3, 3)
    outs = apply_dihedral(patch.expand(8, 1, 3, 3), torch.arange(8))
    expected = []
    for turns in range(4):
        turned = np.rot90(patch[0, 0].numpy(), turns)
        expected += [turned, turned[:, ::-1]]
    got = sorted(o[0].numpy().tobytes() for o in outs)
    assert got == sorted(np.ascontiguousarray(e, dtype=np.float32).tobytes() for e in expected)
    assert torch.equal(outs[0], patch[0])  # code 0 is the identity
    assert torch.equal(outs[4], patch[0].flip(2))  # bit 2 mirrors left-right


def test_tensor_sampler_cuts_aligned_patches_where_it_says() -> None:
    from fitroom.superres.data import ImagePair, bicubic_degrade
    from fitroom.superres.train import TensorPatchSampler

    rng = np.random.default_rng(3)
    pairs = []
    for name, (h, w) in {"wide": (24, 40), "tall": (36, 20), "tiny": (8, 8)}.items():
        hr = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        pairs.append(ImagePair(name, hr, bicubic_degrade(hr, 2)))
    sampler = TensorPatchSampler(pairs, 2, 6, seed=0, device=torch.device("cpu"))
    assert sampler.lr.shape[0] == 2  # the 8 px image is smaller than a 12 px HR patch
    images, corners, transforms = sampler.sample_indices(400)
    kept = pairs[:2]
    for i, (top, left) in zip(images.tolist(), corners.tolist(), strict=True):
        h, w = kept[i].lr.shape[:2]
        assert 0 <= top <= h - 6 and 0 <= left <= w - 6
    # images drawn in proportion to their area (12x20 vs 18x10 LR px: 4 to 3)
    assert images.float().mean().item() == pytest.approx(3 / 7, abs=0.07)
    assert set(transforms.tolist()) == set(range(8))

    state = sampler.state()
    lr, hr = sampler.sample(64)
    sampler.set_state(state)
    images, corners, transforms = sampler.sample_indices(64)
    assert lr.shape == (64, 3, 6, 6) and hr.shape == (64, 3, 12, 12)
    for k in range(64):
        pair, (top, left) = kept[int(images[k])], corners[k].tolist()
        lr_crop = torch.from_numpy(pair.lr[top : top + 6, left : left + 6].copy())
        hr_crop = torch.from_numpy(pair.hr[2 * top : 2 * top + 12, 2 * left : 2 * left + 12].copy())
        code = transforms[k : k + 1]
        for got, crop in ((lr[k], lr_crop), (hr[k], hr_crop)):
            want = apply_dihedral_u8(crop, code)
            torch.testing.assert_close(got, want, rtol=0, atol=1e-7)


def apply_dihedral_u8(crop: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    from fitroom.superres.train import apply_dihedral

    return apply_dihedral(crop.permute(2, 0, 1)[None].float() / 255.0, code)[0]


def test_training_with_the_tensor_sampler_is_seeded_and_resumes(
    image_dir: Path, tmp_path: Path
) -> None:
    def tensor_config(out: Path) -> TrainConfig:
        cfg = config(image_dir, out)
        cfg.patch_sampler = "tensor"
        return cfg

    first = train(tensor_config(tmp_path / "a"))
    second = train(tensor_config(tmp_path / "b"))
    a, b = weights(first.weights_path), weights(second.weights_path)
    assert all(torch.equal(a[k], b[k]) for k in a)
    numpy_run = weights(train(config(image_dir, tmp_path / "numpy")).weights_path)
    assert not all(torch.equal(a[k], numpy_run[k]) for k in a)  # other patches, other weights

    def stop_at_three(progress: TrainProgress) -> None:
        if progress.step == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(tensor_config(tmp_path / "c"), on_progress=stop_at_three)
    resumed = weights(train(tensor_config(tmp_path / "c"), resume=True).weights_path)
    assert all(torch.equal(a[k], resumed[k]) for k in a)


@pytest.mark.parametrize("patch_sampler", ["numpy", "tensor"])
def test_images_smaller_than_a_patch_are_counted_and_reported(
    image_dir: Path, tmp_path: Path, patch_sampler: str
) -> None:
    import json
    import shutil

    folder = tmp_path / "mixed"
    shutil.copytree(image_dir, folder)
    Image.fromarray(np.full((12, 30, 3), 90, dtype=np.uint8)).save(folder / "small.png")
    cfg = config(folder, tmp_path / "out", steps=2)
    cfg.patch_sampler = patch_sampler
    result = train(cfg)  # 8 px patches at x2 need 16 px; the 12 px tall image is skipped
    assert result.images_too_small == 1
    saved = json.loads(result.config_path.read_text())["training"]
    assert saved["images_too_small_for_patch"] == 1


@pytest.mark.parametrize("sample_by", ["area", "image"])
def test_both_samplers_draw_images_by_area_or_equally(sample_by: str) -> None:
    from fitroom.superres.data import ImagePair, PatchSampler, bicubic_degrade
    from fitroom.superres.train import TensorPatchSampler

    rng = np.random.default_rng(5)
    pairs = []
    for name, (h, w) in {"big": (48, 80), "small": (16, 20)}.items():  # LR areas 960 : 80
        hr = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        pairs.append(ImagePair(name, hr, bicubic_degrade(hr, 2)))
    want_small = 0.5 if sample_by == "image" else 80 / 1040
    tensor = TensorPatchSampler(pairs, 2, 6, 0, torch.device("cpu"), sample_by)
    images, _, _ = tensor.sample_indices(4000)
    assert images.double().mean().item() == pytest.approx(want_small, abs=0.03)
    numpy_sampler = PatchSampler(pairs, 2, 6, 0, sample_by)
    crops = numpy_sampler.sample_crops(2000)
    small_share = np.mean(
        [crop.shape == (6, 6, 3) and _inside(crop, pairs[1].lr) for crop in crops.lr]
    )
    assert small_share == pytest.approx(want_small, abs=0.04)


def _inside(crop: np.ndarray, image: np.ndarray) -> bool:
    """Whether ``crop`` is a window of ``image`` (random images: no false matches)."""
    h, w = crop.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(image, (h, w, 3))[:, :, 0]
    return bool((windows == crop).all(axis=(2, 3, 4)).any())


class _Lopsided(torch.nn.Module):
    """x2 'upscaler' that is not flip-invariant: an asymmetric conv, then a pixel shuffle."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.conv = torch.nn.Conv2d(3, 12, 3, padding=1)
        self.shuffle = torch.nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.shuffle(self.conv(x))
        return out


def test_teacher_self_ensemble_is_the_mean_over_flips_and_turns() -> None:
    from fitroom.superres.train import dihedral_mean

    model = _Lopsided().eval()
    batch = torch.rand(2, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(dihedral_mean(model, batch, 1), model(batch))
        outs = []
        for transpose in (False, True):
            x = batch.transpose(2, 3) if transpose else batch
            for turns in range(4):  # rot90 k times, undone by -k: an independent route
                y = model(torch.rot90(x, turns, dims=(2, 3)))
                y = torch.rot90(y, -turns, dims=(2, 3))
                outs.append(y.transpose(2, 3) if transpose else y)
        want = torch.stack(outs).mean(0)
        torch.testing.assert_close(dihedral_mean(model, batch, 8), want, rtol=0, atol=1e-6)
        assert not torch.allclose(want, model(batch), atol=1e-3)  # the test can fail
        flips = [model(batch)]
        flips += [model(batch.flip(d)).flip(d) for d in ([3], [2], [2, 3])]
        torch.testing.assert_close(
            dihedral_mean(model, batch, 4), torch.stack(flips).mean(0), rtol=0, atol=1e-6
        )
        half = (model(batch) + model(batch.flip([2, 3])).flip([2, 3])) / 2
        torch.testing.assert_close(dihedral_mean(model, batch, 2), half, rtol=0, atol=1e-6)


def test_a_run_taught_by_its_own_self_ensemble_records_how(image_dir: Path, tmp_path: Path) -> None:
    """Unlike a plain copy of itself, the self-ensemble teacher moves the weights."""
    import json

    start_path, cfg = taught_by_itself(image_dir, tmp_path)
    cfg.teacher_ensemble, cfg.sample_by = 8, "image"
    result = train(cfg)
    taught, before = weights(result.weights_path), weights(start_path)
    assert not all(torch.equal(before[k], taught[k]) for k in before)
    training = json.loads(result.config_path.read_text())["training"]
    assert (training["teacher_ensemble"], training["sample_by"]) == (8, "image")
