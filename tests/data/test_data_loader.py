"""Dataset, Subset, random_split and DataLoader: lengths, dtypes, reproducible shuffling."""

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _images_and_labels(n=10):
    images = np.arange(n * 2 * 3 * 3, dtype=np.float64).reshape(n, 2, 3, 3)
    labels = np.arange(n) % 4
    return images, labels


class ListDataset(Dataset):
    """A dataset without get_batch, so the loader takes the per-item path."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], int(self.labels[i])


@pytest.mark.parametrize(
    "n, batch_size, drop_last, expected",
    [(10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (9, 3, True, 3), (2, 5, True, 0)],
)
def test_len_is_number_of_batches(n, batch_size, drop_last, expected):
    loader = DataLoader(TensorDataset(*_images_and_labels(n)), batch_size, drop_last=drop_last)
    assert len(loader) == expected
    batches = list(loader)
    assert len(batches) == expected
    sizes = [len(x) for x, _ in batches]
    if drop_last:
        assert all(s == batch_size for s in sizes)
    else:
        assert sum(sizes) == n


@pytest.mark.parametrize("dataset_cls", [TensorDataset, ListDataset])
def test_collate_dtypes_and_values(dataset_cls):
    images, labels = _images_and_labels()
    loader = DataLoader(dataset_cls(images, labels), batch_size=4)
    x, y = next(iter(loader))
    assert isinstance(x, mt.Tensor) and isinstance(y, mt.Tensor)
    assert x.dtype == np.float64 and x.shape == (4, 2, 3, 3)  # dtype kept, as torch
    assert y.dtype == np.int64 and y.shape == (4,)
    np.testing.assert_array_equal(x.numpy(), images[:4])
    np.testing.assert_array_equal(y.numpy(), labels[:4])


def test_fast_path_is_one_fancy_index():
    calls = []

    class Spy(TensorDataset):
        def __getitem__(self, index):
            calls.append(index)
            return super().__getitem__(index)

    loader = DataLoader(Spy(*_images_and_labels()), batch_size=4)
    list(loader)
    assert calls == []  # get_batch served every batch
    list(DataLoader(Spy(*_images_and_labels()), batch_size=4, collate_fn=default_collate))
    assert len(calls) == 10  # a collate_fn asks for samples one by one


def test_uint8_arrays_keep_dtype_and_dicts_collate():
    samples = [{"image": np.full((2, 2), i, np.uint8), "label": np.int32(i)} for i in range(3)]
    batch = default_collate(samples)
    assert batch["image"].dtype == np.uint8 and batch["image"].shape == (3, 2, 2)
    assert batch["label"].dtype == np.int32  # a NumPy scalar keeps its dtype, as torch


def test_shuffle_with_seed_is_reproducible_and_fresh_each_epoch():
    dataset = TensorDataset(np.arange(50), np.arange(50))

    def epochs(loader, n=3):
        return [np.concatenate([x.numpy() for x, _ in loader]) for _ in range(n)]

    first = epochs(DataLoader(dataset, batch_size=8, shuffle=True, seed=7))
    second = epochs(DataLoader(dataset, batch_size=8, shuffle=True, seed=7))
    other = epochs(DataLoader(dataset, batch_size=8, shuffle=True, seed=8))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # a new order every epoch
    assert not np.array_equal(first[0], other[0])
    for order in first:  # every sample exactly once per epoch
        np.testing.assert_array_equal(np.sort(order), np.arange(50))
    unshuffled = np.concatenate([x.numpy() for x, _ in DataLoader(dataset, batch_size=8)])
    np.testing.assert_array_equal(unshuffled, np.arange(50))


def test_shuffle_without_seed_follows_manual_seed():
    dataset = TensorDataset(np.arange(30))
    mt.manual_seed(3)
    a = [b[0].numpy() for b in DataLoader(dataset, batch_size=30, shuffle=True)]
    mt.manual_seed(3)
    b = [b[0].numpy() for b in DataLoader(dataset, batch_size=30, shuffle=True)]
    np.testing.assert_array_equal(a[0], b[0])


def test_next_iter_draws_a_new_shuffled_batch():
    # The Trainer takes `next(iter(loader))` once per step.
    loader = DataLoader(TensorDataset(np.arange(100)), batch_size=10, shuffle=True, seed=0)
    first = next(iter(loader))[0].numpy()
    second = next(iter(loader))[0].numpy()
    assert not np.array_equal(first, second)


def test_subset_and_random_split():
    images, labels = _images_and_labels(20)
    dataset = TensorDataset(images, labels)
    parts = random_split(dataset, [0.7, 0.3], generator=5)
    assert [len(p) for p in parts] == [14, 6]
    union = np.concatenate([p.indices for p in parts])
    np.testing.assert_array_equal(np.sort(union), np.arange(20))
    again = random_split(dataset, [14, 6], generator=np.random.default_rng(5))
    np.testing.assert_array_equal(parts[0].indices, again[0].indices)
    mt.manual_seed(1)
    global_a = random_split(dataset, [10, 10])[0].indices
    mt.manual_seed(1)
    np.testing.assert_array_equal(global_a, random_split(dataset, [10, 10])[0].indices)

    subset = parts[1]
    x, y = next(iter(DataLoader(subset, batch_size=6)))
    np.testing.assert_array_equal(y.numpy(), labels[subset.indices])
    np.testing.assert_array_equal(subset[2][0], images[subset.indices[2]])
    assert not hasattr(Subset(ListDataset(images, labels), [0, 1]), "get_batch")


def test_random_split_rejects_bad_lengths():
    dataset = TensorDataset(np.arange(10))
    with pytest.raises(ValueError, match="sum to the dataset length"):
        random_split(dataset, [3, 3])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(dataset, [0.5, 0.2])


def test_tensor_dataset_checks_lengths_and_accepts_tensors():
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))
    dataset = TensorDataset(mt.arange(6), mt.zeros(6, 2))
    x, y = next(iter(DataLoader(dataset, batch_size=6)))
    assert x.dtype == np.int64 and y.dtype == np.float32 and y.shape == (6, 2)


def _image_dataset(transform=None, target_transform=None, rgb=False):
    from minitorch_cv.data.vision import ImageDataset

    dataset = ImageDataset()
    rng = np.random.default_rng(0)
    shape = (12, 6, 6, 3) if rgb else (12, 6, 6)
    dataset.data = rng.integers(0, 256, shape, dtype=np.uint8)
    dataset.targets = rng.integers(0, 10, 12).astype(np.int64)
    dataset.transform, dataset.target_transform = transform, target_transform
    return dataset


@pytest.mark.parametrize("rgb", [False, True])
def test_image_dataset_batched_path_equals_image_by_image(rgb):
    from minitorch_cv.data import transforms as T

    channels = 3 if rgb else 1
    normalize = T.Normalize((0.5,) * channels, (0.2,) * channels)
    transform = T.Compose([T.ToTensor(), T.CenterCrop(4), normalize, T.Lambda(lambda x: x * 2)])
    dataset = _image_dataset(transform, target_transform=lambda y: y + 1, rgb=rgb)
    assert hasattr(dataset, "get_batch")
    fast = list(DataLoader(dataset, batch_size=5))
    slow = list(DataLoader(dataset, batch_size=5, collate_fn=default_collate))
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert fx.dtype == sx.dtype == np.float32
        assert fx.shape == sx.shape == (len(fx), channels, 4, 4)
        np.testing.assert_allclose(fx.numpy(), sx.numpy(), rtol=1e-6)
        assert fy.dtype == sy.dtype and np.array_equal(fy.numpy(), sy.numpy())
    # a transform that starts on PIL images goes image by image
    assert not hasattr(_image_dataset(T.Compose([T.Resize(3), T.ToTensor()])), "get_batch")
    assert not hasattr(_image_dataset(), "get_batch")


def test_generator_seeds_and_state():
    g = mt.Generator().manual_seed(5)
    a = random_split(range(20), [10, 10], generator=g)[0].indices
    state = g.get_state()
    b = random_split(range(20), [10, 10], generator=g)[0].indices
    g.set_state(state)
    assert random_split(range(20), [10, 10], generator=g)[0].indices == b
    fresh = mt.Generator().manual_seed(5)
    assert random_split(range(20), [10, 10], generator=fresh)[0].indices == a
    assert g.initial_seed() == 5
    with pytest.raises(TypeError, match="generator must be"):
        random_split(range(4), [2, 2], generator="seed")
