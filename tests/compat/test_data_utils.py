"""torch.utils.data, as a student writes it, run on minitorch_cv.utils.data and on torch.

Where torch's random numbers cannot be matched (shuffles, splits), the comparison is of
structure, dtypes, shapes and the properties the documentation promises; sequential loading
is compared value for value.
"""

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import minitorch_cv as mt
import minitorch_cv.utils.data as mud


def _plain(batch):
    """A batch of either library as nested lists of (dtype name, values) for comparison."""
    if isinstance(batch, (torch.Tensor, mt.Tensor)):
        array = batch.numpy()
        return ("tensor", str(array.dtype), array.shape, array.tolist())
    if isinstance(batch, dict):
        return {key: _plain(value) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [_plain(value) for value in batch])
    return batch


def _data(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64) % 4
    return x, y


def test_tensor_dataset_items_are_tensors_as_torch():
    x, y = _data()
    ours = mud.TensorDataset(mt.tensor(x), mt.tensor(y))
    theirs = tud.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(ours) == len(theirs)
    for i in (0, 3, -1):
        features, label = ours[i]
        assert isinstance(features, mt.Tensor) and isinstance(label, mt.Tensor)
        assert _plain(list(ours[i])) == _plain(list(theirs[i]))
    assert label.item() == theirs[-1][1].item() and label.shape == ()
    with pytest.raises(AssertionError):  # torch asserts; ours is also a ValueError
        mud.TensorDataset(mt.zeros(3), mt.zeros(4))
    with pytest.raises(AssertionError):
        tud.TensorDataset(torch.zeros(3), torch.zeros(4))


SAMPLES = {
    "tuples of tensor and int": lambda i: (np.full((2, 2), i, np.float32), i),
    "python numbers": lambda i: (i, float(i) / 2, i % 2 == 0),
    "numpy scalars": lambda i: (np.int32(i), np.float32(i), np.float64(i)),
    "numpy arrays keep dtype": lambda i: np.arange(3, dtype=np.float64) + i,
    "dict with nested list": lambda i: {"x": np.full(2, i, np.uint8), "y": [i, float(i)]},
    "strings pass through": lambda i: ("name", i),
}


@pytest.mark.parametrize("kind", SAMPLES)
def test_default_collate_matches_torch(kind):
    samples = [SAMPLES[kind](i) for i in range(3)]
    ours = mud.default_collate(samples)

    theirs = tud.default_collate(samples)
    assert _plain(ours) == _plain(theirs)


def test_default_collate_errors_as_torch():
    for bad in ([[1, 2], [1]],):
        with pytest.raises(RuntimeError, match="equal size"):
            tud.default_collate(bad)
        with pytest.raises(RuntimeError, match="equal size"):
            mud.default_collate(bad)
    for bad in ([object(), object()], [np.array(["a"]), np.array(["b"])]):
        with pytest.raises(TypeError, match="default_collate: batch must contain"):
            tud.default_collate(bad)
        with pytest.raises(TypeError, match="default_collate: batch must contain"):
            mud.default_collate(bad)


