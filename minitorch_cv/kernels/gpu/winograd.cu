// winograd.cu: the transforms of Winograd F(2x2, 3x3) around its 16 GEMMs (Lavin and Gray, 2015).
//
//     Y = A^T [ (G g G^T) * (B^T d B) ] A     per 2x2 output tile, * elementwise (16 products)
//
// B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
// G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
// A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]
//
// Shapes (C-contiguous): weight (C_out, C, 3, 3) -> U (4, 4, C_out, C);
// x (N, C, H, W) -> V (4, 4, C, N, tiles_h, tiles_w); M (4, 4, C_out, N, tiles_h, tiles_w) ->
// y (N, C_out, out_h, out_w). Between them, the op multiplies U[a, b] @ V[a, b] (cuBLAS).
// Tile (ty, tx) reads input rows 2*ty - ph ... 2*ty - ph + 3 (zero outside the image; the
// padding may be negative). One thread per filter pair, input tile or output tile: each writes
// its own 16 (or 4) values, so no two threads write the same element.
#include "common.h"

// U[:, :, co, c] = G g G^T, g = weight[co, c]. One thread per (co, c).
extern "C" __global__ void winograd_filter_transform(const scalar_t* __restrict__ weight,
                                                     scalar_t* __restrict__ U,
                                                     long long C_out, long long C) {
    const index_t total = C_out * C;
    const scalar_t half = (scalar_t)0.5;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const scalar_t* g = weight + index * 9;  // (co, c) == index / C, index % C
        scalar_t t[4][3];                         // G g
        for (int j = 0; j < 3; ++j) {
            t[0][j] = g[j];
            t[1][j] = (g[j] + g[3 + j] + g[6 + j]) * half;
            t[2][j] = (g[j] - g[3 + j] + g[6 + j]) * half;
            t[3][j] = g[6 + j];
        }
        for (int a = 0; a < 4; ++a) {            // (G g) G^T, row a
            U[(a * 4 + 0) * total + index] = t[a][0];
            U[(a * 4 + 1) * total + index] = (t[a][0] + t[a][1] + t[a][2]) * half;
            U[(a * 4 + 2) * total + index] = (t[a][0] - t[a][1] + t[a][2]) * half;
            U[(a * 4 + 3) * total + index] = t[a][2];
        }
    }
}

// V[:, :, c, n, ty, tx] = B^T d B, d[a][b] = x[n, c, 2*ty - ph + a, 2*tx - pw + b] (0 outside).
// One thread per input tile; index == ((c*N + n)*tiles_h + ty)*tiles_w + tx.
extern "C" __global__ void winograd_input_transform(const scalar_t* __restrict__ x,
                                                    scalar_t* __restrict__ V, long long N,
                                                    long long C, long long H, long long W,
                                                    long long ph, long long pw,
                                                    long long tiles_h, long long tiles_w) {
    const index_t total = C * N * tiles_h * tiles_w;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t tx = index % tiles_w;
        const index_t ty = (index / tiles_w) % tiles_h;
        const index_t n = (index / (tiles_w * tiles_h)) % N;
        const index_t c = index / (tiles_w * tiles_h * N);
        const scalar_t* plane = x + (n * C + c) * H * W;
        scalar_t d[4][4];
        for (int a = 0; a < 4; ++a) {
            const index_t h = 2 * ty - ph + a;
            for (int b = 0; b < 4; ++b) {
                const index_t w = 2 * tx - pw + b;
                d[a][b] = (h >= 0 && h < H && w >= 0 && w < W) ? plane[h * W + w] : (scalar_t)0;
            }
        }
        scalar_t t[4][4];  // B^T d: rows 0-2, 1+2, 2-1, 1-3
        for (int b = 0; b < 4; ++b) {
            t[0][b] = d[0][b] - d[2][b];
            t[1][b] = d[1][b] + d[2][b];
            t[2][b] = d[2][b] - d[1][b];
            t[3][b] = d[1][b] - d[3][b];
        }
        for (int a = 0; a < 4; ++a) {  // (B^T d) B: the same combinations of the columns
            V[(a * 4 + 0) * total + index] = t[a][0] - t[a][2];
            V[(a * 4 + 1) * total + index] = t[a][1] + t[a][2];
            V[(a * 4 + 2) * total + index] = t[a][2] - t[a][1];
            V[(a * 4 + 3) * total + index] = t[a][1] - t[a][3];
        }
    }
}

