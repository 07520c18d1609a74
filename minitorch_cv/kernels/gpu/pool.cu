// pool.cu: max and average pooling, forward and backward.
//
// Shapes (NCHW, C-contiguous): x and grad_x (N, C, H, W); out, grad_out and argmax
// (N, C, out_h, out_w). Output size: out = (size + 2*pad - dil*(k - 1) - 1) / stride + 1.
// Window tap (i, j) of output (oh, ow) reads input (oh*sh - ph + i*dh, ow*sw - pw + j*dw).
#include "common.h"

// out = max over the window's real pixels (padding counts as -inf), argmax = h*W + w of the
// first maximum in row-major window order (`>` keeps the first; a NaN always wins, as in
// PyTorch on the CPU). A window with no real pixel gives -inf and argmax -1.
// One thread per output element.
extern "C" __global__ void max_pool2d_forward(
        const scalar_t* __restrict__ x, scalar_t* __restrict__ out, long long* __restrict__ argmax,
        long long N, long long C, long long H, long long W, long long kh, long long kw,
        long long sh, long long sw, long long ph, long long pw, long long dh, long long dw,
        long long out_h, long long out_w) {
    const index_t total = N * C * out_h * out_w;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t ow = index % out_w;
        const index_t oh = (index / out_w) % out_h;
        const scalar_t* x_plane = x + (index / (out_w * out_h)) * H * W;
        scalar_t best = negative_infinity();
        index_t best_index = -1;
        for (index_t i = 0; i < kh; ++i) {
            const index_t h = oh * sh - ph + i * dh;
            if (h < 0 || h >= H) continue;
            for (index_t j = 0; j < kw; ++j) {
                const index_t w = ow * sw - pw + j * dw;
                if (w < 0 || w >= W) continue;
                const scalar_t value = x_plane[h * W + w];
                // value != value is true only for NaN (isnan without a header)
                if (best_index < 0 || value > best || value != value) {
                    best = value;
                    best_index = h * W + w;
                }
            }
        }
        out[index] = best;
        argmax[index] = best_index;
    }
}

// grad_x[n, c, argmax[n, c, oh, ow]] += grad_out[n, c, oh, ow]; grad_x must start at zero.
// One thread per output element. This is a scatter with atomicAdd, not a gather: the kernel
// contract gives no window geometry, so a pixel cannot find the outputs that chose it. Where
// windows overlap the additions happen in a nondeterministic order (compare with a tolerance).
extern "C" __global__ void max_pool2d_backward(
        const scalar_t* __restrict__ grad_out, const long long* __restrict__ argmax,
        scalar_t* __restrict__ grad_x, long long N, long long C, long long H, long long W,
        long long out_h, long long out_w) {
    const index_t total = N * C * out_h * out_w;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t pixel = argmax[index];
        if (pixel < 0) continue;  // a window of padding only: no input received the max
        atomicAdd(&grad_x[(index / (out_w * out_h)) * H * W + pixel], grad_out[index]);
    }
}

// Bounds of an average-pool window along one axis (PyTorch's rule). The real pixels are
// [*start, *end); the window clipped to the padded input [-pad, size + pad) has the returned
// number of pixels (smaller than k only for ceil_mode's last window).
__device__ __forceinline__ index_t avg_window(index_t o, index_t stride, index_t pad, index_t k,
                                              index_t size, index_t* start, index_t* end) {
    const index_t first = o * stride - pad;
    const index_t last = min(first + k, size + pad);
    *start = max(first, (index_t)0);
    *end = min(last, size);
    return last - first;
}

// out = (sum of the window's real pixels) / divisor, divisor = the padded window's size when
// count_include_pad != 0, else the number of real pixels. One thread per output element.
extern "C" __global__ void avg_pool2d_forward(
        const scalar_t* __restrict__ x, scalar_t* __restrict__ out, long long N, long long C,
        long long H, long long W, long long kh, long long kw, long long sh, long long sw,
        long long ph, long long pw, long long out_h, long long out_w,
        long long count_include_pad) {
    const index_t total = N * C * out_h * out_w;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t ow = index % out_w;
        const index_t oh = (index / out_w) % out_h;
        const scalar_t* x_plane = x + (index / (out_w * out_h)) * H * W;
        index_t h0, h1, w0, w1;
        const index_t padded = avg_window(oh, sh, ph, kh, H, &h0, &h1) *
                               avg_window(ow, sw, pw, kw, W, &w0, &w1);
        scalar_t sum = 0;
        for (index_t h = h0; h < h1; ++h)
            for (index_t w = w0; w < w1; ++w) sum += x_plane[h * W + w];
        const index_t divisor = count_include_pad ? padded : (h1 - h0) * (w1 - w0);
        out[index] = sum / (scalar_t)divisor;
    }
}

// grad_x[n, c, h, w] = sum over the windows that contain (h, w) of grad_out / divisor.
// A gather: one thread per input pixel; output rows oh with oh*sh - ph <= h < oh*sh - ph + kh.
extern "C" __global__ void avg_pool2d_backward(
        const scalar_t* __restrict__ grad_out, scalar_t* __restrict__ grad_x, long long N,
        long long C, long long H, long long W, long long kh, long long kw, long long sh,
        long long sw, long long ph, long long pw, long long out_h, long long out_w,
        long long count_include_pad) {
    const index_t total = N * C * H * W;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t w = index % W;
        const index_t h = (index / W) % H;
        const scalar_t* grad_plane = grad_out + (index / (W * H)) * out_h * out_w;
        // smallest oh whose window reaches h: oh*sh - ph + kh > h  <=>  oh > (h + ph - kh) / sh
        const index_t oh_first = max((h + ph - kh + sh) / sh, (index_t)0);
        const index_t oh_last = min((h + ph) / sh, out_h - 1);
        const index_t ow_first = max((w + pw - kw + sw) / sw, (index_t)0);
        const index_t ow_last = min((w + pw) / sw, out_w - 1);
        scalar_t sum = 0;
        for (index_t oh = oh_first; oh <= oh_last; ++oh) {
            index_t h0, h1, w0, w1;
            const index_t padded_h = avg_window(oh, sh, ph, kh, H, &h0, &h1);
            for (index_t ow = ow_first; ow <= ow_last; ++ow) {
                const index_t padded = padded_h * avg_window(ow, sw, pw, kw, W, &w0, &w1);
                const index_t divisor = count_include_pad ? padded : (h1 - h0) * (w1 - w0);
                sum += grad_plane[oh * out_w + ow] / (scalar_t)divisor;
            }
        }
        grad_x[index] = sum;
    }
}
