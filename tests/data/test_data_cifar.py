"""CIFAR-10 loader on small batches built here (the real files are not available offline)."""

import functools
import hashlib
import http.server
import io
import os
import pickle
import subprocess
import sys
import tarfile
import threading

import numpy as np
import pytest

from minitorch_cv.data import DataLoader, ToTensor, cifar, safe_pickle
from minitorch_cv.data import download as dl
from minitorch_cv.data.cifar import CIFAR10, CIFARFormatError, load_batch

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
    train = CIFAR10(root=isolated, train=True, check_integrity=False)
    test = CIFAR10(root=isolated, train=False, check_integrity=False)
    assert train.data.shape == (20, 32, 32, 3) and train.data.dtype == np.uint8
    assert test.data.shape == (3, 32, 32, 3)
    assert train.classes[0] == "airplane" and len(train.classes) == 10
    expected_labels = sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    np.testing.assert_array_equal(train.targets, expected_labels)
    assert train.targets.dtype == np.int64
    row = batches["data_batch_1"][b"data"][1]  # red plane first, then green, then blue
    np.testing.assert_array_equal(train.data[1, :, :, 0], row[:1024].reshape(32, 32))
    np.testing.assert_array_equal(train.data[1, :, :, 2], row[2048:].reshape(32, 32))
    dataset = CIFAR10(isolated, transform=ToTensor(), check_integrity=False)
    images, labels = next(iter(DataLoader(dataset, 8)))
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
    with pytest.raises(CIFARFormatError, match=r"evil: .*refusing to load .*remove"):
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
            CIFAR10(root=isolated / "data", download=True, check_integrity=False)
        assert not any(p.is_file() for p in (isolated / "data").rglob("*"))
        monkeypatch.setattr(cifar, "CIFAR10_URLS", [f"{base}/bad.tgz", f"{base}/cifar.tgz"])
        dataset = CIFAR10(root=isolated / "data", train=False, download=True,
                          check_integrity=False)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert dataset.data.shape == (3, 32, 32, 3)
    assert not (isolated / "data" / "escaped").exists()
    unpacked = sorted(p.name for p in (isolated / "data" / "cifar-10-batches-py").iterdir())
    assert unpacked == sorted(["batches.meta", "test_batch"] + CIFAR10.train_list)


# ----------------------------------------------------------------------- integrity and structure
def _official_meta() -> bytes:
    """batches.meta exactly as the official tarball holds it (Python 2 cPickle, protocol 2)."""
    memo = iter(range(2, 100))

    def string(text: bytes) -> bytes:  # SHORT_BINSTRING, then BINPUT
        return b"U" + bytes([len(text)]) + text + b"q" + bytes([next(memo)])

    out = b"\x80\x02}q\x01(" + string(b"num_cases_per_batch") + b"M\x10'"
    out += string(b"label_names") + b"]q" + bytes([next(memo)]) + b"("
    out += b"".join(string(name) for name in NAMES) + b"e"
    return out + string(b"num_vis") + b"M\x00\x0cu."


def _py2_batch(data: np.ndarray, labels: list[int]) -> bytes:
    """A batch laid out as Python 2's cPickle wrote the official ones (numpy.core names,
    the array's bytes as a BINSTRING)."""
    raw = data.tobytes()
    array = (b"cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04K\x00\x85q\x05"
             b"U\x01bq\x06\x87q\x07Rq\x08(K\x01M" + len(data).to_bytes(2, "little")
             + b"M\x00\x0c\x86q\tcnumpy\ndtype\nq\nU\x02u1q\x0bK\x00K\x01\x87q\x0cRq\r(K\x03"
             b"U\x01|q\x0eNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x0fb\x89T"
             + len(raw).to_bytes(4, "little") + raw + b"q\x10tq\x11b")
    label_ops = b"".join(b"K" + bytes([label]) for label in labels)
    return (b"\x80\x02}q\x01(U\x04dataq\x02" + array + b"U\x06labelsq\x12]q\x13(" + label_ops
            + b"eu.")


def test_official_meta_passes_md5_and_python2_batches_load(tmp_path):
    meta = _official_meta()
    assert hashlib.md5(meta).hexdigest() == cifar.BATCH_MD5["batches.meta"]
    (tmp_path / "batches.meta").write_bytes(meta)
    names = cifar.load_meta(tmp_path / "batches.meta", check_integrity=True)
    assert names == [name.decode() for name in NAMES]
    data = np.random.default_rng(0).integers(0, 256, (3, 3072), dtype=np.uint8)
    (tmp_path / "b").write_bytes(_py2_batch(data, [7, 0, 9]))
    batch = load_batch(tmp_path / "b")
    np.testing.assert_array_equal(batch[b"data"], data)
    assert batch[b"labels"].tolist() == [7, 0, 9] and batch[b"labels"].dtype == np.int64


