"""Transforms (single sample and batched), MixUp and CutMix."""

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.data import (
    CenterCrop,
    Compose,
    InterpolationMode,
    Lambda,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
    ToTensor,
    cutmix,
    mixup,
)
from minitorch_cv.data.geometric import rotate


def _batch(n=6, c=2, h=5, w=7, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)


def test_to_tensor_scales_uint8_and_moves_channels_first():
    gray = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    out = ToTensor()(gray)
    assert isinstance(out, mt.Tensor)
    assert out.dtype == np.float32 and out.shape == (1, 2, 2)
    np.testing.assert_allclose(out.numpy()[0], [[0, 1], [0.2, 0.4]], rtol=1e-6)
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)  # (H, W, C)
    out = ToTensor()(rgb)
    assert out.shape == (3, 2, 3)
    np.testing.assert_allclose(out.numpy()[1], rgb[..., 1] / 255, rtol=1e-6)
    batch = ToTensor().batch(np.stack([gray, gray]))
    assert batch.shape == (2, 1, 2, 2) and batch.max() == 1.0
    floats = ToTensor()(np.full((2, 2), 3.0))  # other dtypes are kept and not rescaled
    assert floats.dtype == np.float64 and floats.numpy().max() == 3.0
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        ToTensor()(out)


def test_integer_images_resize_as_torchvision_uint8_tensors():
    # torchvision resizes uint8 tensors in float and rounds back; no wrap-around at 255
    image = np.full((4, 4), 250, dtype=np.uint8)
    out = Resize(8)(image[None])
    assert out.dtype == np.uint8 and np.all(out == 250)
    out = Compose([ToTensor(), Resize(8)])(image)
    np.testing.assert_allclose(out.numpy(), 250 / 255, rtol=1e-6)


def test_normalize_per_channel():
    x = _batch(c=3)
    mean, std = (0.1, 0.5, 0.9), (0.2, 0.3, 0.4)
    out = Normalize(mean, std).batch(x)
    for c in range(3):
        np.testing.assert_allclose(out[:, c], (x[:, c] - mean[c]) / std[c], rtol=1e-5)
    assert out.dtype == np.float32
    np.testing.assert_allclose(Normalize(mean, std)(x[0]), out[0], rtol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        Normalize((0.5, 0.5), (1, 1)).batch(x)
    with pytest.raises(ValueError, match="non-zero"):
        Normalize(0.5, 0.0)


def test_horizontal_and_vertical_flip():
    x = _batch(n=200)
    assert np.array_equal(RandomHorizontalFlip(p=1.0).batch(x), x[..., ::-1])
    assert np.array_equal(RandomHorizontalFlip(p=0.0).batch(x), x)
    assert np.array_equal(RandomVerticalFlip(p=1.0)(x[0]), x[0][:, ::-1, :])
    mt.manual_seed(0)
    out = RandomHorizontalFlip(p=0.5).batch(x)
    flipped = np.array([np.array_equal(o, s[..., ::-1]) for o, s in zip(out, x)])
    kept = np.array([np.array_equal(o, s) for o, s in zip(out, x)])
    assert np.all(flipped ^ kept) and 70 < flipped.sum() < 130  # per sample, about half


def test_random_crop_with_padding():
    x = _batch(n=50, h=6, w=6)
    out = RandomCrop(6, padding=2).batch(x)
    assert out.shape == x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = set()
    for o, p in zip(out, padded):  # every crop is a window of the zero-padded image
        found = [
            (t, l)
            for t in range(5)
            for l in range(5)
            if np.array_equal(o, p[:, t : t + 6, l : l + 6])
        ]
        assert found, "crop is not a window of the padded image"
        offsets.add(found[0])
    assert len(offsets) > 5  # positions vary per sample
    np.testing.assert_array_equal(RandomCrop((6, 6)).batch(x), x)  # no padding: identity
    assert RandomCrop((3, 4), padding=(1, 2)).batch(x).shape == (50, 2, 3, 4)
    edge = RandomCrop(10, padding=2, padding_mode="edge")(x[0])
    np.testing.assert_array_equal(edge, np.pad(x[0], ((0, 0), (2, 2), (2, 2)), mode="edge"))
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(9).batch(x)


def test_center_crop():
    x = _batch(h=6, w=7)
    np.testing.assert_array_equal(CenterCrop((2, 3)).batch(x), x[..., 2:4, 2:5])


def test_rotation_by_90_degrees_equals_rot90():
    for shape in [(3, 2, 6, 6), (2, 1, 5, 5)]:
        x = np.random.default_rng(1).random(shape)
        rotated = rotate(x, np.full(len(x), 90.0))
        np.testing.assert_allclose(rotated, np.rot90(x, 1, axes=(-2, -1)), atol=1e-9)
        np.testing.assert_allclose(
            rotate(x, np.full(len(x), -90.0)), np.rot90(x, -1, axes=(-2, -1)), atol=1e-9
        )
    x = _batch(h=6, w=6)
    np.testing.assert_allclose(
        RandomRotation((90, 90)).batch(x), np.rot90(x, 1, axes=(-2, -1)), atol=1e-6
    )


def test_rotation_fills_outside_and_keeps_the_centre():
    x = np.ones((1, 1, 9, 9), dtype=np.float32)
    out = rotate(x, np.array([45.0]), fill=0.0)
    assert out[0, 0, 4, 4] == pytest.approx(1.0)
    assert out[0, 0, 0, 0] == 0.0  # corners come from outside the image
    assert 0.0 <= out.min() and out.max() <= 1.0 + 1e-6
    assert np.array_equal(RandomRotation(0).batch(x), x)


def test_resize_identity_and_against_torch():
    x = _batch()
    np.testing.assert_array_equal(Resize((5, 7)).batch(x), x)
    assert Resize(10).batch(x).shape == (6, 2, 10, 14)  # int: shorter edge, aspect kept
    torch = pytest.importorskip("torch")
    for size in [(11, 3), (2, 4), (5, 14)]:
        for antialias in (True, False):  # torchvision's Resize calls interpolate so
            expected = torch.nn.functional.interpolate(
                torch.from_numpy(x), size=size, mode="bilinear", align_corners=False,
                antialias=antialias,
            ).numpy()
            out = Resize(size, antialias=antialias).batch(x)
            np.testing.assert_allclose(out, expected, atol=1e-6)
        expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode="nearest")
        out = Resize(size, interpolation=InterpolationMode.NEAREST).batch(x)
        np.testing.assert_array_equal(out, expected.numpy())


