// cuda_shim.h: just enough of CUDA to compile a kernel source with g++ and run it on the CPU.
//
// Part of minitorch_cv.emulator (see its docstring and docs/gpu.md). The build step pastes a
// kernel source after this header and appends, for every `extern "C" __global__` kernel, a
// launch entry point and a type signature (see build.py).
//
// Execution model of one launch:
// - Blocks run one after another on the calling OS thread, in the chosen order.
// - Threads of a block run one after another in the chosen order (forward, reverse, shuffled).
//   If the source calls __syncthreads(), every CUDA thread of a block becomes a ucontext fiber
//   and the barrier is emulated faithfully: a fiber that reaches it yields, and the block moves
//   on only when every live fiber has arrived.
// - Order "threads" runs every CUDA thread of a block as a real OS thread (std::thread) and
//   __syncthreads() as a std::barrier: slow, meant for ThreadSanitizer, which then sees the
//   accesses that would race on a GPU.
// Kernel parameters arrive as cuLaunchKernel receives them: an array of pointers to values.
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>
#include <ucontext.h>

// NVRTC, the compiler CuPy uses, has no <math.h>/<float.h> macros. Hide them so that a kernel
// relying on them fails to build here too, instead of passing on the CPU and failing on a GPU.
#undef INFINITY
#undef NAN
#undef HUGE_VAL
#undef HUGE_VALF
#undef FLT_MAX
#undef DBL_MAX

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
// Blocks never run at the same time, so one static copy behaves as per-block shared memory
// (refilled with garbage for every block: see emu::poison_static_shared).
#define __shared__ static

struct uint3 { unsigned int x, y, z; };
struct dim3 {
    unsigned int x, y, z;
    dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};
static thread_local uint3 threadIdx, blockIdx;
static thread_local dim3 blockDim, gridDim;
static const int warpSize = 32;

