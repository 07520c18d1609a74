"""How the CPU kernels share the cores with BLAS: sleeping idle threads, and data parallelism.

Numba runs ``prange`` loops on OpenMP (its default threading layer here). After each parallel
loop, libgomp's worker threads spin for a while waiting for the next one. A training step
alternates Numba kernels with BLAS calls (the convolution GEMMs, ``Linear``), and OpenBLAS has
its own worker threads: while Numba's workers spin, OpenBLAS's wait for a core, and vice versa.
Measured on 2 cores shared with other jobs (LeNet-5 training step, batch 128, Numba and BLAS
both on 2 threads): 40 ms spinning vs 17 ms with ``OMP_WAIT_POLICY=PASSIVE`` at load average 5,
170-280 ms vs 36-48 ms at load 7 (19 ms single-threaded); on an idle 2-core machine, a ResNet-20
step took 8.7 s with ``ACTIVE`` and 0.76 s with ``PASSIVE``. OpenBLAS's own workers spin after
each GEMM too (about 0.1 s unless ``OPENBLAS_THREAD_TIMEOUT`` says otherwise). Both variables
are read once, when the library loads: ``minitorch_cv/_early.py`` sets them (unless set) before
the package imports NumPy, and ``doctor()`` warns when NumPy or torch was imported first.
"""

from __future__ import annotations

import contextlib
import threading

# ----------------------------------------------------------------------------- data parallel
_pool = None
_pool_size = 0
_blas = None


def _blas_controller():
    """threadpoolctl's controller of the loaded BLAS libraries (None without threadpoolctl)."""
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController  # noqa: PLC0415
        except ImportError:
            _blas = False
        else:
            _blas = ThreadpoolController().select(user_api="blas")
    return _blas or None


def blas_libraries_changed() -> None:
    """Another BLAS library was loaded (SciPy's, by the fused convolution kernels): the next
    ``run_split`` looks the libraries up again, so that it limits that one's threads too."""
    global _blas
    _blas = None


_scipy_blas_loaded = False
_scipy_blas_lock = threading.Lock()


def load_scipy_blas() -> None:
    """Numba's ``np.dot`` calls SciPy's BLAS, a library of its own beside NumPy's: the fused
    convolution kernels (``conv.py``, ``winograd_fused.py``) load it before their first call,
    with one thread. Their GEMMs are sized for one core's cache, and the ops run parts of a
    batch side by side (a 64-channel Winograd weight gradient took 11.2 ms with that BLAS on 2
    threads against 8.1 on one, on 2 cores). ``run_split`` then limits it too while parts run.
    Side effect: SciPy's own linear algebra (``scipy.linalg``) runs on one thread in this
    process, as it would with ``OPENBLAS_NUM_THREADS=1``. ``ops/conv_schedule.fused_group``
    calls it on the thread that starts a convolution, before parts of the batch go to helper
    threads: the first calls from the helpers set one thread and read back two (SciPy's OpenBLAS
    0.3.30), and the first convolutions then ran that BLAS on two threads."""
    global _scipy_blas_loaded
    if _scipy_blas_loaded:
        return
    with _scipy_blas_lock:  # the first calls come from several threads at once (run_split)
        if _scipy_blas_loaded:
            return
        try:
            from threadpoolctl import ThreadpoolController  # noqa: PLC0415
        except ImportError:
            ThreadpoolController = None  # noqa: N806
        known = ({lib.filepath for lib in ThreadpoolController().lib_controllers}
                 if ThreadpoolController is not None else set())
        import scipy.linalg.cython_blas  # noqa: F401, PLC0415

        if ThreadpoolController is not None:
            for lib in ThreadpoolController().select(user_api="blas").lib_controllers:
                if lib.filepath not in known or "scipy.libs" in lib.filepath:
                    lib.set_num_threads(1)
        blas_libraries_changed()
        _scipy_blas_loaded = True


def run_split(fn, ranges, threads: int) -> list:
    """``[fn(lo, hi) for lo, hi in ranges]``, computed by ``threads`` Python threads (this one
    and ``threads - 1`` helpers) that take the ranges in turn, with Numba and BLAS
    single-threaded inside; used by ``ops/conv_schedule.py`` when the kernels run on several
    threads.

    Why: a convolution alternates Numba loops (im2col, col2im) with BLAS GEMMs, block by block.
    Run with both libraries multi-threaded, every switch hands the cores from one thread pool to
    the other: a passive pool's threads sleep and must be woken, and BLAS's threads keep
    spinning after a GEMM while Numba's wait for the core (a Numba loop right after a GEMM ran
    at one-thread speed on 2 cores). Independent single-threaded pipelines on parts of the batch
    never hand over: conv2d forward+backward 1.2-1.7x faster on 2 cores than one pipeline on 2
    threads (benchmarks/bench_kernels.py). The kernels release the GIL (``nogil=True``), and so
    does NumPy's matmul.

    Why more ranges than threads, taken in turn, with this thread working too: a sleeping
    helper can take milliseconds to wake (a virtual machine's idle core); with one range per
    thread, an awake thread finished its own range and then waited, or took the late helper's
    range too, and the convolution ran at one-thread speed (7-9 ms instead of 4).

    BLAS is limited to one thread for the whole process while the ranges run (threadpoolctl),
    and restored after; this thread's Numba thread count is restored too.
    """
    import numba  # noqa: PLC0415

    global _pool, _pool_size
    results = [None] * len(ranges)
    order = iter(range(len(ranges)))  # next() on it is atomic under the GIL

    def drain():
        numba.set_num_threads(1)  # thread-local: only this thread's Numba loops
        for i in iter(lambda: next(order, None), None):
            results[i] = fn(*ranges[i])

    helpers = min(threads, len(ranges)) - 1
    if helpers > 0 and _pool_size < helpers:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        if _pool is not None:
            _pool.shutdown(wait=False)  # a smaller pool, replaced: let its threads end
        _pool = ThreadPoolExecutor(max_workers=helpers, thread_name_prefix="minitorch_cv")
        _pool_size = helpers
    blas = _blas_controller()
    limit = blas.limit(limits=1) if blas is not None and helpers > 0 else contextlib.nullcontext()
    own = numba.get_num_threads()
    with limit:
        futures = [_pool.submit(drain) for _ in range(helpers)]
        try:
            drain()
        finally:
            numba.set_num_threads(own)
            for future in futures:
                future.exception()  # wait for every helper before BLAS is restored
    for future in futures:
        future.result()  # a helper's exception, raised here
    return results