class Squares(mud.Dataset):
    """A student's map-style dataset: (x, x**2) with x a float vector."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        x = np.full(2, i, dtype=np.float32)
        return x, x**2, i


class TorchSquares(tud.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        x = np.full(2, i, dtype=np.float32)
        return x, x**2, i


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(batch_size=4),
        dict(batch_size=4, drop_last=True),
        dict(batch_size=None),
        dict(batch_sampler=[[3, 1], [0], [5, 6, 2]]),
        dict(sampler=[9, 8, 7], batch_size=2),
        dict(batch_size=3, collate_fn=lambda batch: [s[2] for s in batch]),
    ],
)
def test_sequential_loading_equals_torch(kwargs):
    ours = mud.DataLoader(Squares(10), **kwargs)
    theirs = tud.DataLoader(TorchSquares(10), **kwargs)
    assert len(ours) == len(theirs)
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]


def test_tensor_dataset_loader_equals_torch_and_fast_path_equals_samples():
    x, y = _data(11)
    ours = mud.TensorDataset(mt.tensor(x), mt.tensor(y))
    theirs = tud.TensorDataset(torch.tensor(x), torch.tensor(y))
    for batch_size in (1, 4, 11):
        fast = list(mud.DataLoader(ours, batch_size=batch_size))
        slow = list(mud.DataLoader(ours, batch_size=batch_size, collate_fn=mud.default_collate))
        torch_batches = list(tud.DataLoader(theirs, batch_size=batch_size))
        assert [_plain(b) for b in fast] == [_plain(b) for b in torch_batches]
        assert [_plain(b) for b in slow] == [_plain(b) for b in torch_batches]


BAD_ARGUMENTS = [
    dict(num_workers=-1),
    dict(timeout=-1),
    dict(prefetch_factor=2),
    dict(persistent_workers=True),
    dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(batch_size=0),
    dict(batch_size=1.5),
    dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="threads"),
]


@pytest.mark.parametrize("kwargs", BAD_ARGUMENTS, ids=[str(k) for k in BAD_ARGUMENTS])
def test_invalid_arguments_raise_as_torch(kwargs):
    with pytest.raises(Exception) as theirs:
        tud.DataLoader(range(4), **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        mud.DataLoader(Squares(4), **kwargs)
    assert str(theirs.value).split(" ")[:3] == str(ours.value).split(" ")[:3]


def test_attributes_are_frozen_after_init_as_torch():
    loader = mud.DataLoader(Squares(4), batch_size=2)
    for name in ("batch_size", "sampler", "drop_last", "dataset"):
        with pytest.raises(ValueError, match="should not be set after DataLoader is initialized"):
            setattr(loader, name, 3)
    loader.num_workers = 1  # torch allows the others
    with pytest.warns(UserWarning, match="pin_memory"):
        mud.DataLoader(Squares(4), pin_memory=True)  # no accelerator: torch warns the same


def test_every_torch_argument_is_accepted():
    loader = mud.DataLoader(
        Squares(8), batch_size=2, shuffle=True, num_workers=2, collate_fn=None,
        pin_memory=False, drop_last=False, timeout=5, worker_init_fn=None,
        multiprocessing_context="fork", generator=mt.Generator().manual_seed(0),
        prefetch_factor=4, persistent_workers=True, pin_memory_device="", in_order=True,
    )
    assert sorted(i for batch in loader for i in batch[2].tolist()) == list(range(8))


def _epoch(loader):
    return [i for _, _, idx in loader for i in idx.tolist()]


def test_shuffle_with_generator_is_reproducible_like_torch():
    def run(lib, gen):
        loader = lib.DataLoader((Squares if lib is mud else TorchSquares)(20), batch_size=6,
                                shuffle=True, generator=gen.manual_seed(42))
        return [_epoch(loader) for _ in range(3)]

    for lib, gen_cls in ((mud, mt.Generator), (tud, torch.Generator)):
        first, second = run(lib, gen_cls()), run(lib, gen_cls())
        assert first == second  # same seed, same orders
        assert first[0] != first[1]  # a new order each epoch
        assert all(sorted(order) == list(range(20)) for order in first)
    mt.manual_seed(3)
    a = _epoch(mud.DataLoader(Squares(20), batch_size=6, shuffle=True))
    mt.manual_seed(3)
    assert a == _epoch(mud.DataLoader(Squares(20), batch_size=6, shuffle=True))


def test_random_split_as_torch():
    for lengths in ([0.8, 0.2], [0.3, 0.3, 0.4], [0.33, 0.33, 0.34], [7, 3]):
        for n in (10, 11, 50):
            if isinstance(lengths[0], int) and sum(lengths) != n:
                continue
            ours = mud.random_split(range(n), lengths, generator=mt.Generator().manual_seed(1))
            theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(1))
            assert [len(p) for p in ours] == [len(p) for p in theirs]
            union = sorted(i for part in ours for i in part)
            assert union == list(range(n))  # disjoint and complete
            assert isinstance(ours[0], mud.Subset) and isinstance(ours[0].indices, list)
    a = mud.random_split(range(30), [0.5, 0.5], generator=mt.Generator().manual_seed(42))
    b = mud.random_split(range(30), [0.5, 0.5], generator=mt.Generator().manual_seed(42))
    assert a[0].indices == b[0].indices
    with pytest.raises(ValueError, match="Sum of input lengths"):
        tud.random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Sum of input lengths"):
        mud.random_split(range(10), [3, 3])


def test_samplers_as_torch():
    sequential = list(mud.BatchSampler(mud.SequentialSampler(range(10)), 3, drop_last=False))
    assert sequential == list(tud.BatchSampler(tud.SequentialSampler(range(10)), 3, False))
    assert len(mud.BatchSampler(range(10), 3, True)) == len(tud.BatchSampler(range(10), 3, True))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        mud.BatchSampler(range(10), 0, False)
    order = list(mud.RandomSampler(range(7), generator=mt.Generator().manual_seed(0)))
    assert sorted(order) == list(range(7))
    more = list(mud.RandomSampler(range(4), num_samples=10))  # whole permutations in turn
    assert len(more) == 10 and sorted(more[:4]) == sorted(more[4:8]) == [0, 1, 2, 3]
    drawn = list(mud.RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    subset = list(mud.SubsetRandomSampler([10, 20, 30]))
    assert sorted(subset) == [10, 20, 30]
    weighted = list(mud.WeightedRandomSampler([0.0, 1.0, 3.0], 4000))
    counts = np.bincount(weighted, minlength=3)
    assert counts[0] == 0 and 2.6 < counts[2] / counts[1] < 3.4  # 3 : 1, as the weights
    unique = list(mud.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(unique) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        mud.WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        tud.WeightedRandomSampler([1.0], 0)
    loader = mud.DataLoader(Squares(6), batch_size=2, sampler=mud.SubsetRandomSampler([1, 3]))
    assert sorted(_epoch(loader)) == [1, 3]


def test_concat_dataset_and_plus_as_torch():
    ours = mud.ConcatDataset([Squares(3), Squares(4)])
    theirs = tud.ConcatDataset([TorchSquares(3), TorchSquares(4)])
    assert len(ours) == len(theirs) == 7 and ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i][2] for i in range(-7, 7)] == [theirs[i][2] for i in range(-7, 7)]
    assert len(Squares(2) + Squares(5)) == 7
    with pytest.raises(IndexError):
        ours[7]


class Shard(mud.IterableDataset):
    """torch's documented IterableDataset example: each worker takes its share of a range."""

    def __init__(self, start, end, info=mud.get_worker_info):
        self.start, self.end, self.info = start, end, info

    def __iter__(self):
        worker = self.info()
        if worker is None:
            return iter(range(self.start, self.end))
        per_worker = int(np.ceil((self.end - self.start) / worker.num_workers))
        lo = self.start + worker.id * per_worker
        return iter(range(lo, min(lo + per_worker, self.end)))


