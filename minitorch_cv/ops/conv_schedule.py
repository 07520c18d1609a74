"""The tuning of convolution on the CPU: cache-sized blocks, threads, kept columns.

None of this changes a number; it decides how a batch is cut up and where each piece runs.
``ops/conv.py`` holds the arithmetic (the textbook path), ``ops/conv_algorithms.py`` runs it
through these functions.

Blocks (CPU): the batch is processed ``n`` samples at a time, with ``n`` chosen so that one
block's columns (``GEMM_BLOCK_BYTES``, one core's L2 size, 1-4 MiB) stay in the L2 cache
between the kernel that writes them and the GEMM that reads them (im2col then GEMM, and GEMM
then col2im in backward). Building the whole batch's columns first and multiplying afterwards
sends every column through main memory twice; blocking made forward+backward 1.1-1.6x faster on
the benchmark shapes. With several CPU threads, the blocks are shared out: each thread runs the
whole pipeline (im2col, GEMMs, col2im) single-threaded on its own contiguous part of the batch
(``split_batch``; why: ``kernels/cpu/threads.py``), and the parts' weight gradients are added.
On GPUs a batch chunk is one block.

Memory: the column buffer holds ``C*kh*kw*out_h*out_w`` elements per sample, ``kh*kw`` times
the input at stride 1. When the whole batch's columns fit ``IM2COL_BUDGET_BYTES`` (on the CPU:
``KEEP_COLUMNS_MAX_BYTES``) they are kept (one array per block) for backward, so backward does
not rebuild them; above it, or with ``SAVE_COLUMNS_FOR_BACKWARD = False``, backward rebuilds
each block's columns (and the batch is processed in chunks of at most the budget).
"""

from __future__ import annotations

IM2COL_BUDGET_BYTES = 256 * 2**20
"""Most column bytes one conv holds: up to it a batch's columns are kept for backward, above
it backward rebuilds them block by block (and no block exceeds it).

Set ``minitorch_cv.ops.conv_schedule.IM2COL_BUDGET_BYTES`` to trade memory for speed; at least
one sample is always processed, whatever the budget."""

def l2_cache_bytes(sysfs: str = "/sys/devices/system/cpu/cpu0/cache") -> int | None:
    """The size of one core's L2 cache, from Linux's sysfs; None where it cannot be read (other
    systems, containers that hide it)."""
    import glob  # noqa: PLC0415
    import os  # noqa: PLC0415

    for index in sorted(glob.glob(os.path.join(sysfs, "index*"))):
        try:
            with open(os.path.join(index, "level")) as f:
                level = f.read().strip()
            with open(os.path.join(index, "type")) as f:
                kind = f.read().strip()
            with open(os.path.join(index, "size")) as f:
                size = f.read().strip()
        except OSError:
            continue
        if level == "2" and kind in ("Unified", "Data"):
            units = {"K": 2**10, "M": 2**20, "G": 2**30}
            try:
                if size[-1:].upper() in units:
                    return int(size[:-1]) * units[size[-1].upper()]
                return int(size)
            except ValueError:
                return None
    return None


def default_block_bytes(l2: int | None) -> int:
    """``GEMM_BLOCK_BYTES`` for an L2 cache of ``l2`` bytes: the L2's size, between 1 and 4 MiB
    (1 MiB when unknown)."""
    return min(4 * 2**20, max(2**20, l2 or 0))


GEMM_BLOCK_BYTES = default_block_bytes(l2_cache_bytes())
"""Column bytes built and multiplied at a time by one CPU thread (at least one sample): im2col
writes a block that the GEMM reads while it is still in the L2 cache. Set to one core's L2
size (read from sysfs), at least 1 MiB, at most 4 MiB. Measured: 1 MiB best of 1, 2 and 4 MiB
on a 1 MiB-L2 core; on a 2 MiB-L2 core (2026-12-07, 2 threads, the six shapes of
``benchmarks/bench_kernels.py``, medians of 11 interleaved forward + backward runs, two runs)
2 MiB was 1.05-1.15x faster than 1 MiB on the first LeNet layer and on 16 channels at 32x32,
the same within 3% on the other four, and 4 MiB no better than 2. Fewer, larger blocks also
mean fewer hand-overs of Python's GIL between the threads that share a batch out."""

