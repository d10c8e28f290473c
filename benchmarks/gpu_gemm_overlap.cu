// How much can two CUDA streams gain on issue 9's chain (200 steps of `y = (y @ A) * 0.01`,
// 512x512 float32, two independent chains) with *any* kernel, not only cuBLASLt's?
//
// Run R measured cuBLASLt's kernels: two streams reach at most 1.45x over one when each side uses
// its best kernel. A 1.8x needs a product that, sharing the GPU with the other chain, is nearly as
// fast as the best product alone. This probe times, with every chain recorded as a CUDA graph (no
// host work left), cuBLAS, cuBLASLt and hand-written SIMT float32 products of several tile shapes:
// each alone (one chain after the other on one stream) and two at once (one chain per stream).
//
//   nvcc -O3 -std=c++17 -arch=sm_90 -o gemm_overlap benchmarks/gpu_gemm_overlap.cu -lcublasLt -lcublas
//   ./gemm_overlap [n=512] [steps=200] [reps=15]
//
// Prints, per kernel: its max relative error against a float64 product on the host, one stream
// and two streams (ms for both chains), and "best one stream / this kernel on two streams".
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <functional>
#include <random>
#include <string>
#include <vector>

#define CK(x)                                                                                      \
    do {                                                                                           \
        cudaError_t e_ = (x);                                                                      \
        if (e_ != cudaSuccess) {                                                                   \
            fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_));     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)