// y[n, co, 2*ty + r, 2*tx + s] = (A^T m A)[r][s], m = M[:, :, co, n, ty, tx], cropped at the
// edge. One thread per output tile; index == ((co*N + n)*tiles_h + ty)*tiles_w + tx.
extern "C" __global__ void winograd_output_transform(const scalar_t* __restrict__ M,
                                                     scalar_t* __restrict__ y, long long N,
                                                     long long C_out, long long tiles_h,
                                                     long long tiles_w, long long out_h,
                                                     long long out_w) {
    const index_t total = C_out * N * tiles_h * tiles_w;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t tx = index % tiles_w;
        const index_t ty = (index / tiles_w) % tiles_h;
        const index_t n = (index / (tiles_w * tiles_h)) % N;
        const index_t co = index / (tiles_w * tiles_h * N);
        scalar_t s[2][4];  // A^T m: rows 0+1+2 and 1-2-3
        for (int b = 0; b < 4; ++b) {
            const scalar_t m0 = M[(0 * 4 + b) * total + index], m1 = M[(1 * 4 + b) * total + index];
            const scalar_t m2 = M[(2 * 4 + b) * total + index], m3 = M[(3 * 4 + b) * total + index];
            s[0][b] = m0 + m1 + m2;
            s[1][b] = m1 - m2 - m3;
        }
        scalar_t* plane = y + (n * C_out + co) * out_h * out_w;
        for (int r = 0; r < 2; ++r) {
            const index_t h = 2 * ty + r;
            if (h >= out_h) continue;
            const scalar_t value[2] = {s[r][0] + s[r][1] + s[r][2], s[r][1] - s[r][2] - s[r][3]};
            for (int q = 0; q < 2; ++q) {
                const index_t w = 2 * tx + q;
                if (w < out_w) plane[h * out_w + w] = value[q];
            }
        }
    }
}

// The adjoints, for the weight gradient: dM = A dY A^T per output tile (dY the tile's 2x2 of
// grad_y, zero past the edge), then grad_weight = G^T grad_U G per filter pair; between them
// the op multiplies dM[a, b] @ V[a, b]^T (cuBLAS). A = (A^T)^T: rows (1, 0), (1, 1), (1, -1), (0, -1).

// dM[:, :, co, n, ty, tx] = A dY A^T. One thread per output tile; index as in the output transform.
extern "C" __global__ void winograd_grad_output_transform(const scalar_t* __restrict__ grad_y,
                                                          scalar_t* __restrict__ dM,
                                                          long long N, long long C_out,
                                                          long long out_h, long long out_w,
                                                          long long tiles_h, long long tiles_w) {
    const index_t total = C_out * N * tiles_h * tiles_w;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t tx = index % tiles_w;
        const index_t ty = (index / tiles_w) % tiles_h;
        const index_t n = (index / (tiles_w * tiles_h)) % N;
        const index_t co = index / (tiles_w * tiles_h * N);
        const scalar_t* plane = grad_y + (n * C_out + co) * out_h * out_w;
        scalar_t y[2][2];
        for (int r = 0; r < 2; ++r) {
            for (int q = 0; q < 2; ++q) {
                const index_t h = 2 * ty + r, w = 2 * tx + q;
                y[r][q] = (h < out_h && w < out_w) ? plane[h * out_w + w] : (scalar_t)0;
            }
        }
        scalar_t p[4][2];  // A dY
        for (int q = 0; q < 2; ++q) {
            p[0][q] = y[0][q];
            p[1][q] = y[0][q] + y[1][q];
            p[2][q] = y[0][q] - y[1][q];
            p[3][q] = -y[1][q];
        }
        for (int a = 0; a < 4; ++a) {  // (A dY) A^T
            dM[(a * 4 + 0) * total + index] = p[a][0];
            dM[(a * 4 + 1) * total + index] = p[a][0] + p[a][1];
            dM[(a * 4 + 2) * total + index] = p[a][0] - p[a][1];
            dM[(a * 4 + 3) * total + index] = -p[a][1];
        }
    }
}

// grad_weight[co, c] = G^T grad_U[:, :, co, c] G (3x3). One thread per (co, c).
extern "C" __global__ void winograd_grad_filter_transform(const scalar_t* __restrict__ grad_U,
                                                          scalar_t* __restrict__ grad_weight,
                                                          long long C_out, long long C) {
    const index_t total = C_out * C;
    const scalar_t half = (scalar_t)0.5;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        scalar_t t[3][4];  // G^T grad_U: rows u0 + (u1 + u2)/2, (u1 - u2)/2, (u1 + u2)/2 + u3
        for (int b = 0; b < 4; ++b) {
            const scalar_t u0 = grad_U[(0 * 4 + b) * total + index];
            const scalar_t u1 = grad_U[(1 * 4 + b) * total + index];
            const scalar_t u2 = grad_U[(2 * 4 + b) * total + index];
            const scalar_t u3 = grad_U[(3 * 4 + b) * total + index];
            t[0][b] = u0 + (u1 + u2) * half;
            t[1][b] = (u1 - u2) * half;
            t[2][b] = (u1 + u2) * half + u3;
        }
        scalar_t* g = grad_weight + index * 9;
        for (int i = 0; i < 3; ++i) {  // (G^T grad_U) G
            g[i * 3 + 0] = t[i][0] + (t[i][1] + t[i][2]) * half;
            g[i * 3 + 1] = (t[i][1] - t[i][2]) * half;
            g[i * 3 + 2] = (t[i][1] + t[i][2]) * half + t[i][3];
        }
    }
}
