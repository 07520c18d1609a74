"""CIFAR-10 loader on small batches built here (the real files are not available offline)."""

import functools
import hashlib
import http.server
import io
import os
import pickle
import tarfile
import threading

import numpy as np
import pytest

from minitorch_cv.data import DataLoader, ToTensor, cifar
from minitorch_cv.data import download as dl
from minitorch_cv.data.cifar import CIFAR10, load_batch

NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer",
         b"dog", b"frog", b"horse", b"ship", b"truck"]  # fmt: skip


def _batch(seed: int, n: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"training batch",
        b"labels": rng.integers(0, 10, n).tolist(),
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [b"x.png"] * n,
    }


def _write_batches(folder, protocol=2, n=4):
    folder.mkdir(parents=True, exist_ok=True)
    batches = {f"data_batch_{i}": _batch(i, n) for i in range(1, 6)}
    batches["test_batch"] = _batch(99, 3)
    for name, content in batches.items():
        (folder / name).write_bytes(pickle.dumps(content, protocol=protocol))
    meta = {b"label_names": NAMES, b"num_cases_per_batch": n, b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))
    return batches


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.delenv(dl.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    return tmp_path


@pytest.mark.parametrize("protocol", [2, 5])
def test_cifar10_layout_labels_and_classes(isolated, protocol):
    batches = _write_batches(isolated / "cifar-10-batches-py", protocol)
    train = CIFAR10(root=isolated, train=True)
    test = CIFAR10(root=isolated, train=False)
    assert train.data.shape == (20, 32, 32, 3) and train.data.dtype == np.uint8
    assert test.data.shape == (3, 32, 32, 3)
    assert train.classes[0] == "airplane" and len(train.classes) == 10
    expected_labels = sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    np.testing.assert_array_equal(train.targets, expected_labels)
    assert train.targets.dtype == np.int64
    row = batches["data_batch_1"][b"data"][1]  # red plane first, then green, then blue
    np.testing.assert_array_equal(train.data[1, :, :, 0], row[:1024].reshape(32, 32))
    np.testing.assert_array_equal(train.data[1, :, :, 2], row[2048:].reshape(32, 32))
    images, labels = next(iter(DataLoader(CIFAR10(isolated, transform=ToTensor()), 8)))
    assert images.shape == (8, 3, 32, 32) and images.dtype == np.float32
    np.testing.assert_allclose(images.numpy()[1, 1].ravel(), row[1024:2048] / 255, rtol=1e-6)


def test_numpy1_pickles_load(isolated):
    """Files written by NumPy 1.x (the official ones) name numpy.core.multiarray."""
    data = pickle.dumps(_batch(0, 2), protocol=2)
    old = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert old != data
    (isolated / "old").write_bytes(old)
    np.testing.assert_array_equal(load_batch(isolated / "old")[b"data"], _batch(0, 2)[b"data"])


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.remove, (self.path,)


def test_safe_unpickler_refuses_code(isolated):
    marker = isolated / "marker"
    marker.write_text("still here")
    (isolated / "evil").write_bytes(pickle.dumps({b"data": _Evil(str(marker))}))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load .*remove"):
        load_batch(isolated / "evil")
    assert marker.exists()


def test_missing_cifar_names_paths(isolated):
    with pytest.raises(dl.DatasetNotFoundError, match="cifar-10-batches-py") as info:
        CIFAR10(root=isolated / "none")
    assert "download=True" in str(info.value) and "data_batch_1" in str(info.value)


def test_cifar_download_from_local_mirror(isolated, monkeypatch):
    source = isolated / "src"
    _write_batches(source / "cifar-10-batches-py")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        escape = tarfile.TarInfo("cifar-10-batches-py/../escaped")  # must not be unpacked
        tar.addfile(escape, io.BytesIO(b""))
    served = isolated / "served"
    served.mkdir()
    (served / "cifar.tgz").write_bytes(buffer.getvalue())
    (served / "bad.tgz").write_bytes(buffer.getvalue()[:-10])
    handler = functools.partial(
        type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None}),
        directory=str(served),
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        md5 = hashlib.md5(buffer.getvalue()).hexdigest()
        monkeypatch.setattr(cifar, "CIFAR10_TGZ_MD5", md5)
        monkeypatch.setattr(cifar, "CIFAR10_URLS", [f"{base}/bad.tgz"])
        with pytest.raises(dl.DownloadError, match="md5"):
            CIFAR10(root=isolated / "data", download=True)
        assert not any(p.is_file() for p in (isolated / "data").rglob("*"))
        monkeypatch.setattr(cifar, "CIFAR10_URLS", [f"{base}/bad.tgz", f"{base}/cifar.tgz"])
        dataset = CIFAR10(root=isolated / "data", train=False, download=True)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert dataset.data.shape == (3, 32, 32, 3)
    assert not (isolated / "data" / "escaped").exists()
    unpacked = sorted(p.name for p in (isolated / "data" / "cifar-10-batches-py").iterdir())
    assert unpacked == sorted(["batches.meta", "test_batch"] + CIFAR10.train_list)