def test_wrong_md5_names_the_file_and_both_fixes(isolated):
    _write_batches(isolated / "cifar-10-batches-py")
    with pytest.raises(CIFARFormatError) as info:
        CIFAR10(root=isolated, train=False)  # check_integrity=True by default
    message = str(info.value)
    assert "test_batch: md5" in message and cifar.BATCH_MD5["test_batch"] in message
    assert "download=True" in message and "check_integrity=False" in message


# 37 bytes in the official (Python 2) layout: b"data" is a list that holds itself twice. NumPy's
# shape discovery walks its 2**64 paths: the old loader hung here forever.
_SELF_TWICE = b"\x80\x02}q\x01(U\x04dataq\x02]q\x03(h\x03h\x03eU\x06labelsq\x04h\x03u."
_SHARED_BOMB = pickle.dumps({b"data": functools.reduce(lambda x, _: [x, x], range(60), [0]),
                             b"labels": [0]}, protocol=2)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "not a valid pickle"),
        (b"\x80\x02]q\x00h\x00a.", "b'data'|not a dict"),  # a list that holds itself
        (_SELF_TWICE, "b'data' is list"),
        (_SHARED_BOMB, "b'data' is list"),  # 2**60 leaves through shared sublists
        (b"\x80\x02]r\xff\xff\xff\x7f.", "memo index"),  # asks for a 16 GiB memo
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 10]}), "0..9"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}), "2 images"),
        (pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [2**70]}), "0..9"),
        (pickle.dumps({"\ud800": 1, b"data": np.zeros((1, 3072), np.uint8)}), "b'labels'"),
        (pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": np.array([-1])}),
         "0..9"),
        (pickle.dumps({b"data": np.zeros((2, 3071), np.uint8), b"labels": [1]}), "3072"),
        (pickle.dumps({b"data": np.zeros((1, 3072), np.float32), b"labels": [1]}), "uint8"),
        (pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [True]}), "ints"),
        (pickle.dumps({b"data": np.zeros(1, object), b"labels": []}), "dtype"),
        (pickle.dumps({b"data": [np.zeros((1, 3072), np.uint8)], b"labels": [1]}), "list"),
        (pickle.dumps({b"data": np.zeros((1, 3072), np.uint8)})[:-9], "valid pickle"),
        (pickle.dumps(np.zeros(3)).replace(b"(K\x03", b"(K\xff"), "not a dict|3"),
    ],
    ids=["empty", "self_reference", "self_reference_twice", "shared_bomb", "memo_bomb",
         "label_10", "too_few_labels", "huge_label", "surrogate_key", "negative_label_array",
         "width_3071", "float_images",
         "bool_labels", "object_array", "nested_array", "cut_stream", "bad_array_state"],
)
def test_corrupt_batches_raise_one_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "data_batch_1"
    path.write_bytes(content)
    with pytest.raises(CIFARFormatError, match=problem) as info:
        load_batch(path)
    assert str(path) in str(info.value) and "download=True" in str(info.value)


def test_sharing_and_self_reference_load_in_bounded_time(tmp_path):
    """Both files hung the old loader forever: load them in a child with a timeout."""
    (tmp_path / "twice").write_bytes(_SELF_TWICE)
    (tmp_path / "bomb").write_bytes(_SHARED_BOMB)
    code = ("import sys; from minitorch_cv.data.cifar import load_batch, CIFARFormatError\n"
            "for path in sys.argv[1:]:\n    try:\n        load_batch(path)\n"
            "    except CIFARFormatError:\n        print('refused')")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "twice"),
                             str(tmp_path / "bomb")], timeout=120, capture_output=True, text=True)
    assert result.stdout.split() == ["refused", "refused"], result.stderr[-2000:]


def test_oversized_file_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "data_batch_1"
    with open(path, "wb") as f:
        f.truncate(cifar.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    monkeypatch.setattr(cifar.dl, "md5_file", lambda *_: pytest.fail("the file was read"))
    with pytest.raises(CIFARFormatError, match="more than any CIFAR-10 file"):
        load_batch(path, check_integrity=True)


def test_a_global_cannot_be_changed_through_build(tmp_path):
    """BUILD on a stand-in would set attributes on it and change every later load."""
    for module, name in (("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")):
        evil = f"\x80\x02c{module}\n{name}\nN}}U\x05stateK\x01s\x86b.".encode("latin1")
        (tmp_path / "b").write_bytes(evil)
        with pytest.raises(CIFARFormatError, match="only arrays and dtypes take a state"):
            load_batch(tmp_path / "b")
        assert not hasattr(safe_pickle.RestrictedUnpickler.find_class(None, module, name),
                           "state")
    test_official_meta_passes_md5_and_python2_batches_load(tmp_path)