class TorchShard(tud.IterableDataset):
    def __init__(self, start, end):
        self.shard = Shard(start, end, tud.get_worker_info)

    def __iter__(self):
        return iter(self.shard)


def test_iterable_dataset_with_workers_matches_torch_worker_processes():
    for num_workers in (0, 2):
        ours = [b.tolist() for b in mud.DataLoader(Shard(3, 7), num_workers=num_workers)]
        context = "fork" if num_workers else None  # fork: quick to start, nothing to pickle
        theirs = [b.tolist() for b in tud.DataLoader(TorchShard(3, 7), num_workers=num_workers,
                                                      multiprocessing_context=context)]
        assert ours == theirs  # 2 workers: [[3], [5], [4], [6]] in both
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        mud.DataLoader(Shard(0, 4), shuffle=True)
    assert [b.tolist() for b in mud.DataLoader(Shard(0, 5), batch_size=2)] == [[0, 1], [2, 3], [4]]


def test_num_workers_gives_identical_batches_and_calls_worker_init_fn():
    from minitorch_cv.data import transforms as T

    images = (np.arange(16 * 6 * 6) % 251).astype(np.uint8).reshape(16, 6, 6)

    class Images(mud.Dataset):
        transform = T.Compose([T.ToTensor(), T.RandomCrop(4, padding=1), T.RandomHorizontalFlip()])

        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            return self.transform(images[i]), i

    def run(num_workers, calls):
        mt.manual_seed(5)

        def init(worker_id):
            info = mud.get_worker_info()
            calls.append((worker_id, info.id, info.num_workers))

        loader = mud.DataLoader(Images(), batch_size=5, shuffle=True, num_workers=num_workers,
                                worker_init_fn=init if num_workers else None)
        return [_plain(b) for _ in range(2) for b in loader]

    calls = []
    assert run(0, []) == run(2, calls)
    assert calls == [(0, 0, 2), (1, 1, 2)] * 2  # once per worker per epoch, as torch
    assert mud.get_worker_info() is None  # outside a worker, as torch


SUPPORTED = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
             "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
             "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert",
             "get_worker_info", "random_split"]


def test_torch_import_paths_exist():
    import importlib

    for name in SUPPORTED:
        assert name in tud.__all__ and hasattr(mud, name), name
    for module, names in {"dataloader": ["DataLoader", "default_collate", "get_worker_info"],
                          "dataset": ["Dataset", "Subset", "TensorDataset", "random_split"],
                          "sampler": ["BatchSampler", "RandomSampler", "Sampler"]}.items():
        ours = importlib.import_module(f"minitorch_cv.utils.data.{module}")
        theirs = importlib.import_module(f"torch.utils.data.{module}")
        for name in names:
            assert hasattr(theirs, name) and getattr(ours, name) is getattr(mud, name)
    assert mt.utils.data.DataLoader is mud.DataLoader  # reachable as torch.utils.data.X
