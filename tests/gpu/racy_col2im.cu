// A deliberately WRONG col2im, kept as a test case (tests/gpu/test_gpu_emulator.py and
// test_gpu_sanitizers.py): a scatter, one thread per col element, that adds into x with a
// plain `+=` instead of atomicAdd. Two threads whose taps read the same pixel race on it.
// Every serial thread order still gives the right sum, so only ThreadSanitizer (thread order
// "threads") can catch it. The project's col2im (kernels/gpu/conv.cu) is a gather instead.
typedef float scalar_t;
extern "C" __global__ void racy_col2im(const scalar_t* col, scalar_t* x, long long N, long long C,
                                       long long H, long long W, long long kh, long long kw,
                                       long long sh, long long sw, long long ph, long long pw,
                                       long long dh, long long dw, long long out_h,
                                       long long out_w) {
    const long long total = N * C * kh * kw * out_h * out_w;
    for (long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x; index < total;
         index += (long long)blockDim.x * gridDim.x) {
        const long long ow = index % out_w;
        const long long oh = (index / out_w) % out_h;
        const long long j = (index / (out_w * out_h)) % kw;
        const long long i = (index / (out_w * out_h * kw)) % kh;
        const long long plane = index / (out_w * out_h * kw * kh);
        const long long h = oh * sh - ph + i * dh, w = ow * sw - pw + j * dw;
        if (h >= 0 && h < H && w >= 0 && w < W) x[(plane * H + h) * W + w] += col[index];  // RACE
    }
}
