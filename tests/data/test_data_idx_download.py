"""IDX parsing errors, dataset lookup, and downloads from a local HTTP server (no internet)."""

import functools
import gzip
import http.server
import os
import shutil
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from minitorch_cv.data import (
    MNIST,
    DatasetNotFoundError,
    DownloadError,
    FashionMNIST,
    IDXFormatError,
    read_idx,
    vision,
)
from minitorch_cv.data import download as dl

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not (SHARED / "mnist").is_dir(), reason=f"shared datasets not found at {SHARED}"
)


def _idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


@pytest.fixture
def isolated_roots(tmp_path, monkeypatch):
    """No MINITORCH_CV_DATA, and a cache folder inside tmp_path."""
    monkeypatch.delenv(dl.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("no_proxy", "NO_PROXY"):  # the local mirror must never go through a proxy
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    return tmp_path


def test_read_idx_roundtrip_gzip_and_plain(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.gz").write_bytes(gzip.compress(_idx_bytes(images)))
    (tmp_path / "a").write_bytes(_idx_bytes(images))
    for name in ("a.gz", "a"):
        out = read_idx(tmp_path / name, expected_magic=2051)
        np.testing.assert_array_equal(out, images)
        out[0, 0, 0] = 7  # a writable copy, not a view of the file's bytes
    values = np.array([1.5, -2.0], dtype=">f4")
    (tmp_path / "f").write_bytes(_idx_bytes(values, 0x0D))
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), [1.5, -2.0])


def test_wrong_magic_is_a_clear_error(tmp_path):
    labels = np.arange(5, dtype=np.uint8)
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(_idx_bytes(labels)))
    with pytest.raises(IDXFormatError, match=r"labels\.gz.*magic number 2049.*expected 2051"):
        read_idx(path, expected_magic=2051)
    path.write_bytes(gzip.compress(b"PK\x03\x04 not an idx file at all"))
    with pytest.raises(IDXFormatError, match=r"labels\.gz.*not an IDX header"):
        read_idx(path)


def test_truncated_body_is_a_clear_error(tmp_path):
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_bytes(images)[:-100]))
    with pytest.raises(IDXFormatError, match=r"train-images-idx3-ubyte\.gz.*truncated.*3136"):
        read_idx(path, expected_magic=2051)
    # a gzip stream cut in the middle (an interrupted copy) names the file too
    path.write_bytes(gzip.compress(_idx_bytes(images))[:40])
    with pytest.raises(IDXFormatError, match=r"train-images-idx3-ubyte\.gz.*gzip stream"):
        read_idx(path)


def test_missing_files_error_names_paths_and_fixes(isolated_roots):
    root = isolated_roots / "nowhere"
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(root=root)
    message = str(info.value)
    for expected in [
        str(root / "mnist"),
        str(root / "MNIST" / "raw"),
        "download=True",
        "--data-dir",
        dl.ENV_VAR,
        str(dl.cache_dir()),
    ]:
        assert expected in message
    # an explicit root never falls back to the embedded subset
    with pytest.raises(DatasetNotFoundError):
        FashionMNIST(root=root)


def test_lookup_order_root_env_cache(isolated_roots, monkeypatch):
    labels = np.array([3, 1, 4], dtype=np.uint8)
    images = np.zeros((3, 28, 28), dtype=np.uint8)

    def install(folder, first_label):
        folder.mkdir(parents=True)
        labels[0] = first_label
        (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(images)))
        (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(labels)))

    install(dl.cache_dir() / "MNIST" / "raw", 7)  # torchvision's layout, in the cache
    assert MNIST(train=False).targets[0] == 7
    install(isolated_roots / "env" / "mnist", 8)
    monkeypatch.setenv(dl.ENV_VAR, str(isolated_roots / "env"))
    assert MNIST(train=False).targets[0] == 8
    install(isolated_roots / "root" / "mnist", 9)
    dataset = MNIST(root=isolated_roots / "root", train=False)
    assert dataset.targets[0] == 9 and dataset.targets.dtype == np.int64


