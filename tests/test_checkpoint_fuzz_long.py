"""The long fuzz run of the checkpoint loader (optional group: ``python3 -m pytest -m slow -s
tests/test_checkpoint_fuzz_long.py``, a few minutes; ``FUZZ_EXAMPLES`` sets the count).

Three kinds of input, each must load or raise ``CheckpointError`` and nothing else:

- valid checkpoints of random content (``random_checkpoint``) with random bytes flipped,
  inserted or removed: caught by the parser or the checksum;
- the same, but with the checksum recomputed after the damage (a crafted file, not a damaged
  one), so the damage reaches the structure decoder and the model rebuilder;
- random JSON headers over random data.

The counts of each outcome are printed at the end.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minitorch_cv import nn, serialization
from minitorch_cv.serialization import CheckpointError

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20000"))
COUNTS: Counter = Counter()
_spec = importlib.util.spec_from_file_location(
    "checkpoint_properties", Path(__file__).with_name("test_checkpoint_properties.py"))
properties = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(properties)


def _reseal(blob: bytes) -> bytes:
    """Recompute the checksum of a (damaged) file, if its header still has the field."""
    header_len = int.from_bytes(blob[:8], "little")
    if header_len > len(blob) - 8:
        return blob
    span = serialization._digest_span(blob, 8 + header_len)
    if span is None or span[1] > 8 + header_len:
        return blob
    out = bytearray(blob)
    out[span[0]:span[1]] = serialization._digest(out, *span).encode()
    return bytes(out)


def _try(kind: str, blob: bytes) -> None:
    try:
        serialization.from_bytes(blob, "fuzz", weights_only=False)
        COUNTS[f"{kind}: loaded"] += 1
    except CheckpointError:
        COUNTS[f"{kind}: CheckpointError"] += 1


MODEL_BLOB = serialization.to_bytes(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(),
                                                  nn.Flatten(), nn.Linear(2, 3)))


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32), model=st.booleans(), edits=st.lists(
    st.tuples(st.sampled_from(["flip", "insert", "delete", "digit"]), st.integers(0, 2**31),
              st.binary(min_size=1, max_size=4)), min_size=1, max_size=4))
def test_long_fuzz_of_damaged_and_crafted_checkpoints(seed, model, edits):
    original = MODEL_BLOB if model else serialization.to_bytes(
        properties.random_checkpoint(seed))
    blob = bytearray(original)
    for action, position, data in edits:
        at = position % (len(blob) + 1)
        if action == "flip":
            blob[at:at + len(data)] = data
        elif action == "insert":
            blob[at:at] = data
        elif action == "delete":
            del blob[at:at + len(data)]
        else:  # change a digit of the header: shapes, offsets, numbers in the structure
            header_end = min(len(blob), 8 + int.from_bytes(blob[:8], "little"))
            digits = [i for i in range(8, header_end) if 48 <= blob[i] <= 57]
            if digits:
                blob[digits[position % len(digits)]] = 48 + data[0] % 10
    if bytes(blob) == original:
        COUNTS["unchanged by the edits"] += 1
        return
    try:
        serialization.from_bytes(bytes(blob), "fuzz", weights_only=False)
        COUNTS["damaged: loaded"] += 1
        raise AssertionError("a damaged file loaded: the checksum missed it")
    except CheckpointError:
        COUNTS["damaged: CheckpointError"] += 1
    _try("crafted", _reseal(bytes(blob)))


@pytest.mark.slow
@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(header=st.dictionaries(properties.NAMES, properties.ENTRIES | properties.JSON_VALUES,
                              max_size=4),
       metadata=st.none() | st.dictionaries(
           st.sampled_from(["minitorch_cv.format", "minitorch_cv.structure",
                            "minitorch_cv.sha256", "x"]),
           st.sampled_from([serialization.FORMAT, "0" * 64]) | st.text(max_size=20)),
       data=st.binary(max_size=64))
def test_long_fuzz_of_random_headers(header, metadata, data):
    if metadata is not None:
        header = {**header, "__metadata__": metadata}
    raw = json.dumps(header).encode()
    _try("random header", len(raw).to_bytes(8, "little") + raw + data)


@pytest.mark.slow
def test_print_counts():
    print("\ncheckpoint fuzz counts:", dict(sorted(COUNTS.items())))
    assert sum(COUNTS.values()) > 0
