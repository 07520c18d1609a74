"""Whole data programs from the tutorials students copy, run with the imports changed.

Each program is written as in its source (the PyTorch tutorials "Datasets & DataLoaders" and
"Training a classifier", d2l's ``load_data_fashion_mnist``, a custom ``Dataset``,
``random_split`` with a generator, a training loop) with ``torch``/``torchvision`` replaced by
``minitorch_cv``/``minitorch_cv.vision``. Data comes from small files in torchvision's layouts
under ``tmp_path`` (``download=True`` fetches them from a local HTTP server); what torchvision
would return is computed from the same bytes with its documented rules, in torch.
"""

import functools
import gzip
import hashlib
import http.server
import io
import pickle
import tarfile
import threading

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from PIL import Image

import minitorch_cv as mt
import minitorch_cv.vision as torchvision
from minitorch_cv import nn
from minitorch_cv.data import cifar, vision
from minitorch_cv.data import download as dl
from minitorch_cv.utils.data import DataLoader, Dataset, random_split
from minitorch_cv.vision import datasets, transforms
from minitorch_cv.vision.transforms import Compose, Lambda, Normalize, Resize, ToTensor

N_TRAIN, N_TEST = 80, 20


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def _fake_mnist(seed=0):
    rng = np.random.default_rng(seed)
    files = {}
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        files[f"{prefix}-images-idx3-ubyte"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        files[f"{prefix}-labels-idx1-ubyte"] = rng.integers(0, 10, n, dtype=np.uint8)
    return files


def _torchvision_to_tensor(hwc: np.ndarray) -> torch.Tensor:
    """torchvision's ToTensor on uint8 (H, W[, C]): CHW float32 divided by 255."""
    hwc = np.array(hwc)
    if hwc.ndim == 2:
        hwc = hwc[:, :, None]
    return torch.from_numpy(hwc).permute(2, 0, 1).contiguous().float().div(255)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.delenv(dl.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    return tmp_path


@pytest.fixture
def fashion_root(isolated):
    """``root/FashionMNIST/raw/`` with uncompressed IDX files, as torchvision leaves them."""
    files = _fake_mnist()
    raw = isolated / "data" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name, array in files.items():
        (raw / name).write_bytes(_idx(array))
    return isolated / "data", files


@pytest.fixture
def local_server(isolated):
    """An HTTP server on 127.0.0.1 serving ``isolated / "served"``."""
    served = isolated / "served"
    served.mkdir()
    handler = functools.partial(
        type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None}),
        directory=str(served),
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def test_datasets_and_dataloaders_tutorial(fashion_root):
    root, files = fashion_root
    # --- the tutorial, imports changed ---
    training_data = datasets.FashionMNIST(root=root, train=True, download=False,
                                          transform=ToTensor())
    test_data = datasets.FashionMNIST(root=root, train=False, download=False,
                                      transform=ToTensor())
    labels_map = {0: "T-Shirt", 1: "Trouser", 2: "Pullover", 3: "Dress", 4: "Coat",
                  5: "Sandal", 6: "Shirt", 7: "Sneaker", 8: "Bag", 9: "Ankle Boot"}
    sample_idx = mt.randint(len(training_data), size=(1,)).item()
    img, label = training_data[sample_idx]
    title = labels_map[label]
    squeezed = img.squeeze()
    train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
    test_dataloader = DataLoader(test_data, batch_size=64, shuffle=True)
    train_features, train_labels = next(iter(train_dataloader))
    first_img, first_label = train_features[0].squeeze(), train_labels[0]
    # --- what torchvision gives for the same files ---
    images, labels = files["train-images-idx3-ubyte"], files["train-labels-idx1-ubyte"]
    assert isinstance(label, int) and title == labels_map[int(labels[sample_idx])]
    np.testing.assert_array_equal(img.numpy(), _torchvision_to_tensor(images[sample_idx]))
    assert tuple(squeezed.shape) == (28, 28) and img.dtype == np.float32
    assert tuple(train_features.size()) == (64, 1, 28, 28) and tuple(train_labels.size()) == (64,)
    assert train_labels.dtype == np.int64 and isinstance(first_label.item(), int)
    position = [i for i in range(N_TRAIN) if np.array_equal(first_img.numpy() * 255,
                                                             images[i].astype(np.float32))]
    assert position and labels[position[0]] == first_label.item()
    assert len(test_dataloader) == 1 and len(training_data) == N_TRAIN
    # the unshuffled batch equals torch's DataLoader over the same samples
    reference = tud.TensorDataset(_torchvision_to_tensor(images.transpose(1, 2, 0))[:, None],
                                  torch.from_numpy(labels.astype(np.int64)))
    ours = next(iter(DataLoader(training_data, batch_size=16)))
    theirs = next(iter(tud.DataLoader(reference, batch_size=16)))
    for a, b in zip(ours, theirs):
        assert a.dtype == b.numpy().dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_without_transform_items_are_pil_images_as_torchvision(fashion_root):
    root, files = fashion_root
    raw = datasets.FashionMNIST(root, train=False)
    image, target = raw[3]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(image), files["t10k-images-idx3-ubyte"][3])
    assert target == int(files["t10k-labels-idx1-ubyte"][3])
    with pytest.raises(TypeError, match="default_collate.*PIL.*ToTensor"):  # as torch
        next(iter(DataLoader(raw, batch_size=4)))
    with pytest.raises(FileNotFoundError, match="download=True"):
        datasets.MNIST(root, train=False)  # names the folders tried and the fixes


