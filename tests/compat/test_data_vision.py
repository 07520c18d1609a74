"""torchvision's transforms and utils, written as a student writes them, on minitorch_cv.vision.

torchvision is not installed: expected values come from its documented algorithms, computed
with torch (ToTensor's scaling, Normalize's formula, Resize = interpolate with antialias,
make_grid's layout loop) or with Pillow where torchvision hands PIL images to Pillow.
"""

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

import minitorch_cv as mt
import minitorch_cv.vision as torchvision
from minitorch_cv.vision import transforms


def _gray(h=6, w=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)


def _rgb(h=6, w=8, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _torch_to_tensor(hwc: np.ndarray) -> torch.Tensor:
    """torchvision's ToTensor for uint8 (H, W[, C]): permute to CHW, float, divide by 255."""
    if hwc.ndim == 2:
        hwc = hwc[:, :, None]
    return torch.from_numpy(np.array(hwc)).permute(2, 0, 1).contiguous().to(torch.float32).div(255)


@pytest.mark.parametrize("make", [_gray, _rgb])
def test_to_tensor_on_pil_and_arrays_matches_torchvision_formula(make):
    pixels = make()
    expected = _torch_to_tensor(pixels).numpy()
    for image in (Image.fromarray(pixels), pixels):
        out = transforms.ToTensor()(image)
        assert isinstance(out, mt.Tensor) and out.dtype == np.float32
        np.testing.assert_array_equal(out.numpy(), expected)
    as_bytes = transforms.PILToTensor()(Image.fromarray(pixels))
    assert as_bytes.dtype == np.uint8
    np.testing.assert_array_equal(as_bytes.numpy(), (expected * 255).round().astype(np.uint8))


def test_normalize_after_to_tensor_matches_formula():
    pixels = _rgb()
    mean, std = (0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    out = pipeline(Image.fromarray(pixels))
    expected = (_torch_to_tensor(pixels) - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(
        std
    ).view(-1, 1, 1)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(TypeError, match="Tensor Image"):
        transforms.Normalize(mean, std)(Image.fromarray(pixels))  # torchvision: TypeError too
    with pytest.raises(RuntimeError):  # 3 values for 1 channel: torch fails broadcasting
        pipeline(Image.fromarray(_gray()))


def test_resize_before_to_tensor_on_pil_is_pillows_bilinear():
    pixels = _gray(28, 28)
    out = transforms.Compose([transforms.Resize(64), transforms.ToTensor()])(
        Image.fromarray(pixels)
    )
    reference = np.asarray(Image.fromarray(pixels).resize((64, 64), Image.BILINEAR))
    assert out.shape == (1, 64, 64)
    np.testing.assert_array_equal(out.numpy(), _torch_to_tensor(reference).numpy())
    # torchvision's PIL and tensor paths agree to about one grey level; so do ours
    small = transforms.Compose([transforms.Resize((10, 13)), transforms.ToTensor()])
    tensor_first = transforms.Compose([transforms.ToTensor(), transforms.Resize((10, 13))])
    a, b = small(Image.fromarray(pixels)).numpy(), tensor_first(Image.fromarray(pixels)).numpy()
    assert np.abs(a - b).max() <= 2 / 255
    expected = torch.nn.functional.interpolate(
        _torch_to_tensor(pixels)[None], size=(10, 13), mode="bilinear", antialias=True
    )[0]
    np.testing.assert_allclose(b, expected.numpy(), atol=1e-6)
    assert transforms.Resize(14)(Image.fromarray(_rgb(28, 56))).size == (28, 14)  # (w, h)


def test_random_crop_with_padding_and_flip_on_pil_and_tensor():
    pixels = _rgb(8, 8)
    padded = np.pad(pixels, ((2, 2), (2, 2), (0, 0)))
    crop = transforms.RandomCrop(8, padding=2)
    mt.manual_seed(0)
    seen = set()
    for _ in range(20):
        out = np.asarray(crop(Image.fromarray(pixels)))
        windows = [(t, s) for t in range(5) for s in range(5)
                   if np.array_equal(out, padded[t : t + 8, s : s + 8])]
        assert windows, "a RandomCrop output must be a window of the padded image"
        seen.add(windows[0])
    assert len(seen) > 3
    tensor = transforms.ToTensor()(pixels)
    flipped = transforms.RandomHorizontalFlip(p=1.0)(tensor)
    np.testing.assert_array_equal(flipped.numpy(), torch.flip(_torch_to_tensor(pixels), [2]))
    flipped_pil = transforms.RandomHorizontalFlip(p=1.0)(Image.fromarray(pixels))
    assert isinstance(flipped_pil, Image.Image) and flipped_pil.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(flipped_pil), pixels[:, ::-1])
    with pytest.raises(ValueError, match="larger than input image size"):
        transforms.RandomCrop(9)(tensor)
    grown = transforms.RandomCrop(10, pad_if_needed=True)(tensor)
    assert grown.shape == (3, 10, 10)


@pytest.mark.parametrize("mode, torch_mode", [("constant", "constant"), ("edge", "replicate"),
                                              ("reflect", "reflect")])
def test_pad_matches_torch_pad(mode, torch_mode):
    x = _torch_to_tensor(_rgb())
    out = transforms.Pad((1, 2, 3, 4), padding_mode=mode)(mt.Tensor(x.numpy()))
    expected = torch.nn.functional.pad(x[None], (1, 3, 2, 4), mode=torch_mode)[0]
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_center_crop_offsets_and_padding_as_torchvision():
    x = np.arange(7 * 9, dtype=np.float32).reshape(1, 7, 9)
    out = transforms.CenterCrop((3, 4))(mt.Tensor(x)).numpy()
    top, left = int(round((7 - 3) / 2.0)), int(round((9 - 4) / 2.0))  # torchvision's rule
    np.testing.assert_array_equal(out, x[:, top : top + 3, left : left + 4])
    bigger = transforms.CenterCrop(11)(mt.Tensor(x)).numpy()  # torchvision pads with zeros
    assert bigger.shape == (1, 11, 11) and bigger[0, 0, 0] == 0
    np.testing.assert_array_equal(bigger[:, 2:9, 1:10], x)


def test_grayscale_pil_and_tensor():
    pixels = _rgb()
    gray = transforms.Grayscale()(Image.fromarray(pixels))
    assert gray.mode == "L"
    pillow_gray = Image.fromarray(pixels).convert("L")
    np.testing.assert_array_equal(np.asarray(gray), np.asarray(pillow_gray))
    assert transforms.Grayscale(3)(Image.fromarray(pixels)).mode == "RGB"
    x = _torch_to_tensor(pixels)
    out = transforms.Grayscale()(mt.Tensor(x.numpy()))
    expected = (0.2989 * x[0] + 0.587 * x[1] + 0.114 * x[2])[None]  # torchvision's weights
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-6)


def test_random_rotation_pil_and_tensor():
    pixels = _gray(7, 7)
    quarter = transforms.RandomRotation((90, 90))
    out = quarter(Image.fromarray(pixels))
    np.testing.assert_array_equal(np.asarray(out), np.asarray(Image.fromarray(pixels).rotate(90)))
    np.testing.assert_array_equal(np.asarray(out), np.rot90(pixels))  # counter-clockwise
    tensor = quarter(transforms.ToTensor()(pixels))
    np.testing.assert_allclose(tensor.numpy()[0], np.rot90(pixels) / 255, atol=1e-7)
    assert quarter.interpolation == transforms.InterpolationMode.NEAREST  # torchvision's default


def test_lambda_and_target_transform_one_hot_as_in_the_tutorial():
    # the "Transforms" tutorial one-hot encodes with scatter_ (not in minitorch_cv: see
    # docs/torch_compat.md); the same target_transform written with indexing
    one_hot = transforms.Lambda(lambda y: mt.eye(10)[y])
    out = one_hot(3)
    assert isinstance(out, mt.Tensor) and out.shape == (10,)
    assert out.numpy().argmax() == 3 and out.numpy().sum() == 1
    with pytest.raises(TypeError, match="callable"):
        transforms.Lambda(3)


def _torchvision_make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None,
                           scale_each=False, pad_value=0.0):
    """torchvision.utils.make_grid's algorithm (v0.2x), typed from its source, in torch."""
    if isinstance(tensor, list):
        tensor = torch.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = torch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = torch.cat((tensor, tensor, tensor), 1)
    if normalize:
        tensor = tensor.clone()

        def norm_ip(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def norm_range(t):
            if value_range is not None:
                norm_ip(t, value_range[0], value_range[1])
            else:
                norm_ip(t, float(t.min()), float(t.max()))

        if scale_each:
            for t in tensor:
                norm_range(t)
        else:
            norm_range(tensor)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding),
                           pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(
                2, x * width + padding, width - padding
            ).copy_(tensor[k])
            k = k + 1
    return grid