def test_random_resized_crop():
    x = _batch(n=40, h=8, w=8)
    mt.manual_seed(0)
    out = RandomResizedCrop(5, scale=(0.2, 1.0)).batch(x)
    assert out.shape == (40, 2, 5, 5) and out.dtype == np.float32
    assert x.min() <= out.min() and out.max() <= x.max()  # bilinear stays in the range
    # scale=(1, 1), ratio=(1, 1) is the whole image, so the crop is a plain resize
    whole = RandomResizedCrop((8, 8), scale=(1.0, 1.0), ratio=(1.0, 1.0)).batch(x)
    np.testing.assert_allclose(whole, x, atol=1e-6)
    windows = RandomResizedCrop(4, scale=(0.1, 0.5)).windows(500, 8, 8)
    top, left, h, w = windows
    assert np.all(top + h <= 8) and np.all(left + w <= 8) and np.all(h >= 1)
    assert len(set(zip(top, left, h, w))) > 10


def test_random_transforms_follow_manual_seed():
    x = _batch(n=8)
    pipeline = Compose([RandomCrop(5, padding=1), RandomHorizontalFlip(), RandomRotation(20)])
    mt.manual_seed(11)
    a = pipeline.batch(x)
    mt.manual_seed(11)
    b = pipeline.batch(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, pipeline.batch(x))


def test_compose_runs_plain_callables_per_sample():
    calls = []

    def double(sample):
        calls.append(sample.shape)
        return sample * 2

    out = Compose([ToTensor(), double, Lambda(lambda s: s + 1)]).batch(
        np.zeros((3, 4, 4), dtype=np.uint8)
    )
    assert out.shape == (3, 1, 4, 4) and np.all(out == 1) and calls == [(1, 4, 4)] * 3


@pytest.mark.parametrize("mix", [mixup, cutmix])
def test_mix_soft_labels_sum_to_one(mix):
    mt.manual_seed(0)
    x = _batch(n=16, c=1, h=8, w=8)
    y = np.arange(16) % 10
    for _ in range(5):
        mixed, soft = mix(x, y, alpha=1.0, num_classes=10)
        assert mixed.shape == x.shape and soft.shape == (16, 10) and soft.dtype == np.float32
        np.testing.assert_allclose(soft.sum(axis=1), 1.0, rtol=1e-6)
        assert np.all(soft >= 0)
    tx, ty = mix(mt.tensor(x), mt.tensor(y), alpha=0.4, num_classes=10)
    assert isinstance(tx, mt.Tensor) and ty.shape == (16, 10)
    np.testing.assert_allclose(ty.numpy().sum(axis=1), 1.0, rtol=1e-6)


def test_mixup_blends_images_with_the_label_weights():
    mt.manual_seed(2)
    x = np.stack([np.zeros((1, 2, 2)), np.ones((1, 2, 2))]).astype(np.float32)
    mixed, soft = mixup(x, np.array([0, 1]), alpha=1.0, num_classes=2)
    # image 0 is all zeros and image 1 all ones, so each pixel equals the share of class 1
    np.testing.assert_allclose(mixed[:, 0, 0, 0], soft[:, 1], rtol=1e-6)


def test_cutmix_label_weight_is_the_pasted_area():
    mt.manual_seed(4)
    x = np.stack([np.zeros((1, 10, 10)), np.ones((1, 10, 10))]).astype(np.float32)
    for _ in range(10):
        mixed, soft = cutmix(x, np.array([0, 1]), alpha=1.0, num_classes=2)
        # the share of class 1 in each label equals the fraction of ones in its image
        np.testing.assert_allclose(mixed.mean(axis=(1, 2, 3)), soft[:, 1], atol=1e-6)


def test_mix_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match="labels must lie"):
        mixup(_batch(n=2), np.array([0, 5]), num_classes=3)


def test_soft_labels_feed_cross_entropy():
    import minitorch_cv.functional as F

    mt.manual_seed(6)
    x = _batch(n=8, c=1, h=4, w=4)
    mixed, soft = mixup(mt.tensor(x), mt.tensor(np.arange(8) % 3), alpha=0.5, num_classes=3)
    logits = mt.tensor(np.random.default_rng(0).standard_normal((8, 3)), dtype=mt.float32)
    loss = F.cross_entropy(logits, soft)
    z = logits.numpy().astype(np.float64)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -(soft.numpy() * log_probs).sum(axis=1).mean()
    assert loss.item() == pytest.approx(expected, rel=1e-5)