#define CB(x)                                                                                      \
    do {                                                                                           \
        int s_ = (int)(x);                                                                         \
        if (s_ != 0) {                                                                             \
            fprintf(stderr, "%s:%d %s: status %d\n", __FILE__, __LINE__, #x, s_);                  \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

// C = alpha * A @ B, row-major, M, N multiples of the tile and K of BK. A is staged transposed in
// shared memory (As[k][m], rows padded by 4 floats against bank conflicts on the transposing
// stores); the next tile is loaded into registers while the current one is multiplied.
template <int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    sgemm(const float *__restrict__ A, const float *__restrict__ B, float *__restrict__ C, int M,
          int N, int K, float alpha) {
    constexpr int NT = (BM / TM) * (BN / TN);
    constexpr int AP = BM + 4;
    __shared__ __align__(16) float As[2][BK][AP];
    __shared__ __align__(16) float Bs[2][BK][BN];
    constexpr int A4 = BM * BK / 4, B4 = BK * BN / 4;
    constexpr int AI = (A4 + NT - 1) / NT, BI = (B4 + NT - 1) / NT;
    const int tid = threadIdx.x, tx = tid % (BN / TN), ty = tid / (BN / TN);
    const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
    float4 ra[AI], rb[BI];
    auto load = [&](int k0) {
#pragma unroll
        for (int i = 0; i < AI; ++i) {
            int idx = tid + i * NT;
            if (idx < A4) {
                int r = idx / (BK / 4), c = idx % (BK / 4);
                ra[i] = *reinterpret_cast<const float4 *>(&A[(size_t)(bm + r) * K + k0 + c * 4]);
            }
        }
#pragma unroll
        for (int i = 0; i < BI; ++i) {
            int idx = tid + i * NT;
            if (idx < B4) {
                int r = idx / (BN / 4), c = idx % (BN / 4);
                rb[i] = *reinterpret_cast<const float4 *>(&B[(size_t)(k0 + r) * N + bn + c * 4]);
            }
        }
    };
    auto store = [&](int s) {
#pragma unroll
        for (int i = 0; i < AI; ++i) {
            int idx = tid + i * NT;
            if (idx < A4) {
                int r = idx / (BK / 4), c = idx % (BK / 4);
                As[s][c * 4 + 0][r] = ra[i].x;
                As[s][c * 4 + 1][r] = ra[i].y;
                As[s][c * 4 + 2][r] = ra[i].z;
                As[s][c * 4 + 3][r] = ra[i].w;
            }
        }
#pragma unroll
        for (int i = 0; i < BI; ++i) {
            int idx = tid + i * NT;
            if (idx < B4) {
                int r = idx / (BN / 4), c = idx % (BN / 4);
                *reinterpret_cast<float4 *>(&Bs[s][r][c * 4]) = rb[i];
            }
        }
    };
    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = 0.f;
    load(0);
    store(0);
    __syncthreads();
    for (int k0 = 0; k0 < K; k0 += BK) {
        const int s = (k0 / BK) & 1;
        const bool more = k0 + BK < K;
        if (more) load(k0 + BK);
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            float a[TM], b[TN];
#pragma unroll
            for (int i = 0; i < TM; i += 4)
                *reinterpret_cast<float4 *>(&a[i]) =
                    *reinterpret_cast<const float4 *>(&As[s][k][ty * TM + i]);
#pragma unroll
            for (int j = 0; j < TN; j += 4)
                *reinterpret_cast<float4 *>(&b[j]) =
                    *reinterpret_cast<const float4 *>(&Bs[s][k][tx * TN + j]);
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        if (more) store(s ^ 1);
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; j += 4) {
            float4 v = make_float4(alpha * acc[i][j], alpha * acc[i][j + 1], alpha * acc[i][j + 2],
                                   alpha * acc[i][j + 3]);
            *reinterpret_cast<float4 *>(&C[(size_t)(bm + ty * TM + i) * N + bn + tx * TN + j]) = v;
        }
}

__global__ void scale(const float4 *__restrict__ x, float4 *__restrict__ y, int n4, float s) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n4) {
        float4 v = x[i];
        y[i] = make_float4(v.x * s, v.y * s, v.z * s, v.w * s);
    }
}

struct Chain {
    float *y, *t;            // the chain's state and the product before scaling
    void *ws;                // cuBLAS / cuBLASLt workspace of its own
    cublasHandle_t blas;     // one handle per chain: two streams never share scratch memory
    cudaGraphExec_t exec = nullptr;
};

static const size_t WS = 32 << 20;
static int n, steps, reps;
static float *dA;
static cublasLtHandle_t lt;

// One step of a chain on stream `s`: t = y @ A, then y = t * 0.01 (or y = 0.01 * y @ A when the
// product scales in its epilogue).
using Product = std::function<void(Chain &, cudaStream_t, float alpha, float *out)>;

template <int BM, int BN, int BK, int TM, int TN> Product custom() {
    return [](Chain &c, cudaStream_t s, float alpha, float *out) {
        dim3 grid(n / BN, n / BM);
        sgemm<BM, BN, BK, TM, TN><<<grid, (BM / TM) * (BN / TN), 0, s>>>(c.y, dA, out, n, n, n, alpha);
    };
}

Product cublas() {
    return [](Chain &c, cudaStream_t s, float alpha, float *out) {
        CB(cublasSetStream(c.blas, s));
        const float beta = 0.f;
        // Row-major out = y @ A is column-major out^T = A^T @ y^T: swap the operands.
        CB(cublasSgemm(c.blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, dA, n, c.y, n, &beta, out, n));
    };
}

// cuBLASLt with the heuristic's `which`-th algorithm (0 = its first choice), float32 compute.
Product cublaslt(int which, int sm_target) {
    auto *desc = new cublasLtMatmulDesc_t;
    auto *layout = new cublasLtMatrixLayout_t;
    auto *algo = new cublasLtMatmulAlgo_t;
    CB(cublasLtMatmulDescCreate(desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    if (sm_target > 0)
        CB(cublasLtMatmulDescSetAttribute(*desc, CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET, &sm_target,
                                          sizeof(sm_target)));
    CB(cublasLtMatrixLayoutCreate(layout, CUDA_R_32F, n, n, n));
    cublasLtMatmulPreference_t pref;
    CB(cublasLtMatmulPreferenceCreate(&pref));
    size_t ws = WS;
    CB(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                            sizeof(ws)));
    cublasLtMatmulHeuristicResult_t res[16];
    int got = 0;
    CB(cublasLtMatmulAlgoGetHeuristic(lt, *desc, *layout, *layout, *layout, *layout, pref, 16, res, &got));
    if (which >= got) return nullptr;
    *algo = res[which].algo;
    return [=](Chain &c, cudaStream_t s, float alpha, float *out) {
        const float beta = 0.f;
        CB(cublasLtMatmul(lt, *desc, &alpha, dA, *layout, c.y, *layout, &beta, out, *layout, out,
                          *layout, algo, c.ws, WS, s));
    };
}

static void step(Product &p, Chain &c, cudaStream_t s, bool fused) {
    if (fused) {
        p(c, s, 0.01f, c.t);
        std::swap(c.y, c.t);  // the graph records pointers: an even step count returns y home
    } else {
        p(c, s, 1.f, c.t);
        int n4 = n * n / 4;
        scale<<<(n4 + 255) / 256, 256, 0, s>>>((const float4 *)c.t, (float4 *)c.y, n4, 0.01f);
    }
}

static void record(Product &p, Chain &c, cudaStream_t s, bool fused) {
    if (c.exec) CK(cudaGraphExecDestroy(c.exec));
    cudaGraph_t g;
    CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < steps; ++i) step(p, c, s, fused);
    CK(cudaStreamEndCapture(s, &g));
    CK(cudaGraphInstantiate(&c.exec, g, 0));
    CK(cudaGraphDestroy(g));
}

static float median(std::vector<float> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

int main(int argc, char **argv) {
    n = argc > 1 ? atoi(argv[1]) : 512;
    steps = argc > 2 ? atoi(argv[2]) : 200;
    reps = argc > 3 ? atoi(argv[3]) : 15;
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("%s, %d SMs; chain: %d steps of y = (y @ A) * 0.01, %dx%d float32, two chains\n",
           prop.name, prop.multiProcessorCount, steps, n, n);
    size_t bytes = (size_t)n * n * sizeof(float);
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.f, 1.f);
    std::vector<float> hA(n * n), hY(n * n);
    for (auto &v : hA) v = dist(rng);
    CK(cudaMalloc(&dA, bytes));
    CK(cudaMemcpy(dA, hA.data(), bytes, cudaMemcpyHostToDevice));
    CB(cublasLtCreate(&lt));
    Chain ch[2];
    std::vector<std::vector<float>> y0(2, std::vector<float>(n * n));
    for (int k = 0; k < 2; ++k) {
        for (auto &v : y0[k]) v = dist(rng);
        CK(cudaMalloc(&ch[k].y, bytes));
        CK(cudaMalloc(&ch[k].t, bytes));
        CK(cudaMalloc(&ch[k].ws, WS));
        CB(cublasCreate(&ch[k].blas));
        CB(cublasSetWorkspace(ch[k].blas, ch[k].ws, WS));
    }
    cudaStream_t s0, s1, s2;
    CK(cudaStreamCreateWithFlags(&s0, cudaStreamNonBlocking));
    CK(cudaStreamCreateWithFlags(&s1, cudaStreamNonBlocking));
    CK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
    cudaEvent_t e0, e1, e2, e3;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    CK(cudaEventCreate(&e2));
    CK(cudaEventCreate(&e3));

    // The float64 reference of one product y0 @ A (the first row block is enough to catch a
    // wrong index: rows 0..63 and the last 64 rows).
    auto check = [&](Product &p) {
        Chain &c = ch[0];
        CK(cudaMemcpy(c.y, y0[0].data(), bytes, cudaMemcpyHostToDevice));
        CK(cudaMemset(c.t, 0xff, bytes));  // NaN: an unwritten element fails the check
        p(c, s0, 1.f, c.t);
        CK(cudaGetLastError());
        CK(cudaStreamSynchronize(s0));
        std::vector<float> out(n * n);
        CK(cudaMemcpy(out.data(), c.t, bytes, cudaMemcpyDeviceToHost));
        double worst = 0;
        for (int r = 0; r < n; ++r) {
            if (r >= 64 && r < n - 64) continue;
            for (int j = 0; j < n; ++j) {
                double ref = 0, mag = 0;
                for (int k = 0; k < n; ++k) {
                    ref += (double)y0[0][r * n + k] * hA[k * n + j];
                    mag += std::fabs((double)y0[0][r * n + k] * hA[k * n + j]);
                }
                double err = std::fabs(out[r * n + j] - ref) / mag;
                if (!(err <= 1e30)) err = 1e30;
                worst = std::max(worst, err);
            }
        }
        return worst;
    };
    auto reset = [&]() {
        for (int k = 0; k < 2; ++k)
            CK(cudaMemcpy(ch[k].y, y0[k].data(), bytes, cudaMemcpyHostToDevice));
    };
    // Both chains one after the other on s0, then each on its own stream; ms, medians.
    auto time = [&](Product &p, bool fused, float &one, float &two) {
        record(p, ch[0], s1, fused);
        record(p, ch[1], s2, fused);
        std::vector<float> t1, t2;
        for (int r = 0; r < reps + 2; ++r) {
            reset();
            CK(cudaDeviceSynchronize());
            CK(cudaEventRecord(e0, s0));
            CK(cudaGraphLaunch(ch[0].exec, s0));
            CK(cudaGraphLaunch(ch[1].exec, s0));
            CK(cudaEventRecord(e1, s0));
            CK(cudaEventSynchronize(e1));
            float ms;
            CK(cudaEventElapsedTime(&ms, e0, e1));
            if (r >= 2) t1.push_back(ms);
            reset();
            CK(cudaDeviceSynchronize());
            CK(cudaEventRecord(e0, s0));
            CK(cudaStreamWaitEvent(s1, e0));
            CK(cudaStreamWaitEvent(s2, e0));
            CK(cudaGraphLaunch(ch[0].exec, s1));
            CK(cudaGraphLaunch(ch[1].exec, s2));
            CK(cudaEventRecord(e2, s1));
            CK(cudaEventRecord(e3, s2));
            CK(cudaStreamWaitEvent(s0, e2));
            CK(cudaStreamWaitEvent(s0, e3));
            CK(cudaEventRecord(e1, s0));
            CK(cudaEventSynchronize(e1));
            CK(cudaEventElapsedTime(&ms, e0, e1));
            if (r >= 2) t2.push_back(ms);
        }
        CK(cudaGetLastError());
        one = median(t1);
        two = median(t2);
    };

    struct Entry {
        std::string name;
        Product p;
    };
    std::vector<Entry> all;
    all.push_back({"cublas sgemm", cublas()});
    for (int a = 0; a < 8; ++a) {
        Product p = cublaslt(a, 0);
        if (p) all.push_back({"cublaslt algo " + std::to_string(a), p});
    }
    all.push_back({"cublaslt algo 0, SM target 66", cublaslt(0, 66)});
    all.push_back({"simt 64x64 k16 4x4 (256 thr, 64 CTAs)", custom<64, 64, 16, 4, 4>()});
    all.push_back({"simt 64x64 k16 8x4 (128 thr, 64 CTAs)", custom<64, 64, 16, 8, 4>()});
    all.push_back({"simt 64x64 k32 4x4 (256 thr, 64 CTAs)", custom<64, 64, 32, 4, 4>()});
    all.push_back({"simt 32x64 k16 4x4 (128 thr, 128 CTAs)", custom<32, 64, 16, 4, 4>()});
    all.push_back({"simt 32x32 k32 4x4 (64 thr, 256 CTAs)", custom<32, 32, 32, 4, 4>()});
    all.push_back({"simt 128x64 k16 8x4 (256 thr, 32 CTAs)", custom<128, 64, 16, 8, 4>()});
    all.push_back({"simt 64x128 k16 8x8 (128 thr, 32 CTAs)", custom<64, 128, 16, 8, 8>()});

    struct Row {
        std::string name;
        bool fused;
        double err;
        float one, two;
    };
    std::vector<Row> rows;
    for (auto &e : all) {
        double err = check(e.p);
        for (int f = 0; f < 2; ++f) {
            float one, two;
            time(e.p, f == 1, one, two);
            rows.push_back({e.name, f == 1, err, one, two});
        }
    }
    float best1[2] = {1e30f, 1e30f};
    for (auto &r : rows) best1[r.fused] = std::min(best1[r.fused], r.one);
    printf("\n%-42s %-6s %9s %9s %9s %7s %10s\n", "product", "scale", "rel.err", "one ms", "two ms",
           "two/one", "best1/two");
    for (auto &r : rows)
        printf("%-42s %-6s %9.1e %9.3f %9.3f %7.2fx %9.2fx\n", r.name.c_str(),
               r.fused ? "alpha" : "kernel", r.err, r.one, r.two, r.one / r.two,
               best1[r.fused] / r.two);
    printf("\nbest one stream: %.3f ms (scale kernel), %.3f ms (alpha)\n", best1[0], best1[1]);
    return 0;
}
