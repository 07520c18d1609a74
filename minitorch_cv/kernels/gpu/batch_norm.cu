// batch_norm.cu: batch normalisation statistics, forward and backward (training mode).
//
// Shapes: x, y, grad_y, grad_x (N, C, L) C-contiguous (L = H*W for images); per-channel
// vectors (C,). Sums run over the M = N*L values of a channel and are accumulated in double.
//
// The reductions use the classic layout: one block per channel (a grid-stride loop over
// channels when C exceeds the grid), each thread sums a strided share of the channel, then a
// shared-memory tree (block_sum in common.h) adds the shares. blockDim.x must be a power of
// two, at most MAX_BLOCK; every thread reaches every __syncthreads().
#include "common.h"

#define MAX_BLOCK 256

// mean[c] = sum(x[:, c, :]) / M; var[c] = sum((x[:, c, :] - mean[c])^2) / M (biased).
// Two passes over the channel: the squared deviations do not cancel as E[x^2] - E[x]^2 does.
extern "C" __global__ void batch_norm_stats(const scalar_t* __restrict__ x,
                                            scalar_t* __restrict__ mean,
                                            scalar_t* __restrict__ var, long long N,
                                            long long C, long long L) {
    __shared__ double partial[MAX_BLOCK];
    const index_t M = N * L;
    for (index_t c = blockIdx.x; c < C; c += gridDim.x) {
        double sum = 0;
        for (index_t k = threadIdx.x; k < M; k += blockDim.x)
            sum += (double)x[((k / L) * C + c) * L + k % L];  // k = n*L + l
        const double mu = block_sum(partial, sum) / (double)M;
        double squares = 0;
        for (index_t k = threadIdx.x; k < M; k += blockDim.x) {
            const double d = (double)x[((k / L) * C + c) * L + k % L] - mu;
            squares += d * d;
        }
        const double sigma2 = block_sum(partial, squares) / (double)M;
        if (threadIdx.x == 0) {
            mean[c] = (scalar_t)mu;
            var[c] = (scalar_t)sigma2;
        }
    }
}

// y[n, c, l] = (x[n, c, l] - mean[c]) * invstd[c] * weight[c] + bias[c].
// One thread per element (no reduction, so any block size).
extern "C" __global__ void batch_norm_forward(
        const scalar_t* __restrict__ x, const scalar_t* __restrict__ mean,
        const scalar_t* __restrict__ invstd, const scalar_t* __restrict__ weight,
        const scalar_t* __restrict__ bias, scalar_t* __restrict__ y, long long N, long long C,
        long long L) {
    const index_t total = N * C * L;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t c = (index / L) % C;
        y[index] = (x[index] - mean[c]) * invstd[c] * weight[c] + bias[c];
    }
}

// sums[c] = (sum(g), sum(g * xhat)) over channel c, xhat = (x - mean) * invstd, in double:
// they are grad_bias and grad_weight, and batch_norm_backward_input needs both.
extern "C" __global__ void batch_norm_backward_reduce(
        const scalar_t* __restrict__ grad_y, const scalar_t* __restrict__ x,
        const scalar_t* __restrict__ mean, const scalar_t* __restrict__ invstd,
        double* __restrict__ sums, long long N, long long C, long long L) {
    __shared__ double partial[MAX_BLOCK];
    const index_t M = N * L;
    for (index_t c = blockIdx.x; c < C; c += gridDim.x) {
        const double mu = (double)mean[c], inv = (double)invstd[c];
        double sum_g = 0, sum_g_xhat = 0;
        for (index_t k = threadIdx.x; k < M; k += blockDim.x) {
            const index_t at = ((k / L) * C + c) * L + k % L;
            const double g = (double)grad_y[at];
            sum_g += g;
            sum_g_xhat += g * ((double)x[at] - mu) * inv;
        }
        sum_g = block_sum(partial, sum_g);
        sum_g_xhat = block_sum(partial, sum_g_xhat);
        if (threadIdx.x == 0) {
            sums[2 * c] = sum_g;
            sums[2 * c + 1] = sum_g_xhat;
        }
    }
}

// grad_x = weight * invstd / M * (M * g - sum(g) - xhat * sum(g * xhat)), per element, with
// the channel sums from batch_norm_backward_reduce. One thread per element.
extern "C" __global__ void batch_norm_backward_input(
        const scalar_t* __restrict__ grad_y, const scalar_t* __restrict__ x,
        const scalar_t* __restrict__ mean, const scalar_t* __restrict__ invstd,
        const scalar_t* __restrict__ weight, const double* __restrict__ sums,
        scalar_t* __restrict__ grad_x, long long N, long long C, long long L) {
    const index_t total = N * C * L;
    const double M = (double)(N * L);
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t c = (index / L) % C;
        const double inv = (double)invstd[c];
        const double xhat = ((double)x[index] - (double)mean[c]) * inv;
        const double g = (double)grad_y[index];
        grad_x[index] = (scalar_t)((double)weight[c] * inv / M *
                                   (M * g - sums[2 * c] - xhat * sums[2 * c + 1]));
    }
}