// ---- device functions that NVRTC provides without any #include --------------------------
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
inline long long __double_as_longlong(double d) { long long i; std::memcpy(&i, &d, 8); return i; }
template <class T> inline T __ldg(const T* p) { return *p; }
inline int max(int a, int b) { return a > b ? a : b; }
inline int min(int a, int b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline float max(float a, float b) { return std::fmax(a, b); }
inline float min(float a, float b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }

// ---- atomics (std::atomic_ref: correct also when threads really run at once) -------------
template <class T> inline T atomicAdd(T* p, T v) { return std::atomic_ref<T>(*p).fetch_add(v); }
template <class T> inline T atomicSub(T* p, T v) { return std::atomic_ref<T>(*p).fetch_sub(v); }
template <class T> inline T atomicExch(T* p, T v) { return std::atomic_ref<T>(*p).exchange(v); }
template <class T> inline T atomicCAS(T* p, T expected, T v) {
    std::atomic_ref<T>(*p).compare_exchange_strong(expected, v);
    return expected;
}
template <class T> inline T atomicMax(T* p, T v) {
    static_assert(std::is_integral<T>::value, "CUDA atomicMax has no floating-point overload");
    std::atomic_ref<T> a(*p);
    T old = a.load();
    while (old < v && !a.compare_exchange_weak(old, v)) {}
    return old;
}
template <class T> inline T atomicMin(T* p, T v) {
    static_assert(std::is_integral<T>::value, "CUDA atomicMin has no floating-point overload");
    std::atomic_ref<T> a(*p);
    T old = a.load();
    while (old > v && !a.compare_exchange_weak(old, v)) {}
    return old;
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
// Warp intrinsics (__shfl_*_sync, __ballot_sync, ...), cooperative groups, curand and half are
// deliberately absent: a kernel that uses them fails to build instead of being emulated wrongly.

namespace emu {

enum Order { kForward = 0, kReverse = 1, kShuffled = 2, kThreads = 3 };
enum Status { kOk = 0, kBadLaunch = 1, kTooMuchSharedMemory = 2 };

// ---- the state of the running launch ----------------------------------------------------
struct Fiber {
    ucontext_t context;
    int state;  // 0 runnable, 1 waiting at a barrier, 2 finished
    uint3 thread_index;
};
static thread_local ucontext_t scheduler_context;
static thread_local Fiber* current_fiber = nullptr;
static void (*kernel_body)(void*) = nullptr;
static void* kernel_body_arg = nullptr;
static std::vector<char> dynamic_shared_memory;  // the running block's `extern __shared__`
static std::barrier<>* block_barrier = nullptr;   // order kThreads only
static long long divergent_barriers = 0;          // barrier rounds where some threads had exited
static const size_t kFiberStack = 256 * 1024;

inline void syncthreads() {
    if (block_barrier) {
        block_barrier->arrive_and_wait();
        return;
    }
    if (!current_fiber) {
        std::fprintf(stderr, "emulator: __syncthreads() reached outside a fiber launch\n");
        std::abort();
    }
    current_fiber->state = 1;
    swapcontext(&current_fiber->context, &scheduler_context);
}
inline void* dynamic_shared() { return dynamic_shared_memory.data(); }

// Static `__shared__` arrays are plain statics here, so they would keep the previous block's
// values. The build inserts a call to this after each declaration inside a function: the first
// thread of every block to get there fills the array with 0xFF bytes (NaN), as uninitialised
// shared memory would be on a GPU. The mutex orders it before the other threads' accesses.
static unsigned long long block_generation = 0;  // one more for every block launched
static std::mutex shared_poison_mutex;
inline void poison_static_shared(void* array, size_t bytes, unsigned long long* seen) {
    std::lock_guard<std::mutex> lock(shared_poison_mutex);
    if (*seen == block_generation) return;
    *seen = block_generation;
    std::memset(array, 0xFF, bytes);
}

inline std::vector<unsigned> visiting_order(unsigned n, int order, std::mt19937& rng) {
    std::vector<unsigned> indices(n);
    for (unsigned i = 0; i < n; ++i) indices[i] = order == kReverse ? n - 1 - i : i;
    if (order == kShuffled) std::shuffle(indices.begin(), indices.end(), rng);
    return indices;
}
inline uint3 unflatten(unsigned t, dim3 d) { return uint3{t % d.x, (t / d.x) % d.y, t / (d.x * d.y)}; }

static void fiber_entry() {
    kernel_body(kernel_body_arg);
    current_fiber->state = 2;  // uc_link then returns to the scheduler
}

inline void run_block_serial(unsigned nthreads, dim3 block, int order, std::mt19937& rng) {
    for (unsigned t : visiting_order(nthreads, order, rng)) {
        threadIdx = unflatten(t, block);
        kernel_body(kernel_body_arg);
    }
}

inline void run_block_fibers(std::vector<Fiber>& fibers, char* stacks, dim3 block, int order,
                             std::mt19937& rng) {
    const unsigned n = (unsigned)fibers.size();
    for (unsigned t = 0; t < n; ++t) {
        Fiber& f = fibers[t];
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = stacks + (size_t)t * kFiberStack;
        f.context.uc_stack.ss_size = kFiberStack;
        f.context.uc_link = &scheduler_context;
        makecontext(&f.context, fiber_entry, 0);
        f.state = 0;
        f.thread_index = unflatten(t, block);
    }
    for (;;) {
        // run every runnable fiber up to its next barrier (or to its end), in the chosen order
        for (unsigned t : visiting_order(n, order, rng)) {
            Fiber& f = fibers[t];
            if (f.state != 0) continue;
            current_fiber = &f;
            threadIdx = f.thread_index;
            swapcontext(&scheduler_context, &f.context);
        }
        unsigned waiting = 0, finished = 0;
        for (const Fiber& f : fibers) {
            waiting += f.state == 1;
            finished += f.state == 2;
        }
        if (waiting == 0) break;
        if (finished) ++divergent_barriers;  // undefined behaviour on a GPU: some threads left
        for (Fiber& f : fibers)
            if (f.state == 1) f.state = 0;
    }
    current_fiber = nullptr;
}

inline void run_block_threads(unsigned nthreads, dim3 grid, dim3 block, uint3 block_index) {
    std::barrier<> barrier((std::ptrdiff_t)nthreads);
    block_barrier = &barrier;
    std::vector<std::thread> threads;
    threads.reserve(nthreads);
    for (unsigned t = 0; t < nthreads; ++t)
        threads.emplace_back([=, &barrier] {
            gridDim = grid;
            blockDim = block;
            blockIdx = block_index;
            threadIdx = unflatten(t, block);
            kernel_body(kernel_body_arg);
            barrier.arrive_and_drop();  // a finished thread no longer holds the others back
        });
    for (std::thread& th : threads) th.join();
    block_barrier = nullptr;
}

inline int launch_impl(void (*body)(void*), void* arg, dim3 grid, dim3 block, size_t shared_mem,
                       int order, unsigned seed, bool uses_barriers) {
    const unsigned nthreads = block.x * block.y * block.z;
    const unsigned long long nblocks = (unsigned long long)grid.x * grid.y * grid.z;
    if (nthreads == 0 || nthreads > 1024 || block.z > 64 || grid.y > 65535 || grid.z > 65535 ||
        nblocks == 0)
        return kBadLaunch;
    if (shared_mem > 48 * 1024) return kTooMuchSharedMemory;  // more needs an opt-in on a GPU
    gridDim = grid;
    blockDim = block;
    kernel_body = body;
    kernel_body_arg = arg;
    std::mt19937 rng(seed);
    std::vector<Fiber> fibers(uses_barriers && order != kThreads ? nthreads : 0);
    // new char[] leaves the stacks uninitialised: the OS maps only the pages a fiber touches
    std::unique_ptr<char[]> stacks(
        fibers.empty() ? nullptr : new char[fibers.size() * kFiberStack]);
    for (unsigned b : visiting_order((unsigned)nblocks, order == kThreads ? kForward : order, rng)) {
        blockIdx = unflatten(b, grid);
        ++block_generation;
        dynamic_shared_memory.assign(shared_mem, (char)0xFF);  // garbage (NaN), as on a GPU
        if (order == kThreads)
            run_block_threads(nthreads, grid, block, blockIdx);
        else if (uses_barriers)
            run_block_fibers(fibers, stacks.get(), block, order, rng);
        else
            run_block_serial(nthreads, block, order, rng);
    }
    return kOk;
}

// ---- from `void** args` to a typed call -------------------------------------------------
template <class... A, size_t... I>
inline void call_with(void (*kernel)(A...), void** args, std::index_sequence<I...>) {
    kernel(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(args[I])...);
}
template <class... A> struct Bound {
    void (*kernel)(A...);
    void** args;
};
template <class... A> inline void trampoline(void* p) {
    auto* bound = static_cast<Bound<A...>*>(p);
    call_with(bound->kernel, bound->args, std::index_sequence_for<A...>{});
}
template <class... A>
inline int launch(void (*kernel)(A...), dim3 grid, dim3 block, size_t shared_mem, int order,
                  unsigned seed, bool uses_barriers, void** args) {
    Bound<A...> bound{kernel, args};
    return launch_impl(&trampoline<A...>, &bound, grid, block, shared_mem, order, seed,
                       uses_barriers);
}

// ---- the parameter types, as numpy type characters, for the launcher's argument checks ----
template <class T> constexpr char type_char() {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<U, float>) return 'f';
    else if constexpr (std::is_same_v<U, double>) return 'd';
    else if constexpr (std::is_same_v<U, bool>) return '?';
    else if constexpr (std::is_same_v<U, signed char> || std::is_same_v<U, char>) return 'b';
    else if constexpr (std::is_same_v<U, unsigned char>) return 'B';
    else if constexpr (std::is_same_v<U, short>) return 'h';
    else if constexpr (std::is_same_v<U, unsigned short>) return 'H';
    else if constexpr (std::is_same_v<U, int>) return 'i';
    else if constexpr (std::is_same_v<U, unsigned int>) return 'I';
    else if constexpr (std::is_same_v<U, long>) return 'l';
    else if constexpr (std::is_same_v<U, unsigned long>) return 'L';
    else if constexpr (std::is_same_v<U, long long>) return 'q';
    else if constexpr (std::is_same_v<U, unsigned long long>) return 'Q';
    else if constexpr (std::is_void_v<U>) return 'v';
    else return 'V';  // a struct passed by value: checked by size only
}
template <class T> inline std::string param_code() {
    if constexpr (std::is_pointer_v<T>) return std::string("*") + type_char<std::remove_pointer_t<T>>() + ",";
    else return std::string(1, type_char<T>()) + ":" + std::to_string(sizeof(T)) + ",";
}
template <class... A> inline const char* signature(void (*)(A...)) {
    static const std::string text = (std::string() + ... + param_code<A>());
    return text.c_str();
}

}  // namespace emu

#define __syncthreads() emu::syncthreads()