PARTS_PER_THREAD = 4
"""With several CPU threads, a convolution's batch is cut into up to this many parts per
thread, which the threads take in turn: a thread that starts late (a sleeping core can take
milliseconds to wake) then takes fewer parts instead of holding the others up."""

KEEP_COLUMNS_MAX_BYTES = 32 * 2**20
"""On the CPU, a batch's columns are kept from forward to backward only up to this size; above
it backward rebuilds each block. Columns that large have left the caches by backward, and
rebuilding a block in cache cost less than reading it back from main memory: conv2d
forward+backward 1.08-1.16x faster for 75 and 231 MB of columns, and up to 1.15x slower for
8-19 MB (measured on 1 and 2 threads, 2 MiB L2 per core)."""

SAVE_COLUMNS_FOR_BACKWARD = True
"""Keep a (within-budget) column buffer from forward to backward instead of rebuilding it.

Faster (one im2col less per step), but every conv layer of a network then holds its columns
until backward: ``kh*kw`` times its input. Set to False when a deep network runs out of memory.
The same limits apply to a Winograd layer's transformed input (about 4x its input), kept for
its weight gradient."""


def thread_count(K) -> int:
    """Threads the kernels of namespace ``K`` run on (``K.num_threads()``; 1 without it: GPUs)."""
    threads = getattr(K, "num_threads", None)
    return threads() if threads is not None else 1