GRID_CASES = [
    dict(),
    dict(nrow=3),
    dict(nrow=2, padding=0),
    dict(padding=5, pad_value=0.5),
    dict(normalize=True),
    dict(normalize=True, value_range=(-0.5, 0.5)),
    dict(normalize=True, scale_each=True, nrow=4),
]


@pytest.mark.parametrize("kwargs", GRID_CASES, ids=[str(k) for k in GRID_CASES])
@pytest.mark.parametrize("shape", [(5, 3, 4, 6), (7, 1, 5, 5), (1, 3, 4, 4), (3, 4)])
def test_make_grid_matches_torchvision_algorithm(kwargs, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out = torchvision.utils.make_grid(mt.Tensor(x), **kwargs)
    expected = _torchvision_make_grid(torch.from_numpy(x.copy()), **kwargs)
    assert isinstance(out, mt.Tensor) and out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_make_grid_of_a_list_and_save_image(tmp_path):
    images = [mt.Tensor(np.full((1, 3, 3), v, np.float32)) for v in (0.0, 0.5, 1.0)]
    grid = torchvision.utils.make_grid(images, nrow=2, padding=1, pad_value=1.0)
    expected = _torchvision_make_grid([torch.from_numpy(i.numpy()) for i in images], nrow=2,
                                      padding=1, pad_value=1.0)
    np.testing.assert_array_equal(grid.numpy(), expected.numpy())
    buffer = io.BytesIO()
    torchvision.utils.save_image(images, buffer, format="png", nrow=2, padding=1)
    saved = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    reference = _torchvision_make_grid([torch.from_numpy(i.numpy()) for i in images], nrow=2,
                                       padding=1)
    # torchvision: grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8)
    pixels = reference.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8)
    np.testing.assert_array_equal(saved, pixels.numpy())
    path = tmp_path / "grid.png"
    torchvision.utils.save_image(images[0], path)
    assert Image.open(path).size == (3, 3)