def _served_fashion(local_server, monkeypatch):
    served, url = local_server
    resources = []
    for name, array in _fake_mnist(seed=1).items():
        body = gzip.compress(_idx(array))
        (served / f"{name}.gz").write_bytes(body)
        resources.append((f"{name}.gz", hashlib.md5(body).hexdigest()))
    monkeypatch.setattr(vision.FashionMNIST, "resources", resources)
    monkeypatch.setattr(vision, "FASHION_MNIST_MIRRORS", [url])
    return _fake_mnist(seed=1)


def get_dataloader_workers():
    """d2l: use 4 processes to read the data."""
    return 4


def load_data_fashion_mnist(batch_size, resize=None, root="../data"):
    """d2l (PyTorch edition, chapter 3.5), imports changed; ``root`` added for the test."""
    trans = [transforms.ToTensor()]
    if resize:
        trans.insert(0, transforms.Resize(resize))
    trans = transforms.Compose(trans)
    mnist_train = torchvision.datasets.FashionMNIST(
        root=root, train=True, transform=trans, download=True)
    mnist_test = torchvision.datasets.FashionMNIST(
        root=root, train=False, transform=trans, download=True)
    return (DataLoader(mnist_train, batch_size, shuffle=True,
                       num_workers=get_dataloader_workers()),
            DataLoader(mnist_test, batch_size, shuffle=False,
                       num_workers=get_dataloader_workers()))


def test_d2l_load_data_fashion_mnist_with_resize(isolated, local_server, monkeypatch, capsys):
    files = _served_fashion(local_server, monkeypatch)
    train_iter, test_iter = load_data_fashion_mnist(32, resize=64, root=isolated / "d2l")
    for X, y in train_iter:
        assert (X.shape, X.dtype, y.shape, y.dtype) == ((32, 1, 64, 64), np.float32, (32,),
                                                         np.int64)
        break
    assert "downloading" in capsys.readouterr().out
    X, y = next(iter(test_iter))
    images = files["t10k-images-idx3-ubyte"]
    for i in range(3):  # torchvision: Pillow's bilinear resize of the PIL image, then ToTensor
        resized = np.asarray(Image.fromarray(images[i]).resize((64, 64), Image.BILINEAR))
        np.testing.assert_array_equal(X[i].numpy(), _torchvision_to_tensor(resized))
    np.testing.assert_array_equal(y.numpy(), files["t10k-labels-idx1-ubyte"][:32])
    assert len(train_iter) == -(-N_TRAIN // 32)
    # without resize the fast batched path gives the same batches as image by image
    fast = next(iter(load_data_fashion_mnist(16, root=isolated / "d2l")[1]))
    slow = [test_iter.dataset.transform.transforms[1](Image.fromarray(a)) for a in images[:16]]
    np.testing.assert_array_equal(fast[0].numpy(), np.stack([s.numpy() for s in slow]))


def _cifar_tarball(n=6, seed=0, md5s=None) -> tuple[bytes, dict]:
    """A small CIFAR-10 tarball; ``md5s`` receives each file's md5 (the loader checks them)."""
    rng = np.random.default_rng(seed)
    batches = {f"data_batch_{i}": n for i in range(1, 6)} | {"test_batch": n}
    contents = {}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        def add(name, obj):
            body = pickle.dumps(obj, protocol=2)
            if md5s is not None:
                md5s[name] = hashlib.md5(body).hexdigest()
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))

        for name, count in batches.items():
            contents[name] = {b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
                              b"labels": rng.integers(0, 10, count).tolist()}
            add(name, contents[name])
        names = [c.encode() for c in ("plane", "car", "bird", "cat", "deer", "dog", "frog",
                                      "horse", "ship", "truck")]
        add("batches.meta", {b"label_names": names})
    return buffer.getvalue(), contents


