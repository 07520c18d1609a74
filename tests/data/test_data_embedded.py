"""The embedded Fashion-MNIST subset, the fallback to it, and image datasets in a DataLoader."""

import warnings
from pathlib import Path

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.data import (
    Compose,
    DataLoader,
    EmbeddedDataWarning,
    EmbeddedFashionMNIST,
    FashionMNIST,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    ToTensor,
    read_idx,
    vision,
)
from minitorch_cv.data import download as dl

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_embedded_subset_is_balanced_and_small():
    assert vision.EMBEDDED_PATH.stat().st_size < 5_000_000
    train, test = EmbeddedFashionMNIST(train=True), EmbeddedFashionMNIST(train=False)
    assert train.data.shape == (10000, 28, 28) and train.data.dtype == np.uint8
    assert test.data.shape == (1000, 28, 28)
    assert np.bincount(train.targets, minlength=10).tolist() == [1000] * 10
    assert np.bincount(test.targets, minlength=10).tolist() == [100] * 10
    assert train.targets.dtype == np.int64 and train.classes == FashionMNIST.classes
    assert train.data.std() > 50  # real images, not blank


def test_embedded_subset_records_its_sources():
    with np.load(vision.EMBEDDED_PATH) as archive:
        recorded = [str(s) for s in archive["source_md5"]]
        indices = {split: archive[f"{split}_indices"] for split in ("train", "test")}
        assert int(archive["seed"]) == 0
    assert recorded == [f"{name} {md5}" for name, md5 in FashionMNIST.resources]
    for split_indices in indices.values():
        assert np.all(np.diff(split_indices) > 0)  # distinct, in file order
    if not (SHARED / "fashion-mnist").is_dir():
        pytest.skip(f"shared datasets not found at {SHARED}: cannot compare with the originals")
    folder = SHARED / "fashion-mnist"
    for split, prefix in [("train", "train"), ("test", "t10k")]:
        official = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
        labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
        embedded = EmbeddedFashionMNIST(train=split == "train")
        np.testing.assert_array_equal(embedded.data, official[indices[split]])
        np.testing.assert_array_equal(embedded.targets, labels[indices[split]])


def test_fashion_mnist_falls_back_to_embedded_once(tmp_path, monkeypatch):
    monkeypatch.delenv(dl.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(vision, "_embedded_warned", False)
    with pytest.warns(EmbeddedDataWarning, match="--data-dir"):
        train = FashionMNIST()
    assert train.is_embedded and len(train) == 10000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second use is silent
        assert len(FashionMNIST(train=False)) == 1000


def test_image_dataset_batches_match_single_items():
    transform = Compose([ToTensor(), Normalize((0.286,), (0.353,))])
    dataset = EmbeddedFashionMNIST(train=False, transform=transform)
    loader = DataLoader(dataset, batch_size=64, shuffle=True, seed=0)
    images, labels = next(iter(loader))
    assert images.dtype == np.float32 and images.shape == (64, 1, 28, 28)
    assert labels.dtype == np.int64 and labels.shape == (64,)
    order = np.random.default_rng(0).permutation(len(dataset))[:64]
    for k in (0, 17, 63):
        image, label = dataset[int(order[k])]
        np.testing.assert_allclose(images.numpy()[k], image, rtol=1e-6)
        assert labels.numpy()[k] == label
    assert len(loader) == 16  # ceil(1000 / 64)


def test_augmented_loader_is_reproducible():
    transform = Compose([ToTensor(), RandomCrop(28, padding=4), RandomHorizontalFlip()])
    dataset = EmbeddedFashionMNIST(train=False, transform=transform)

    def first_batch():
        mt.manual_seed(5)
        return next(iter(DataLoader(dataset, batch_size=32, shuffle=True, seed=1)))[0].numpy()

    np.testing.assert_array_equal(first_batch(), first_batch())
