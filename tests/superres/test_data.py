"""MATLAB-like bicubic resize, degradation and patch sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fitroom.superres.data import ImagePair, PatchSampler, bicubic_degrade, cubic_kernel, imresize
from fitroom.superres.models import Bicubic


def test_keys_kernel_values() -> None:
    # The x2 phase weights, checked by hand from the kernel's two pieces (a = -0.5).
    weights = cubic_kernel(np.array([1.75, 0.75, -0.25, -1.25]))
    np.testing.assert_allclose(weights, [-0.0234375, 0.2265625, 0.8671875, -0.0703125])
    assert weights.sum() == pytest.approx(1.0)


def test_imresize_upscales_an_impulse_like_matlab() -> None:
    # imresize([0 1 0 0]', 2, 'bicubic') with symmetric borders; hand-checked:
    # out(1) mixes the impulse twice (direct and mirrored): -0.0703125 - 0.0234375.
    column = np.array([[0.0], [1.0], [0.0], [0.0]])
    out = imresize(column, 2.0)
    assert out.shape == (8, 2)
    expected = [-0.09375, 0.2265625, 0.8671875, 0.8671875, 0.2265625, -0.0703125, -0.0234375, 0]
    np.testing.assert_allclose(out[:, 0], expected, atol=1e-12)
    np.testing.assert_allclose(out[:, 1], expected, atol=1e-12)


def test_bicubic_of_a_constant_is_constant() -> None:
    image = np.full((12, 10, 3), 77, dtype=np.uint8)
    assert np.all(bicubic_degrade(image, 2) == 77)
    assert np.all(imresize(image, 4.0) == 77)
    net = Bicubic(4)
    out = net(torch.full((1, 3, 6, 5), 0.3))
    assert out.shape == (1, 3, 24, 20)
    assert torch.allclose(out, torch.full_like(out, 0.3), atol=1e-6)


def test_downscale_antialiases_and_rounds() -> None:
    # A 1-px checkerboard has no energy left after an antialiased x1/2: all near 127.5.
    board = (np.indices((16, 16)).sum(axis=0) % 2 * 255).astype(np.uint8)
    small = bicubic_degrade(np.stack([board] * 3, axis=2), 2)
    assert small.shape == (8, 8, 3) and small.dtype == np.uint8
    assert np.all(np.abs(small[2:-2, 2:-2].astype(int) - 128) <= 1)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_torch_bicubic_equals_numpy_imresize(scale: int) -> None:
    image = np.random.default_rng(scale).uniform(0, 255, size=(9, 13, 3))
    reference = imresize(image, float(scale))
    tensor = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None]
    out = Bicubic(scale)(tensor)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, reference, atol=2e-3)


def test_patches_are_aligned_and_seeded() -> None:
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    pair = ImagePair("x", hr, bicubic_degrade(hr, 2))
    first = PatchSampler([pair], 2, lr_patch_px=8, seed=5).sample(4)
    second = PatchSampler([pair], 2, lr_patch_px=8, seed=5).sample(4)
    np.testing.assert_array_equal(first[0], second[0])
    lr, hr_patch = first
    assert lr.shape == (4, 3, 8, 8) and hr_patch.shape == (4, 3, 16, 16)
    # Each HR patch degrades to its LR patch up to border effects (alignment check).
    for i in range(4):
        hr_u8 = np.round(hr_patch[i].transpose(1, 2, 0) * 255).astype(np.uint8)
        again = bicubic_degrade(hr_u8, 2).astype(float) / 255
        inner = np.abs(again[2:-2, 2:-2] - lr[i].transpose(1, 2, 0)[2:-2, 2:-2])
        assert inner.max() < 2 / 255


def test_crops_transformed_by_torch_equal_the_numpy_batch() -> None:
    import torch

    from fitroom.superres.train import crops_to_tensors

    rng = np.random.default_rng(1)
    hr = rng.integers(0, 256, size=(40, 36, 3), dtype=np.uint8)
    pair = ImagePair("x", hr, bicubic_degrade(hr, 2))
    lr_np, hr_np = PatchSampler([pair], 2, lr_patch_px=6, seed=3).sample(32)
    crops = PatchSampler([pair], 2, lr_patch_px=6, seed=3).sample_crops(32)
    assert len(crops.groups()) > 4  # several of the eight transforms occur
    lr_t, hr_t = crops_to_tensors(crops, torch.device("cpu"))
    assert np.array_equal(lr_np, lr_t.numpy()) and np.array_equal(hr_np, hr_t.numpy())