def test_training_a_classifier_tutorial_cifar10(isolated, local_server, monkeypatch):
    served, url = local_server
    md5s = {}
    body, contents = _cifar_tarball(md5s=md5s)
    (served / "cifar-10-python.tar.gz").write_bytes(body)
    monkeypatch.setattr(cifar, "CIFAR10_URLS", [url + "cifar-10-python.tar.gz"])
    monkeypatch.setattr(cifar, "CIFAR10_TGZ_MD5", hashlib.md5(body).hexdigest())
    monkeypatch.setattr(cifar, "BATCH_MD5", md5s)  # each file is md5-checked, as torchvision
    root = isolated / "data"
    # --- the tutorial, imports changed ---
    transform = transforms.Compose(
        [transforms.ToTensor(),
         transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    batch_size = 4
    trainset = torchvision.datasets.CIFAR10(root=root, train=True, download=True,
                                            transform=transform)
    trainloader = DataLoader(trainset, batch_size=batch_size, shuffle=True, num_workers=2)
    testset = torchvision.datasets.CIFAR10(root=root, train=False, download=True,
                                           transform=transform)
    testloader = DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=2)
    classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    dataiter = iter(trainloader)
    images, labels = next(dataiter)
    grid = torchvision.utils.make_grid(images)
    img = grid / 2 + 0.5  # unnormalize
    npimg = img.numpy()
    shown = np.transpose(npimg, (1, 2, 0))
    # the tutorial writes classes[labels[j]], which needs Tensor.__index__ (issue 13 item 7)
    caption = " ".join(f"{classes[int(labels[j])]:5s}" for j in range(batch_size))
    # --- checks ---
    assert len(trainset) == 30 and trainset.classes == list(classes)
    assert grid.shape == (3, 36, 138) and shown.shape == (36, 138, 3)  # 4 images of 32 + pads
    assert 0.0 <= shown.min() and shown.max() <= 1.0 and len(caption.split()) == 4
    test_images, test_labels = next(iter(testloader))
    raw = contents["test_batch"][b"data"][:4].reshape(4, 3, 32, 32).transpose(0, 2, 3, 1)
    expected = torch.stack([(_torchvision_to_tensor(a) - 0.5) / 0.5 for a in raw])
    np.testing.assert_allclose(test_images.numpy(), expected.numpy(), atol=1e-6)
    assert test_labels.tolist() == contents["test_batch"][b"labels"][:4]
    pil, label = torchvision.datasets.CIFAR10(root=root, train=False)[0]
    assert pil.mode == "RGB" and np.array_equal(np.asarray(pil), raw[0]) and isinstance(label, int)


class CustomImageDataset(Dataset):
    """The tutorial's custom Dataset, reading images listed in an annotations CSV file (with
    PIL instead of torchvision.io.read_image)."""

    def __init__(self, annotations_file, img_dir, transform=None, target_transform=None):
        lines = annotations_file.read_text().splitlines()
        self.img_labels = [line.split(",") for line in lines]
        self.img_dir = img_dir
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        name, label = self.img_labels[idx]
        image = Image.open(self.img_dir / name).convert("RGB")
        label = int(label)
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


class TorchCustomImageDataset(tud.Dataset):
    """The same class on torch, with torchvision's documented Resize + ToTensor for PIL."""

    def __init__(self, ours):
        self.ours = ours

    def __len__(self):
        return len(self.ours)

    def __getitem__(self, idx):
        name, label = self.ours.img_labels[idx]
        image = Image.open(self.ours.img_dir / name).convert("RGB")
        image = _torchvision_to_tensor(np.asarray(image.resize((12, 10), Image.BILINEAR)))
        return image, torch.nn.functional.one_hot(torch.tensor(int(label)), 3).float()


def test_custom_image_dataset_tutorial(tmp_path):
    rng = np.random.default_rng(3)
    lines = []
    for i in range(7):
        name = f"img{i}.png"
        Image.fromarray(rng.integers(0, 256, (20 + i, 25, 3), dtype=np.uint8)).save(tmp_path / name)
        lines.append(f"{name},{i % 3}")
    (tmp_path / "labels.csv").write_text("\n".join(lines))
    dataset = CustomImageDataset(
        tmp_path / "labels.csv", tmp_path,
        transform=Compose([Resize((10, 12)), ToTensor(), Normalize(0.0, 1.0)]),
        target_transform=Lambda(lambda y: mt.eye(3)[y]),
    )
    ours = list(DataLoader(dataset, batch_size=3))
    theirs = list(tud.DataLoader(TorchCustomImageDataset(dataset), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for (x, y), (tx, ty) in zip(ours, theirs):
        assert x.shape == tuple(tx.shape) and y.shape == tuple(ty.shape)
        np.testing.assert_array_equal(x.numpy(), tx.numpy())
        np.testing.assert_array_equal(y.numpy(), ty.numpy())


def test_random_split_with_generator_then_loaders(fashion_root):
    root, files = fashion_root
    full = datasets.FashionMNIST(root, train=True, transform=ToTensor())
    generator = mt.Generator().manual_seed(42)
    train_ds, val_ds = random_split(full, [0.8, 0.2], generator=generator)
    torch_parts = tud.random_split(range(len(full)), [0.8, 0.2],
                                   generator=torch.Generator().manual_seed(42))
    assert (len(train_ds), len(val_ds)) == tuple(len(p) for p in torch_parts) == (64, 16)
    train_loader = DataLoader(train_ds, batch_size=16, shuffle=True, generator=generator)
    val_loader = DataLoader(val_ds, batch_size=16)
    x, y = next(iter(val_loader))
    images, labels = files["train-images-idx3-ubyte"], files["train-labels-idx1-ubyte"]
    np.testing.assert_array_equal(x.numpy()[:, 0] * 255, images[val_ds.indices].astype(np.float32))
    np.testing.assert_array_equal(y.numpy(), labels[val_ds.indices])
    seen = [i for xb, _ in train_loader for i in range(len(xb))]
    assert len(seen) == 64
    again = random_split(full, [0.8, 0.2], generator=mt.Generator().manual_seed(42))
    assert again[1].indices == val_ds.indices  # the same seed, the same split


def test_training_loop_on_both_libraries_with_the_same_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    w = rng.standard_normal((3, 5)).astype(np.float32) * 0.1
    b = np.zeros(3, dtype=np.float32)

    def run(lib, data_mod, nn_mod, optim_mod):
        model = nn_mod.Linear(5, 3)
        model.load_state_dict({"weight": lib.tensor(w), "bias": lib.tensor(b)})
        dataset = data_mod.TensorDataset(lib.tensor(x), lib.tensor(y))
        loader = data_mod.DataLoader(dataset, batch_size=8, shuffle=False, drop_last=True)
        loss_fn = nn_mod.CrossEntropyLoss()
        optimizer = optim_mod.SGD(model.parameters(), lr=0.5)
        losses = []
        for _epoch in range(2):
            for features, target in loader:
                pred = model(features)
                loss = loss_fn(pred, target)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                losses.append(loss.item())
        return losses, model.weight.detach().numpy()

    ours = run(mt, mt.utils.data, nn, mt.optim)
    theirs = run(torch, tud, torch.nn, torch.optim)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)


def test_dataset_attributes_are_tensors_as_torchvision(fashion_root):
    root, files = fashion_root
    images, labels = files["train-images-idx3-ubyte"], files["train-labels-idx1-ubyte"]
    train_data = datasets.FashionMNIST(root, train=True, transform=ToTensor())
    # what course notebooks print and compute on the raw attributes
    assert tuple(train_data.data.size()) == (N_TRAIN, 28, 28)
    assert tuple(train_data.targets.size()) == (N_TRAIN,)
    assert train_data.data.dtype == np.uint8 and train_data.targets.dtype == np.int64
    mean = (train_data.data.float() / 255).mean().item()
    expected = (torch.from_numpy(images.copy()).float() / 255).mean().item()
    assert mean == pytest.approx(expected, rel=1e-6)
    # keep the first five classes, the way notebooks filter torchvision datasets
    keep = train_data.targets < 5
    train_data.data, train_data.targets = train_data.data[keep], train_data.targets[keep]
    assert len(train_data) == int((labels < 5).sum())
    x, y = next(iter(DataLoader(train_data, batch_size=len(train_data))))
    assert y.numpy().max() < 5
    np.testing.assert_array_equal(x.numpy()[:, 0] * 255, images[labels < 5].astype(np.float32))
    assert not datasets.CIFAR10.tensor_attributes  # torchvision's CIFAR10.data is NumPy


def test_transfer_learning_tutorial_image_folder(tmp_path):
    import os

    rng = np.random.default_rng(7)
    data_dir = tmp_path / "hymenoptera_data"
    for split, count in (("train", 5), ("val", 3)):
        for name in ("bees", "ants"):
            folder = data_dir / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (12 + i, 14, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
            (folder / "notes.txt").write_text("not an image")
    # --- the tutorial, imports changed (sizes made small) ---
    data_transforms = {
        "train": transforms.Compose([
            transforms.RandomResizedCrop(8),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ]),
        "val": transforms.Compose([
            transforms.Resize(10),
            transforms.CenterCrop(8),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ]),
    }
    image_datasets = {x: datasets.ImageFolder(os.path.join(data_dir, x), data_transforms[x])
                      for x in ["train", "val"]}
    dataloaders = {x: DataLoader(image_datasets[x], batch_size=4, shuffle=True, num_workers=4)
                   for x in ["train", "val"]}
    dataset_sizes = {x: len(image_datasets[x]) for x in ["train", "val"]}
    class_names = image_datasets["train"].classes
    inputs, classes = next(iter(dataloaders["train"]))
    out = torchvision.utils.make_grid(inputs)
    # --- checks against torchvision's rules ---
    assert class_names == ["ants", "bees"] and dataset_sizes == {"train": 10, "val": 6}
    assert image_datasets["val"].targets == [0, 0, 0, 1, 1, 1]
    assert inputs.shape == (4, 3, 8, 8) and classes.dtype == np.int64 and out.shape == (3, 12, 42)
    val = image_datasets["val"]
    x, y = next(iter(DataLoader(val, batch_size=6)))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    for k, (path, target) in enumerate(val.samples):
        image = Image.open(path).convert("RGB")
        w, h = image.size  # Resize(10): the shorter side becomes 10
        size = (10, int(10 * w / h)) if h <= w else (int(10 * h / w), 10)
        resized = np.asarray(image.resize(size[::-1], Image.BILINEAR))
        top, left = int(round((size[0] - 8) / 2.0)), int(round((size[1] - 8) / 2.0))
        crop = resized[top : top + 8, left : left + 8]
        expected = (_torchvision_to_tensor(crop) - mean) / std
        np.testing.assert_allclose(x.numpy()[k], expected.numpy(), atol=1e-5)
        assert y.numpy()[k] == target
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes"):
        (data_dir / "val" / "wasps").mkdir()
        datasets.ImageFolder(data_dir / "val")