def batch_chunk(N: int, per_sample_bytes: int, budget: int | None = None) -> int:
    """How many samples fit the im2col budget (at least 1)."""
    budget = IM2COL_BUDGET_BYTES if budget is None else budget
    return max(1, min(N, budget // max(per_sample_bytes, 1)))


def block_samples(K, N: int, per_sample: int) -> int:
    """Samples per block: ``GEMM_BLOCK_BYTES`` of columns on CPU kernels (each thread works
    through its own part of the batch block by block); the whole budget chunk on namespaces
    without ``num_threads`` (GPUs)."""
    if getattr(K, "num_threads", None) is None:
        return batch_chunk(N, per_sample)
    return batch_chunk(N, per_sample, min(IM2COL_BUDGET_BYTES, GEMM_BLOCK_BYTES))


def keeps_columns(K, total_bytes: int) -> bool:
    """Whether forward keeps a batch's columns (``total_bytes``) for backward."""
    limit = IM2COL_BUDGET_BYTES
    if getattr(K, "num_threads", None) is not None:
        limit = min(limit, KEEP_COLUMNS_MAX_BYTES)
    return SAVE_COLUMNS_FOR_BACKWARD and total_bytes <= limit


def split_batch(K, blocks, N: int, chunk: int) -> list:
    """Run ``blocks(lo, hi)`` over the batch; its results, one per part.

    On CPU kernels with several threads and at least two blocks, the blocks are cut into
    contiguous parts (up to ``PARTS_PER_THREAD`` per thread) and ``K.run_split`` has the threads
    take the parts in turn, each running Numba and BLAS single-threaded (why:
    ``kernels/cpu/threads.py``). Otherwise one part, the whole batch, on this thread."""
    n_blocks = -(-N // chunk)
    threads = thread_count(K)
    if threads <= 1 or n_blocks <= 1 or getattr(K, "run_split", None) is None:
        return [blocks(0, N)]
    parts = min(n_blocks, threads * PARTS_PER_THREAD)
    bounds = [min(N, (n_blocks * i // parts) * chunk) for i in range(parts + 1)]
    return K.run_split(blocks, list(zip(bounds[:-1], bounds[1:])), threads)


FUSED_KERNELS = True
"""On the CPU, run im2col and Winograd through their fused kernels (each step per small group of
samples, in the L2 cache) where one sample's buffers fit ``GEMM_BLOCK_BYTES``; False: the block
pipeline everywhere (the textbook steps called from Python, block by block), to compare them.
The numbers are the same up to rounding (the GEMMs sum the same products, over other blocks)."""

FUSED_GROUP_SHARE = {"im2col": 8, "winograd_conv": 2, "winograd_grad_filter": 2}
"""The fused CPU kernels (``kernels/cpu/conv.py``, ``kernels/cpu/winograd_fused.py``) take groups of
samples whose buffers fill this fraction of ``GEMM_BLOCK_BYTES`` (one core's L2): an eighth of
it for im2col's columns, half for Winograd's V and M (or V and dM), whose transforms run along
the whole group (longer loops) and whose weight-gradient GEMMs sum over the group's tiles.
Measured on a 2 MiB L2 (one thread, batch 128, groups of 1-32 samples), within 4% of the best
group: im2col on LeNet's 6 -> 16 5x5 (4 samples), 16 -> 32 3x3 stride 2 (1), LeNet's first
layer (2); Winograd convolution / weight gradient on 16 channels at 32x32 (2 / 2), 32 at 16x16
(4 / 4), 64 at 8x8 (8 / 8)."""


def fused_group(K, kernel: str, per_sample: int, N: int) -> int:
    """Samples per group for the fused kernel ``kernel`` (a key of ``FUSED_GROUP_SHARE``), for
    ``per_sample`` bytes of its buffers per sample and a batch of ``N``; 0 where the block
    pipeline runs instead: with ``FUSED_KERNELS`` off, on namespaces without fused kernels
    (GPUs; CPUs without SciPy), where one sample's buffers exceed ``GEMM_BLOCK_BYTES`` (they
    would not stay in the L2 cache: fusing gained nothing on 64 channels at 56x56, 6.4 MB of
    Winograd buffers a sample). At most ``N / threads`` samples, so that every thread gets a
    group."""
    name = "im2col_fused_forward" if kernel == "im2col" else "winograd_fused_conv"
    if not FUSED_KERNELS or not hasattr(K, name) or per_sample > GEMM_BLOCK_BYTES:
        return 0
    K.load_scipy_blas()  # here, on the calling thread, before parts of the batch run on others
    threads = thread_count(K)
    group = GEMM_BLOCK_BYTES // FUSED_GROUP_SHARE[kernel] // max(per_sample, 1)
    return max(1, min(group, -(-N // threads)))


FUSED_PARTS_PER_THREAD = 1
"""Calls of a fused kernel per thread: the batch is cut into this many calls of whole groups
per thread. Fewer calls ran faster on the idle 2-core machine (2026-12-08, forward + backward,
1 / 2 / 4 calls per thread): 64 channels at 8x8 15.2 / 16.2 / 15.9 ms, 16 channels at 32x32
24.3 / 24.8 / 25.6 ms, LeNet's 6 -> 16 5x5 4.6 / 4.8 / 4.9 ms, 16 -> 32 stride 2 16.6 / 16.6 /
16.8 ms. The price: a helper thread that wakes late cannot hand part of its share to the
others (``PARTS_PER_THREAD`` keeps 4 for the block pipeline, measured under load)."""


def calls_of_groups(K, N: int, group: int) -> int:
    """Samples per call of a fused kernel: whole groups, ``FUSED_PARTS_PER_THREAD`` calls per
    thread (each call allocates its buffers once and runs its groups one after the other)."""
    threads = thread_count(K)
    groups = -(-N // (group * threads * FUSED_PARTS_PER_THREAD))
    return group * max(1, groups)


def in_blocks(K, N: int, chunk: int, block, split: bool = True) -> list:
    """``block(start, stop)`` for every block of ``chunk`` samples, the blocks shared out over
    threads by ``split_batch``; the list of every part's results (one list per part).

    ``split=False``: every block on this thread, one after the other, for blocks that are BLAS
    calls only: BLAS's own threads then beat single-threaded GEMMs side by side (the first
    layer of ResNet-20, weight gradient from kept columns: 3.9 ms against 4.7 ms on 2 threads)."""

    def part(lo, hi):
        return [block(start, min(hi, start + chunk)) for start in range(lo, hi, chunk)]

    return split_batch(K, part, N, chunk) if split else [part(0, N)]
