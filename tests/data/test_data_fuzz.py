"""Bounded fuzzing of the IDX and CIFAR-10 readers (seconds; the long run is `-m fuzz`).

Random and mutated bytes must end in a valid result or the loader's one error type
(``IDXFormatError``, ``CIFARFormatError``): never another exception, never a hang (each example
has a deadline).
"""

import gzip
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minitorch_cv.data import CIFARFormatError, IDXFormatError, read_idx
from minitorch_cv.data.cifar import load_batch, load_meta

FUZZ = settings(max_examples=250, deadline=5000, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _idx(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim])
    return header + b"".join(int(n).to_bytes(4, "big") for n in array.shape) + array.tobytes()


IDX_SEEDS = [
    _idx(np.arange(24, dtype=np.uint8).reshape(2, 3, 4)),
    _idx(np.arange(5, dtype=np.uint8)),
    _idx(np.array([1.5, -2.0], dtype=">f4"), 0x0D),
    _idx(np.arange(6, dtype=">i2").reshape(3, 2), 0x0B),
    _idx(np.zeros((0, 3), dtype=np.uint8)),
]
_BATCH = {b"batch_label": b"training batch", b"labels": [3, 1],
          b"data": np.arange(2 * 3072, dtype=np.uint64).astype(np.uint8).reshape(2, 3072),
          b"filenames": [b"a.png", b"b.png"]}
CIFAR_SEEDS = [pickle.dumps(_BATCH, protocol=p) for p in (0, 2, 4, 5)] + [
    pickle.dumps({b"label_names": [b"cat"] * 10, b"num_vis": 3072}, protocol=2)
]


@st.composite
def mutated(draw, seeds):
    """A seed with a few byte flips, insertions, deletions or a cut, or random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "cut"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[at] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=mutated(IDX_SEEDS), compress=st.booleans())
def test_idx_reader_fuzz(folder, data, compress):
    path = folder / "fuzz-idx"
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    try:
        array = read_idx(path)
    except IDXFormatError as exc:
        assert str(path) in str(exc)
        return
    assert isinstance(array, np.ndarray) and array.flags.writeable


@FUZZ
@given(data=mutated(CIFAR_SEEDS))
def test_cifar_reader_fuzz(folder, data):
    path = folder / "data_batch_1"
    path.write_bytes(data)
    for load in (load_batch, load_meta):
        try:
            result = load(path)
        except CIFARFormatError as exc:
            assert str(path) in str(exc)
            continue
        if load is load_batch:
            assert result[b"data"].dtype == np.uint8 and result[b"data"].shape[1] == 3072
            assert len(result[b"labels"]) == len(result[b"data"])
        else:
            assert len(result) == 10 and all(isinstance(name, str) for name in result)


def test_bad_escapes_in_protocol_0_do_not_warn(folder, recwarn):
    path = folder / "escapes"
    path.write_bytes(b"S'\\o'\np0\n.")  # a Python 2 protocol 0 str with an invalid escape
    with pytest.raises(CIFARFormatError, match="not a dict"):
        load_batch(path)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


def test_the_fuzz_seeds_are_valid(folder):
    """The mutations start from files the readers accept (else the fuzz proves little)."""
    for i, seed in enumerate(IDX_SEEDS):
        (folder / f"seed{i}").write_bytes(seed)
        assert read_idx(folder / f"seed{i}").nbytes == len(seed) - 4 - 4 * seed[3]
    for i, seed in enumerate(CIFAR_SEEDS[:-1]):
        (folder / f"batch{i}").write_bytes(seed)
        assert load_batch(folder / f"batch{i}")[b"labels"].tolist() == [3, 1]
    (folder / "meta").write_bytes(CIFAR_SEEDS[-1])
    assert load_meta(folder / "meta") == ["cat"] * 10