def _gray_torch(x):
    return 0.2989 * x[..., 0:1, :, :] + 0.587 * x[..., 1:2, :, :] + 0.114 * x[..., 2:3, :, :]


def test_color_adjustments_match_torchvision_formulas():
    from minitorch_cv.data import color

    x = _torch_to_tensor(_rgb(5, 7))
    ours = x.numpy()
    # torchvision's _blend(img1, img2, ratio) = (ratio * img1 + (1 - ratio) * img2).clamp(0, 1)
    cases = {
        color.adjust_brightness: lambda f: (f * x).clamp(0, 1),
        color.adjust_contrast: lambda f: (f * x + (1 - f) * _gray_torch(x).mean()).clamp(0, 1),
        color.adjust_saturation: lambda f: (f * x + (1 - f) * _gray_torch(x)).clamp(0, 1),
    }
    for function, expected in cases.items():
        for factor in (0.0, 0.6, 1.7):
            np.testing.assert_allclose(function(ours, factor), expected(factor).numpy(),
                                       atol=2e-6)
    import colorsys

    for shift in (-0.5, -0.2, 0.0, 0.3):
        out = color.adjust_hue(ours, shift)
        for r, c in [(0, 0), (2, 3), (4, 6)]:
            h, s, v = colorsys.rgb_to_hsv(*ours[:, r, c])
            np.testing.assert_allclose(out[:, r, c], colorsys.hsv_to_rgb((h + shift) % 1, s, v),
                                       atol=1e-6)
    with pytest.raises(ValueError, match="hue_factor"):
        color.adjust_hue(ours, 0.7)


def test_color_jitter_on_pil_uses_pillow_as_torchvision():
    from PIL import ImageEnhance

    image = Image.fromarray(_rgb(6, 6))
    out = transforms.ColorJitter(brightness=(1.5, 1.5))(image)
    np.testing.assert_array_equal(np.asarray(out),
                                  np.asarray(ImageEnhance.Brightness(image).enhance(1.5)))
    out = transforms.ColorJitter(saturation=(0.3, 0.3))(image)
    np.testing.assert_array_equal(np.asarray(out),
                                  np.asarray(ImageEnhance.Color(image).enhance(0.3)))
    # torchvision's PIL hue: add int(hue * 255) to the H band of HSV, wrapping around
    out = transforms.ColorJitter(hue=(0.1, 0.1))(image)
    h, s, v = image.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    with np.errstate(over="ignore"):
        np_h += np.int32(0.1 * 255).astype(np.uint8)
    expected = Image.merge("HSV", (Image.fromarray(np_h, "L"), s, v)).convert("RGB")
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))
    for bad in (dict(brightness=-1), dict(hue=0.6), dict(contrast=(1.5, 0.5))):
        with pytest.raises(ValueError):
            transforms.ColorJitter(**bad)
    jitter = transforms.ColorJitter(0.4, 0.4, 0.4, 0.1)
    mt.manual_seed(1)
    a = jitter(transforms.ToTensor()(_rgb()))
    mt.manual_seed(1)
    b = jitter(transforms.ToTensor()(_rgb()))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert 0 <= a.numpy().min() and a.numpy().max() <= 1