@needs_shared
@pytest.mark.parametrize(
    "cls, folder, train_counts, test_counts",
    [
        (
            MNIST,
            "mnist",
            [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
        ),
        (FashionMNIST, "fashion-mnist", [6000] * 10, [1000] * 10),
    ],
)
def test_real_shared_datasets(cls, folder, train_counts, test_counts):
    train = cls(root=SHARED, train=True)
    test = cls(root=SHARED, train=False)
    assert train.folder == SHARED / folder and not train.is_embedded
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert test.data.shape == (10000, 28, 28)
    assert np.bincount(train.targets).tolist() == train_counts
    assert np.bincount(test.targets).tolist() == test_counts
    assert len(train.classes) == 10


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror_server(tmp_path):
    """127.0.0.1 HTTP server: good/ links the real MNIST files, bad/ holds a corrupted copy."""
    served = tmp_path / "served"
    (served / "good").mkdir(parents=True)
    (served / "bad").mkdir()
    for name, _ in MNIST.resources:
        os.symlink(SHARED / "mnist" / name, served / "good" / name)
        shutil.copy(SHARED / "mnist" / name, served / "bad" / name)
        with open(served / "bad" / name, "r+b") as f:  # flip one byte in the middle
            f.seek(f.seek(0, os.SEEK_END) // 2)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0xFF]))
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@needs_shared
def test_download_rejects_md5_mismatch_and_leaves_nothing(
    mirror_server, isolated_roots, monkeypatch
):
    monkeypatch.setattr(vision, "MNIST_MIRRORS", [f"{mirror_server}/bad/"])
    root = isolated_roots / "data"
    with pytest.raises(DownloadError, match="md5") as info:
        MNIST(root=root, download=True)
    assert "Nothing was kept" in str(info.value) and "/bad/" in str(info.value)
    leftovers = [p for p in root.rglob("*") if p.is_file()]
    assert leftovers == []


@needs_shared
def test_download_falls_through_mirrors_and_verifies(
    mirror_server, isolated_roots, monkeypatch, capsys
):
    monkeypatch.setattr(
        vision,
        "MNIST_MIRRORS",
        [
            "http://127.0.0.1:9/unreachable/",  # port 9 (discard): connection refused
            f"{mirror_server}/missing/",  # 404
            f"{mirror_server}/bad/",  # md5 mismatch
            f"{mirror_server}/good/",
        ],
    )
    root = isolated_roots / "data"
    test = MNIST(root=root, train=False, download=True)
    assert test.data.shape == (10000, 28, 28)
    assert sorted(p.name for p in (root / "mnist").iterdir()) == sorted(
        name for name, _ in MNIST.resources
    )
    for name, md5 in MNIST.resources:
        assert dl.md5_file(root / "mnist" / name) == md5
    assert "downloading" in capsys.readouterr().out
    # files already present are used as they are, without touching the network
    monkeypatch.setattr(vision, "MNIST_MIRRORS", [])
    assert len(MNIST(root=root, train=True, download=True)) == 60000


def test_download_without_any_mirror_is_an_error(isolated_roots, monkeypatch):
    monkeypatch.setattr(vision, "FASHION_MNIST_MIRRORS", ["http://127.0.0.1:9/"])
    with pytest.raises(DownloadError, match="every mirror failed"):
        FashionMNIST(root=isolated_roots / "data", download=True)
    assert not any(p.is_file() for p in (isolated_roots / "data").rglob("*"))


# ------------------------------------------------------------- headers bounded by the file
def test_gzip_bomb_is_never_inflated_past_the_header(tmp_path):
    """64 MiB of zeros behind a header of 10 bytes: inflating it all was the old behaviour."""
    path = tmp_path / "bomb.gz"
    zeros = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(_idx_bytes(np.zeros(10, np.uint8)))
        for _ in range(64):
            f.write(zeros)
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(IDXFormatError, match=r"bomb\.gz.*longer than its header"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak} bytes allocated to read a 10-byte body"


def test_header_claims_are_bounded_by_what_the_file_can_hold(tmp_path):
    huge = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (2**31, 2**20, 4))
    (tmp_path / "claims.gz").write_bytes(gzip.compress(huge + bytes(1000)))
    with pytest.raises(IDXFormatError, match=r"claims\.gz.*inflates to at most"):
        read_idx(tmp_path / "claims.gz")
    (tmp_path / "claims").write_bytes(huge + bytes(1000))
    with pytest.raises(IDXFormatError, match=r"claims.*the file has 1000 bytes after the header"):
        read_idx(tmp_path / "claims")


def test_an_empty_array_with_huge_sizes_is_a_clear_error(tmp_path):
    """(0, 2**32-1, 2**32-1, 2**32-1) holds no bytes, but NumPy refuses the shape itself."""
    dims = (0, 2**32 - 1, 2**32 - 1, 2**32 - 1)
    path = tmp_path / "empty-but-huge"
    path.write_bytes(bytes([0, 0, 8, 4]) + b"".join(n.to_bytes(4, "big") for n in dims))
    with pytest.raises(IDXFormatError, match=r"empty-but-huge.*too large for any array"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (0, 28, 28)))
    assert read_idx(path).shape == (0, 28, 28)


@pytest.mark.parametrize("ndim", [65, 255])
def test_too_many_dimensions_is_a_clear_error(tmp_path, ndim):
    path = tmp_path / "deep.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, ndim]) + (1).to_bytes(4, "big") * ndim + b"x"))
    with pytest.raises(IDXFormatError, match=rf"deep\.gz.*{ndim} dimensions.*at most 64"):
        read_idx(path)
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 64]) + (1).to_bytes(4, "big") * 64 + b"x"))
    assert read_idx(path).shape == (1,) * 64
