// dropout.cu: the keep-mask of dropout from a counter-based hash (no curand, no state).
//
// Element i of the mask depends only on (seed, i): the same function in NumPy
// (kernels/reference.py hash_uniform) gives the same mask bit for bit on every device.
#include "common.h"

// SplitMix64's finaliser of seed + (i + 1) * golden gamma; the top 24 bits as a uniform in
// [0, 1). Unsigned 64-bit arithmetic wraps, as NumPy's uint64 does.
__device__ __forceinline__ double hash_uniform(unsigned long long seed, unsigned long long i) {
    unsigned long long z = seed + (i + 1ULL) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
    return (double)(z >> 40) * (1.0 / 16777216.0);  // exact: 24 bits fit a double
}

// keep[i] = hash_uniform(seed, i) >= p, for i < n. One thread per element.
extern "C" __global__ void dropout_mask(unsigned char* __restrict__ keep, long long n, double p,
                                        unsigned long long seed) {
    for (index_t index = first_index(); index < n; index += grid_stride()) {
        keep[index] = hash_uniform(seed, (unsigned long long)index) >= p ? 1 : 0;
    }
}