def test_to_pil_image_as_torchvision():
    x = torch.rand(3, 4, 5)
    image = transforms.ToPILImage()(mt.Tensor(x.numpy()))
    assert image.mode == "RGB" and image.size == (5, 4)
    # torchvision: pic.mul(255).byte(), then (H, W, C)
    np.testing.assert_array_equal(np.asarray(image), x.mul(255).byte().permute(1, 2, 0).numpy())
    gray = transforms.ToPILImage()(mt.Tensor(x.numpy()[:1]))
    assert gray.mode == "L"
    pixels = _rgb()
    back = transforms.ToPILImage()(transforms.PILToTensor()(Image.fromarray(pixels)))
    np.testing.assert_array_equal(np.asarray(back), pixels)
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
        transforms.ToPILImage()(Image.fromarray(pixels))


def test_random_erasing_random_apply_random_grayscale():
    x = mt.Tensor(np.ones((3, 20, 20), np.float32))
    mt.manual_seed(0)
    for _ in range(10):
        out = transforms.RandomErasing(p=1.0, value=0)(x).numpy()
        erased = out[0] == 0
        rows, cols = np.nonzero(erased)
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert erased.sum() == h * w  # one rectangle, the same in every channel
        assert np.array_equal(out[1] == 0, erased)
        assert 0.02 * 400 * 0.7 <= h * w <= 0.33 * 400 * 1.3  # area from `scale`, rounded
    np.testing.assert_array_equal(transforms.RandomErasing(p=0.0)(x).numpy(), x.numpy())
    noisy = transforms.RandomErasing(p=1.0, value="random")(x).numpy()
    assert (noisy != 1).any()
    with pytest.raises(TypeError, match="Tensor Image"):
        transforms.RandomErasing()(Image.fromarray(_rgb()))
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        transforms.RandomErasing(scale=(0.5, 2))
    flip = transforms.RandomApply([transforms.RandomHorizontalFlip(p=1.0)], p=1.0)
    np.testing.assert_array_equal(flip(x).numpy(), x.numpy()[..., ::-1])
    never = transforms.RandomApply([transforms.RandomHorizontalFlip(p=1.0)], p=0.0)
    image = Image.fromarray(_rgb())
    assert never(image) is image
    gray = transforms.RandomGrayscale(p=1.0)(image)
    assert gray.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(gray)[..., 0], np.asarray(image.convert("L")))


def test_functional_api_as_torchvision():
    from PIL import ImageEnhance

    import minitorch_cv.vision.transforms.functional as TF

    pixels = _rgb(6, 8)
    image, tensor = Image.fromarray(pixels), TF.to_tensor(Image.fromarray(pixels))
    x = _torch_to_tensor(pixels)
    np.testing.assert_array_equal(TF.hflip(tensor).numpy(), torch.flip(x, [2]).numpy())
    np.testing.assert_array_equal(TF.vflip(tensor).numpy(), torch.flip(x, [1]).numpy())
    np.testing.assert_array_equal(np.asarray(TF.hflip(image)), pixels[:, ::-1])
    np.testing.assert_array_equal(TF.crop(tensor, 1, 2, 3, 4).numpy(), x[:, 1:4, 2:6].numpy())
    np.testing.assert_array_equal(np.asarray(TF.crop(image, 1, 2, 3, 4)), pixels[1:4, 2:6])
    outside = TF.crop(tensor, -1, 6, 3, 4).numpy()  # torchvision pads with zeros
    assert outside.shape == (3, 3, 4)
    assert (outside[:, 0] == 0).all() and (outside[:, :, 2:] == 0).all()
    np.testing.assert_array_equal(outside[:, 1:, :2], x[:, :2, 6:].numpy())
    rotated = TF.rotate(image, 90)
    np.testing.assert_array_equal(np.asarray(rotated), np.asarray(image.rotate(90)))
    assert TF.resized_crop(tensor, 0, 0, 4, 4, [2, 2]).shape == (3, 2, 2)
    np.testing.assert_array_equal(np.asarray(TF.adjust_contrast(image, 0.5)),
                                  np.asarray(ImageEnhance.Contrast(image).enhance(0.5)))
    np.testing.assert_allclose(TF.adjust_brightness(tensor, 0.5).numpy(), (0.5 * x).numpy(),
                               atol=1e-7)
    np.testing.assert_allclose(TF.normalize(tensor, [0.5] * 3, [0.5] * 3).numpy(),
                               ((x - 0.5) / 0.5).numpy(), atol=1e-6)
    mt.manual_seed(0)
    state = mt.random.generator("cpu").bit_generator.state
    TF.adjust_hue(tensor, 0.2)
    TF.adjust_saturation(image, 0.2)
    assert mt.random.generator("cpu").bit_generator.state == state  # no random draws
    assert TF.to_pil_image(TF.pil_to_tensor(image)).size == image.size
    erased = TF.erase(tensor, 1, 1, 2, 2, 0.0)
    assert (erased.numpy()[:, 1:3, 1:3] == 0).all() and (tensor.numpy()[:, 1:3, 1:3] != 0).any()
