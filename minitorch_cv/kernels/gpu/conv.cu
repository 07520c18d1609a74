// conv.cu: im2col and col2im, the data movement around convolution's GEMM.
//
// Shapes (NCHW, C-contiguous): x (N, C, H, W); col (N, C, kh, kw, out_h, out_w), or with
// batch_inner != 0 the GEMM layout (C, kh, kw, N, out_h, out_w), in which
// col.reshape(C*kh*kw, N*out_h*out_w) is one matrix for the whole batch (one GEMM, no transpose).
// Output size: out = (size + 2*pad - dil*(k - 1) - 1) / stride + 1.
// Output pixel `oh`'s tap `i` reads input row `oh*sh - ph + i*dh` (padding if outside [0, H)).
#include "common.h"

// col[n, c, i, j, oh, ow] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw], or 0 in the padding
// (stored at col[c, i, j, n, oh, ow] when batch_inner). One thread per col element.
extern "C" __global__ void im2col(const scalar_t* __restrict__ x, scalar_t* __restrict__ col,
                                  long long N, long long C, long long H, long long W,
                                  long long kh, long long kw, long long sh, long long sw,
                                  long long ph, long long pw, long long dh, long long dw,
                                  long long out_h, long long out_w, long long batch_inner) {
    const index_t total = N * C * kh * kw * out_h * out_w;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t ow = index % out_w;
        const index_t oh = (index / out_w) % out_h;
        index_t n, c, i, j, rest = index / (out_w * out_h);
        if (batch_inner) {  // index == ((((c*kh + i)*kw + j)*N + n)*out_h + oh)*out_w + ow
            n = rest % N;
            j = (rest / N) % kw;
            i = (rest / (N * kw)) % kh;
            c = rest / (N * kw * kh);
        } else {            // index == ((((n*C + c)*kh + i)*kw + j)*out_h + oh)*out_w + ow
            j = rest % kw;
            i = (rest / kw) % kh;
            c = (rest / (kw * kh)) % C;
            n = rest / (kw * kh * C);
        }
        const index_t plane = n * C + c;
        const index_t h = oh * sh - ph + i * dh;
        const index_t w = ow * sw - pw + j * dw;
        scalar_t value = 0;
        if (h >= 0 && h < H && w >= 0 && w < W) value = x[(plane * H + h) * W + w];
        col[index] = value;
    }
}

// x[n, c, h, w] = sum of col[n, c, i, j, oh, ow] over every tap that reads pixel (h, w).
// A gather: one thread per input pixel finds the taps that touch it, so no two threads write
// the same element and no atomics are needed. Taps are summed in (i, j) order, as the
// reference's scatter loop adds them.
extern "C" __global__ void col2im(const scalar_t* __restrict__ col, scalar_t* __restrict__ x,
                                  long long N, long long C, long long H, long long W,
                                  long long kh, long long kw, long long sh, long long sw,
                                  long long ph, long long pw, long long dh, long long dw,
                                  long long out_h, long long out_w, long long batch_inner) {
    const index_t total = N * C * H * W;
    const index_t L = out_h * out_w;
    // distance between the (out_h, out_w) blocks of consecutive taps (i, j) of one plane
    const index_t tap_stride = batch_inner ? N * L : L;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t w = index % W;
        const index_t h = (index / W) % H;
        const index_t plane = index / (W * H);  // n*C + c
        const index_t n = plane / C, c = plane % C;
        const scalar_t* col_plane = batch_inner ? col + c * kh * kw * N * L + n * L
                                                : col + plane * kh * kw * L;
        scalar_t sum = 0;
        for (index_t i = 0; i < kh; ++i) {
            const index_t row = h + ph - i * dh;  // == oh*sh for the output row that uses tap i
            if (row < 0 || row % sh != 0 || row / sh >= out_h) continue;
            const index_t oh = row / sh;
            for (index_t j = 0; j < kw; ++j) {
                const index_t column = w + pw - j * dw;
                if (column < 0 || column % sw != 0 || column / sw >= out_w) continue;
                const index_t ow = column / sw;
                sum += col_plane[(i * kw + j) * tap_stride + oh * out_w + ow];
            }
        }
        x[index] = sum;
    }
}
