// common.h: helpers shared by every kernel file of minitorch_cv.kernels.gpu.
//
// The loader (sources.py) pastes this file in after `typedef float scalar_t;` (or double), so
// each .cu file is compiled once per dtype from one text. No templates: CuPy looks kernels up
// by their `extern "C"` names.
//
// Style rules that keep the CPU emulation faithful to the GPU (docs/gpu.md):
// - one thread per output element, in a grid-stride loop (any grid size is correct);
// - 64-bit index arithmetic (`index_t`): N*C*H*W overflows 32 bits on real batches;
// - gather rather than scatter: each output is written by exactly one thread, no atomics;
// - every integer parameter is `long long` (numpy int64), so the launch code passes np.int64;
// - no <math.h> macros (INFINITY, NAN): NVRTC does not have them.
typedef long long index_t;

// First element of this thread, and the stride of the grid-stride loop.
__device__ __forceinline__ index_t first_index() {
    return (index_t)blockIdx.x * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ index_t grid_stride() { return (index_t)blockDim.x * gridDim.x; }

// -infinity without the INFINITY macro (IEEE bit pattern of float -inf; exact in double too).
__device__ __forceinline__ scalar_t negative_infinity() {
    return (scalar_t)__int_as_float(0xff800000);
}

// The sum of `value` over the threads of a block, returned to every thread.
// `partial` is a __shared__ array of blockDim.x doubles; blockDim.x must be a power of two.
// Every thread of the block must call it (it holds barriers).
__device__ double block_sum(double* partial, double value) {
    partial[threadIdx.x] = value;
    __syncthreads();
    for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    double total = partial[0];
    __syncthreads();  // every thread has read partial[0] before the next call overwrites it
    return total;
}
