/*
 * Seed 000 ("Devices and Streams") through rill's C API, checked against references computed
 * here in plain C with doubles, plus the API's error paths, scopes across threads, memory
 * counters and freeing. scripts/test-c-api.sh compiles it with the system C compiler and runs it
 * (and again under valgrind, with a smaller seed size).
 *
 *   seed000 [N]    N: the side of the seed's matrices (2048, the seed's own, by default)
 *
 * Where this machine has no GPU, the seed's GPU stream is a second CPU stream, after checking
 * that asking for the GPU fails with RILL_ERR_DEVICE: the same fallback as the Python seed tests
 * (tests/python/test_seeds.py, the `gpu_stream` fixture). Prints "N passed, N failed" and exits
 * non-zero if any check failed.
 */
#include "rill.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            passed++;                                                     \
        } else {                                                          \
            failed++;                                                     \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
        }                                                                 \
    } while (0)

/* A call that must succeed. */
#define OK(call) ok_((call), #call, __LINE__)
static int ok_(int rc, const char *what, int line) {
    if (rc == RILL_OK) return 1;
    failed++;
    fprintf(stderr, "FAIL line %d: %s returned %d: %s\n", line, what, rc, rill_last_error());
    return 0;
}

/* A call that must fail with `code`, leaving a message that contains each of the NULL-ended
 * strings. */
static void expect_error_(int rc, int code, const char *what, int line, ...) {
    const char *msg = rill_last_error();
    if (rc != code) {
        failed++;
        fprintf(stderr, "FAIL line %d: %s returned %d, expected %d (message: %s)\n", line, what,
                rc, code, msg);
        return;
    }
    va_list ap;
    va_start(ap, line);
    for (const char *part = va_arg(ap, const char *); part; part = va_arg(ap, const char *)) {
        if (!strstr(msg, part)) {
            failed++;
            fprintf(stderr, "FAIL line %d: the message of %s lacks \"%s\": %s\n", line, what,
                    part, msg);
            va_end(ap);
            return;
        }
    }
    va_end(ap);
    passed++;
}
#define EXPECT_ERROR(call, code, ...) expect_error_((call), (code), #call, __LINE__, __VA_ARGS__, (const char *)NULL)

static const rill_device CPU = {RILL_CPU, 0};
static const rill_device GPU = {RILL_GPU, 0};

/* Random-ish inputs: a 64-bit LCG, values in +-[0.25, 2) (never zero). */
static uint64_t lcg = 0x243F6A8885A308D3ull;
static double next_unit(void) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg >> 11) / 9007199254740992.0; /* [0, 1) */
}
static float next_input(void) {
    float v = (float)(0.25 + 1.75 * next_unit());
    return next_unit() < 0.5 ? -v : v;
}

static int close_to(double got, double want, double rtol, double atol) {
    return fabs(got - want) <= atol + rtol * fabs(want);
}

static rill_array *from_f32(const float *data, const size_t *shape, size_t ndim) {
    rill_array *a = NULL;
    OK(rill_array_from_data(&a, data, shape, ndim, RILL_FLOAT32, NULL));
    return a;
}

/* The elements of `a` (which must be float32 with `n` elements) in a new buffer, or zeros
 * after a failure that is counted. */
static float *to_f32(const rill_array *a, size_t n) {
    float *buf = calloc(n ? n : 1, sizeof(float));
    rill_dtype dt = -1;
    size_t size = 0;
    if (OK(rill_array_dtype(a, &dt)) && OK(rill_array_size(a, &size))) {
        CHECK(dt == RILL_FLOAT32 && size == n, "dtype %d size %zu, expected float32 of %zu", dt,
              size, n);
        if (dt == RILL_FLOAT32 && size == n) OK(rill_array_copy_to(a, buf, n * sizeof(float)));
    }
    return buf;
}

static int shape_is(const rill_array *a, size_t ndim, const size_t *want) {
    size_t nd = 0;
    const size_t *shape = NULL;
    if (!OK(rill_array_ndim(a, &nd)) || !OK(rill_array_shape(a, &shape))) return 0;
    if (nd != ndim) return 0;
    for (size_t i = 0; i < nd; i++)
        if (shape[i] != want[i]) return 0;
    return 1;
}

static size_t stream_index(const rill_stream *s) {
    size_t i = (size_t)-1;
    OK(rill_stream_index(s, &i));
    return i;
}

static size_t array_stream_index(const rill_array *a) {
    rill_stream *s = NULL;
    size_t i = (size_t)-1;
    if (OK(rill_array_stream(a, &s))) i = stream_index(s);
    rill_stream_free(s);
    return i;
}

static double item(const rill_array *a) {
    double v = NAN;
    OK(rill_array_item(a, &v));
    return v;
}

/* ---------------------------------------------------------------- Devices */

static int has_gpu;

static void test_devices(size_t n) {
    rill_device before = {-1, -1};
    OK(rill_default_device(&before));
    CHECK(before.kind == RILL_CPU || before.kind == RILL_GPU, "default device kind %d",
          before.kind);
    CHECK(before.kind == (has_gpu ? RILL_GPU : RILL_CPU), "the default device is the GPU when "
          "there is one (kind %d, has_gpu %d)", before.kind, has_gpu);
    bool cpu_ok = false;
    OK(rill_is_available(CPU, &cpu_ok));
    CHECK(cpu_ok, "the CPU is always available");
    size_t ncpu = 0;
    OK(rill_device_count(RILL_CPU, &ncpu));
    CHECK(ncpu == 1, "one CPU device, got %zu", ncpu);

    /* with mx.default_device(mx.cpu): x = mx.ones((1024, 1024)) */
    rill_array *x = NULL;
    size_t xs[2] = {n, n};
    OK(rill_scope_push_device(CPU));
    rill_device inside = {-1, -1};
    OK(rill_default_device(&inside));
    CHECK(inside.kind == RILL_CPU, "the scope makes the CPU the default device");
    OK(rill_ones(&x, xs, 2, RILL_FLOAT32, NULL));
    OK(rill_scope_pop());
    rill_device after = {-1, -1};
    OK(rill_default_device(&after));
    CHECK(after.kind == before.kind && after.index == before.index,
          "popping the scope restores the default device");
    rill_stream *xs_stream = NULL;
    rill_device xdev = {-1, -1};
    OK(rill_array_stream(x, &xs_stream));
    OK(rill_stream_device(xs_stream, &xdev));
    CHECK(xdev.kind == RILL_CPU, "x was made on the CPU's stream (kind %d)", xdev.kind);
    rill_stream_free(xs_stream);

    /* y64 = mx.sum(x.astype(mx.float64), stream=mx.cpu) */
    rill_stream *cpu = NULL;
    rill_array *x64 = NULL, *y64 = NULL;
    OK(rill_default_stream(CPU, &cpu));
    OK(rill_astype(&x64, x, RILL_FLOAT64, cpu));
    OK(rill_sum(&y64, x64, NULL, 0, false, cpu));
    rill_dtype dt = -1;
    OK(rill_array_dtype(y64, &dt));
    CHECK(dt == RILL_FLOAT64, "sum of float64 is float64 (%d)", dt);
    CHECK(shape_is(y64, 0, NULL), "a full sum is a scalar");
    double total = item(y64);
    CHECK(total == (double)n * (double)n, "sum of ones((%zu, %zu)) = %.1f", n, n, total);

    /* mx.set_default_device(mx.gpu)  # if available */
    if (has_gpu) {
        OK(rill_set_default_device(GPU));
        OK(rill_set_default_device(before));
    } else {
        EXPECT_ERROR(rill_set_default_device(GPU), RILL_ERR_DEVICE, "set_default_device",
                     "not available");
        OK(rill_default_device(&after));
        CHECK(after.kind == RILL_CPU, "a refused GPU leaves the CPU as the default");
    }

    /* Float64 is CPU-only: scope it, or pass the CPU stream per op. */
    double two[2] = {1.0, 2.0};
    size_t two_shape[1] = {2};
    rill_array *a = NULL, *three = NULL, *a3 = NULL, *b = NULL;
    OK(rill_scope_push_device(CPU));
    OK(rill_array_from_data(&a, two, two_shape, 1, RILL_FLOAT64, NULL));
    OK(rill_full(&three, NULL, 0, 3.0, RILL_FLOAT64, NULL));
    OK(rill_multiply(&a3, a, three, NULL));
    OK(rill_scope_pop());
    OK(rill_multiply(&b, a3, a3, cpu));
    double got[2] = {0, 0};
    OK(rill_array_copy_to(b, got, sizeof got));
    CHECK(got[0] == 9.0 && got[1] == 36.0, "(a * 3)^2 = [%g, %g], expected [9, 36]", got[0],
          got[1]);

    rill_array *all[] = {x, x64, y64, a, three, a3, b};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) OK(rill_array_free(all[i]));
    OK(rill_stream_free(cpu));
}

/* What the seed calls the GPU stream: the GPU's, or a second CPU stream where there is none. */
static rill_stream *gpu_stream_or_fallback(void) {
    rill_stream *s = NULL;
    if (has_gpu) {
        OK(rill_new_stream(GPU, &s));
        return s;
    }
    s = (rill_stream *)&s; /* not NULL: a failure must set it to NULL */
    EXPECT_ERROR(rill_new_stream(GPU, &s), RILL_ERR_DEVICE, "new_stream", "not available");
    CHECK(s == NULL, "a failed rill_new_stream sets *out to NULL");
    EXPECT_ERROR(rill_default_stream(GPU, &s), RILL_ERR_DEVICE, "default_stream",
                 "not available");
    EXPECT_ERROR(rill_scope_push_device(GPU), RILL_ERR_DEVICE, "not available");
    OK(rill_new_stream(CPU, &s));
    return s;
}

/* ---------------------------------------------------------------- Example: CPU and GPU in parallel */

static void test_seed_parallel(size_t n, const rill_stream *gpu_stream) {
    size_t shape[2] = {n, n};
    rill_array *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
    rill_stream *cpu_stream = NULL;

    /* a = mx.random.uniform(shape=(2048, 2048)); b likewise */
    OK(rill_random_seed(2026));
    OK(rill_random_uniform(&a, 0.0, 1.0, shape, 2, RILL_FLOAT32, NULL));
    OK(rill_random_uniform(&b, 0.0, 1.0, shape, 2, RILL_FLOAT32, NULL));
    /* cpu_stream = mx.new_stream(mx.cpu) */
    OK(rill_new_stream(CPU, &cpu_stream));
    /* c = mx.add(a, b, stream=cpu_stream); d = mx.matmul(a, b, stream=gpu_stream) */
    OK(rill_add(&c, a, b, cpu_stream));
    OK(rill_matmul(&d, a, b, gpu_stream));
    CHECK(array_stream_index(c) == stream_index(cpu_stream), "c runs on cpu_stream");
    CHECK(array_stream_index(d) == stream_index(gpu_stream), "d runs on the GPU stream");
    CHECK(stream_index(cpu_stream) != stream_index(gpu_stream), "two distinct streams");
    bool ready = true;
    OK(rill_array_is_ready(d, &ready));
    CHECK(!ready, "nothing runs before eval (lazy)");
    /* mx.synchronize(cpu_stream); mx.synchronize(gpu_stream); mx.eval(c, d) */
    OK(rill_synchronize(cpu_stream));
    OK(rill_synchronize(gpu_stream));
    const rill_array *cd[2] = {c, d};
    OK(rill_eval(cd, 2));
    OK(rill_array_is_ready(c, &ready));
    CHECK(ready, "c is ready after eval");

    size_t nn = n * n;
    float *ha = to_f32(a, nn), *hb = to_f32(b, nn), *hc = to_f32(c, nn), *hd = to_f32(d, nn);
    float lo = 1, hi = 0;
    double mean = 0;
    for (size_t i = 0; i < nn; i++) {
        lo = ha[i] < lo ? ha[i] : lo;
        hi = ha[i] > hi ? ha[i] : hi;
        mean += ha[i];
    }
    mean /= (double)nn;
    CHECK(lo >= 0 && hi < 1 && hi > lo, "uniform draws in [0, 1): min %g max %g", lo, hi);
    CHECK(fabs(mean - 0.5) < (n >= 64 ? 0.02 : 0.1), "uniform mean %g", mean);
    CHECK(memcmp(ha, hb, nn * sizeof(float)) != 0, "a and b are different draws");

    size_t bad = 0;
    for (size_t i = 0; i < nn; i++)
        if (hc[i] != (float)((double)ha[i] + (double)hb[i])) bad++;
    CHECK(bad == 0, "c = a + b: %zu of %zu elements differ", bad, nn);

    /* d = a @ b, on rows and columns spread over the matrix (a full double product of 2048^2
     * would take longer than the rest of the test). */
    bad = 0;
    size_t checked = 0;
    for (size_t k = 0; k < 97; k++) {
        size_t i = (k * 7919) % n, j = (k * 104729 + 13) % n;
        if (k == 0) i = 0, j = 0;
        if (k == 1) i = n - 1, j = n - 1;
        double want = 0, mag = 0;
        for (size_t t = 0; t < n; t++) {
            want += (double)ha[i * n + t] * (double)hb[t * n + j];
            mag += fabs((double)ha[i * n + t] * (double)hb[t * n + j]);
        }
        checked++;
        if (!close_to(hd[i * n + j], want, 0, 1e-5 * mag + 1e-6)) {
            if (bad++ < 3)
                fprintf(stderr, "  d[%zu][%zu] = %.7g, expected %.7g\n", i, j, hd[i * n + j], want);
        }
    }
    CHECK(bad == 0, "d = a @ b: %zu of %zu sampled elements differ", bad, checked);

    /* If d depends on c, one eval is enough: rill orders the streams. */
    OK(rill_multiply(&e, c, d, gpu_stream));
    OK(rill_eval((const rill_array *const[]){e}, 1));
    float *he = to_f32(e, nn);
    bad = 0;
    for (size_t i = 0; i < nn; i++)
        if (he[i] != (float)((double)hc[i] * (double)hd[i])) bad++;
    CHECK(bad == 0, "e = c * d across the streams: %zu of %zu elements differ", bad, nn);

    free(ha), free(hb), free(hc), free(hd), free(he);
    rill_array *all[] = {a, b, c, d, e};
    for (size_t i = 0; i < 5; i++) OK(rill_array_free(all[i]));
    OK(rill_stream_free(cpu_stream));
}

/* ---------------------------------------------------------------- Streams example */

static void test_streams_example(void) {
    rill_device dev = {-1, -1}, sdev = {-1, -1};
    rill_stream *s = NULL;
    OK(rill_default_device(&dev));
    /* s = mx.new_stream() (on the default device) */
    OK(rill_new_stream(dev, &s));
    OK(rill_stream_device(s, &sdev));
    CHECK(sdev.kind == dev.kind && sdev.index == dev.index, "a new stream is on the device");

    /* with mx.stream(s): y = ones * full(2) + 1 */
    size_t shape[2] = {512, 512};
    rill_array *ones = NULL, *twos = NULL, *one = NULL, *prod = NULL, *y = NULL;
    OK(rill_scope_push_stream(s));
    OK(rill_ones(&ones, shape, 2, RILL_FLOAT32, NULL));
    OK(rill_full(&twos, shape, 2, 2.0, RILL_FLOAT32, NULL));
    OK(rill_full(&one, NULL, 0, 1.0, RILL_FLOAT32, NULL));
    OK(rill_multiply(&prod, ones, twos, NULL));
    OK(rill_add(&y, prod, one, NULL));
    OK(rill_scope_pop());
    CHECK(array_stream_index(y) == stream_index(s), "ops in the scope run on s");
    /* mx.async_eval(y); host continues; mx.synchronize() */
    OK(rill_async_eval((const rill_array *const[]){y}, 1));
    OK(rill_synchronize(NULL));
    bool ready = false;
    OK(rill_array_is_ready(y, &ready));
    CHECK(ready, "y is ready after synchronize");
    float *hy = to_f32(y, 512 * 512);
    size_t bad = 0;
    for (size_t i = 0; i < 512 * 512; i++) bad += hy[i] != 3.0f;
    CHECK(bad == 0, "ones * 2 + 1 = 3 everywhere (%zu differ)", bad);

    /* Per-op stream: z = mx.multiply(mx.ones(...), 3, stream=s) */
    rill_array *three = NULL, *z = NULL;
    OK(rill_full(&three, NULL, 0, 3.0, RILL_FLOAT32, s));
    OK(rill_multiply(&z, ones, three, s));
    CHECK(array_stream_index(z) == stream_index(s), "z runs on s");
    float *hz = to_f32(z, 512 * 512);
    CHECK(hz[5 * 512 + 7] == 3.0f, "z[5, 7] = %g", hz[5 * 512 + 7]);

    free(hy), free(hz);
    rill_array *all[] = {ones, twos, one, prod, y, three, z};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) OK(rill_array_free(all[i]));
    OK(rill_stream_free(s));
}

/* ---------------------------------------------------------------- ops on host data */

#define R 3
#define K 4
#define C 5

static void test_ops(void) {
    float A[R * K], B[K * C], v[K];
    for (int i = 0; i < R * K; i++) A[i] = next_input();
    for (int i = 0; i < K * C; i++) B[i] = next_input();
    for (int i = 0; i < K; i++) v[i] = next_input();
    size_t sa[2] = {R, K}, sb[2] = {K, C}, sv[1] = {K};
    rill_array *a = from_f32(A, sa, 2), *b = from_f32(B, sb, 2), *vv = from_f32(v, sv, 1);
    rill_array *r[64] = {0};
    int nr = 0;

    /* matmul */
    rill_array *mm = NULL;
    OK(rill_matmul(&mm, a, b, NULL));
    r[nr++] = mm;
    size_t smm[2] = {R, C};
    CHECK(shape_is(mm, 2, smm), "matmul shape (3, 5)");
    float *h = to_f32(mm, R * C);
    int bad = 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            double want = 0;
            for (int t = 0; t < K; t++) want += (double)A[i * K + t] * B[t * C + j];
            bad += !close_to(h[i * C + j], want, 1e-5, 1e-5);
        }
    CHECK(bad == 0, "matmul: %d elements differ", bad);
    free(h);

    /* elementwise with broadcasting: a (3, 4) against v (4,) */
    struct {
        const char *name;
        int (*f)(rill_array **, const rill_array *, const rill_array *, const rill_stream *);
        double rtol;
    } bins[] = {{"add", rill_add, 0},         {"subtract", rill_subtract, 0},
                {"multiply", rill_multiply, 0}, {"divide", rill_divide, 1e-6},
                {"maximum", rill_maximum, 0},   {"minimum", rill_minimum, 0},
                {"power", rill_power, 1e-5}};
    rill_array *absa = NULL;
    OK(rill_abs(&absa, a, NULL));
    r[nr++] = absa;
    for (size_t k = 0; k < sizeof bins / sizeof *bins; k++) {
        rill_array *out = NULL;
        /* power of a negative base to a fractional exponent is NaN: use |a| as the base. */
        OK(bins[k].f(&out, k == 6 ? absa : a, vv, NULL));
        r[nr++] = out;
        CHECK(shape_is(out, 2, sa), "%s broadcasts to (3, 4)", bins[k].name);
        h = to_f32(out, R * K);
        bad = 0;
        for (int i = 0; i < R; i++)
            for (int j = 0; j < K; j++) {
                double x = A[i * K + j], y = v[j], want;
                switch (k) {
                case 0: want = (float)(x + y); break;
                case 1: want = (float)(x - y); break;
                case 2: want = (float)(x * y); break;
                case 3: want = x / y; break;
                case 4: want = x > y ? x : y; break;
                case 5: want = x < y ? x : y; break;
                default: want = pow(fabs(x), y); break;
                }
                bad += !close_to(h[i * K + j], want, bins[k].rtol, 0);
            }
        CHECK(bad == 0, "%s: %d elements differ", bins[k].name, bad);
        free(h);
    }

    /* unary */
    struct {
        const char *name;
        int (*f)(rill_array **, const rill_array *, const rill_stream *);
        double (*ref)(double);
    } uns[] = {{"exp", rill_exp, exp}, {"tanh", rill_tanh, tanh}, {"sin", rill_sin, sin},
               {"cos", rill_cos, cos}, {"abs", rill_abs, fabs}};
    for (size_t k = 0; k < sizeof uns / sizeof *uns; k++) {
        rill_array *out = NULL;
        OK(uns[k].f(&out, a, NULL));
        r[nr++] = out;
        h = to_f32(out, R * K);
        bad = 0;
        for (int i = 0; i < R * K; i++) bad += !close_to(h[i], uns[k].ref(A[i]), 2e-6, 1e-7);
        CHECK(bad == 0, "%s: %d elements differ", uns[k].name, bad);
        free(h);
    }
    rill_array *lg = NULL, *sq = NULL, *neg = NULL, *sig = NULL;
    OK(rill_log(&lg, absa, NULL));
    OK(rill_sqrt(&sq, absa, NULL));
    OK(rill_negative(&neg, a, NULL));
    OK(rill_sigmoid(&sig, a, NULL));
    r[nr++] = lg, r[nr++] = sq, r[nr++] = neg, r[nr++] = sig;
    float *hl = to_f32(lg, R * K), *hs = to_f32(sq, R * K), *hn = to_f32(neg, R * K),
          *hg = to_f32(sig, R * K);
    bad = 0;
    for (int i = 0; i < R * K; i++) {
        bad += !close_to(hl[i], log(fabs(A[i])), 2e-6, 1e-7);
        bad += !close_to(hs[i], sqrt(fabs(A[i])), 2e-6, 0);
        bad += hn[i] != -A[i];
        bad += !close_to(hg[i], 1 / (1 + exp(-(double)A[i])), 2e-6, 1e-7);
    }
    CHECK(bad == 0, "log, sqrt, negative, sigmoid: %d elements differ", bad);
    free(hl), free(hs), free(hn), free(hg);

    /* reductions: sum over axis 1 keeping it, mean over axis 0, max over -1, prod and min of all */
    rill_array *s1 = NULL, *m0 = NULL, *mx = NULL, *pr = NULL, *mn = NULL, *mean_all = NULL;
    int ax1[1] = {1}, ax0[1] = {0}, axm1[1] = {-1};
    OK(rill_sum(&s1, a, ax1, 1, true, NULL));
    OK(rill_mean(&m0, a, ax0, 1, false, NULL));
    OK(rill_max(&mx, a, axm1, 1, false, NULL));
    OK(rill_prod(&pr, a, NULL, 0, false, NULL));
    OK(rill_min(&mn, a, NULL, 0, false, NULL));
    OK(rill_mean(&mean_all, a, NULL, 0, true, NULL));
    r[nr++] = s1, r[nr++] = m0, r[nr++] = mx, r[nr++] = pr, r[nr++] = mn, r[nr++] = mean_all;
    size_t ss1[2] = {R, 1}, sm0[1] = {K}, smx[1] = {R}, sall[2] = {1, 1};
    CHECK(shape_is(s1, 2, ss1), "sum over axis 1 with keepdims has shape (3, 1)");
    CHECK(shape_is(m0, 1, sm0), "mean over axis 0 has shape (4,)");
    CHECK(shape_is(mx, 1, smx), "max over axis -1 has shape (3,)");
    CHECK(shape_is(mean_all, 2, sall), "mean of all with keepdims has shape (1, 1)");
    float *h1 = to_f32(s1, R), *h0 = to_f32(m0, K), *hm = to_f32(mx, R);
    bad = 0;
    double prod = 1, mini = INFINITY, total = 0;
    for (int i = 0; i < R; i++) {
        double s = 0, m = -INFINITY;
        for (int j = 0; j < K; j++) {
            s += A[i * K + j];
            m = A[i * K + j] > m ? A[i * K + j] : m;
            prod *= A[i * K + j];
            mini = A[i * K + j] < mini ? A[i * K + j] : mini;
            total += A[i * K + j];
        }
        bad += !close_to(h1[i], s, 1e-6, 1e-6);
        bad += hm[i] != (float)m;
    }
    for (int j = 0; j < K; j++) {
        double s = 0;
        for (int i = 0; i < R; i++) s += A[i * K + j];
        bad += !close_to(h0[j], s / R, 1e-6, 1e-6);
    }
    CHECK(bad == 0, "sum, mean, max over axes: %d elements differ", bad);
    CHECK(close_to(item(pr), prod, 1e-5, 0), "prod %g, expected %g", item(pr), prod);
    CHECK(item(mn) == (float)mini, "min %g, expected %g", item(mn), mini);
    CHECK(close_to(item(mean_all), total / (R * K), 1e-6, 1e-6), "mean of all %g",
          item(mean_all));
    free(h1), free(h0), free(hm);

    /* softmax over the last axis */
    rill_array *sm = NULL;
    OK(rill_softmax(&sm, a, axm1, 1, NULL));
    r[nr++] = sm;
    h = to_f32(sm, R * K);
    bad = 0;
    for (int i = 0; i < R; i++) {
        double z = 0;
        for (int j = 0; j < K; j++) z += exp(A[i * K + j]);
        for (int j = 0; j < K; j++) bad += !close_to(h[i * K + j], exp(A[i * K + j]) / z, 2e-6, 1e-7);
    }
    CHECK(bad == 0, "softmax: %d elements differ", bad);
    free(h);

    /* reshape, transpose, broadcast_to, astype */
    rill_array *rs = NULL, *tr = NULL, *bc = NULL, *i32 = NULL, *f64 = NULL;
    int64_t to26[2] = {2, -1};
    OK(rill_reshape(&rs, a, to26, 2, NULL));
    OK(rill_transpose(&tr, a, NULL, 0, NULL));
    size_t sbc[2] = {2, K};
    OK(rill_broadcast_to(&bc, vv, sbc, 2, NULL));
    OK(rill_astype(&i32, a, RILL_INT32, NULL));
    OK(rill_astype(&f64, a, RILL_FLOAT64, NULL));
    r[nr++] = rs, r[nr++] = tr, r[nr++] = bc, r[nr++] = i32, r[nr++] = f64;
    size_t srs[2] = {2, 6}, str[2] = {K, R};
    CHECK(shape_is(rs, 2, srs), "reshape to (2, -1) gives (2, 6)");
    CHECK(shape_is(tr, 2, str), "transpose gives (4, 3)");
    CHECK(shape_is(bc, 2, sbc), "broadcast_to gives (2, 4)");
    float *hr = to_f32(rs, R * K), *ht = to_f32(tr, R * K), *hb = to_f32(bc, 2 * K);
    int32_t hi[R * K];
    double hd[R * K];
    OK(rill_array_copy_to(i32, hi, sizeof hi));
    OK(rill_array_copy_to(f64, hd, sizeof hd));
    bad = 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < K; j++) {
            bad += hr[i * K + j] != A[i * K + j];
            bad += ht[j * R + i] != A[i * K + j];
            bad += hi[i * K + j] != (int32_t)A[i * K + j]; /* truncation toward zero */
            bad += hd[i * K + j] != (double)A[i * K + j];
        }
    for (int i = 0; i < 2 * K; i++) bad += hb[i] != v[i % K];
    CHECK(bad == 0, "reshape, transpose, broadcast_to, astype: %d elements differ", bad);
    free(hr), free(ht), free(hb);

    /* where(a > 0, a, 0): a ReLU from a comparison, a scalar and where */
    rill_array *zero = NULL, *gt = NULL, *relu = NULL, *lt = NULL, *eq = NULL;
    OK(rill_zeros(&zero, NULL, 0, RILL_FLOAT32, NULL));
    OK(rill_greater(&gt, a, zero, NULL));
    OK(rill_where(&relu, gt, a, zero, NULL));
    OK(rill_less(&lt, a, zero, NULL));
    OK(rill_equal(&eq, a, a, NULL));
    r[nr++] = zero, r[nr++] = gt, r[nr++] = relu, r[nr++] = lt, r[nr++] = eq;
    rill_dtype dt = -1;
    OK(rill_array_dtype(gt, &dt));
    CHECK(dt == RILL_BOOL, "comparisons give bool (%d)", dt);
    bool hgt[R * K], hlt[R * K], heq[R * K];
    OK(rill_array_copy_to(gt, hgt, sizeof hgt));
    OK(rill_array_copy_to(lt, hlt, sizeof hlt));
    OK(rill_array_copy_to(eq, heq, sizeof heq));
    h = to_f32(relu, R * K);
    bad = 0;
    for (int i = 0; i < R * K; i++) {
        bad += hgt[i] != (A[i] > 0) || hlt[i] != (A[i] < 0) || !heq[i];
        bad += h[i] != (A[i] > 0 ? A[i] : 0.0f);
    }
    CHECK(bad == 0, "greater, less, equal, where: %d elements differ", bad);
    free(h);

    /* integers: arange, int32 arithmetic, division to float32 */
    rill_array *ar = NULL, *sq2 = NULL, *half = NULL, *two = NULL;
    OK(rill_arange(&ar, 0, 10, 1, RILL_INT32, NULL));
    OK(rill_multiply(&sq2, ar, ar, NULL));
    OK(rill_full(&two, NULL, 0, 2, RILL_INT32, NULL));
    OK(rill_divide(&half, ar, two, NULL));
    r[nr++] = ar, r[nr++] = sq2, r[nr++] = half, r[nr++] = two;
    OK(rill_array_dtype(half, &dt));
    CHECK(dt == RILL_FLOAT32, "int32 / int32 is float32 (%d)", dt);
    int32_t hsq[10];
    OK(rill_array_copy_to(sq2, hsq, sizeof hsq));
    float *hh = to_f32(half, 10);
    bad = 0;
    for (int i = 0; i < 10; i++) bad += hsq[i] != i * i || hh[i] != i / 2.0f;
    CHECK(bad == 0, "arange, int32 multiply and divide: %d elements differ", bad);
    free(hh);

    /* random normal: shape, dtype and plausible moments */
    rill_array *nrm = NULL;
    size_t sn[1] = {4096};
    OK(rill_random_normal(&nrm, sn, 1, RILL_FLOAT32, 1.0, 2.0, NULL));
    r[nr++] = nrm;
    h = to_f32(nrm, 4096);
    double m = 0, var = 0;
    for (int i = 0; i < 4096; i++) m += h[i];
    m /= 4096;
    for (int i = 0; i < 4096; i++) var += (h[i] - m) * (h[i] - m);
    var /= 4096;
    CHECK(fabs(m - 1.0) < 0.15 && fabs(sqrt(var) - 2.0) < 0.15, "normal(1, 2): mean %g sd %g", m,
          sqrt(var));
    free(h);

    size_t esize = 0;
    OK(rill_dtype_size(RILL_BFLOAT16, &esize));
    CHECK(esize == 2, "bfloat16 is 2 bytes (%zu)", esize);

    for (int i = 0; i < nr; i++) OK(rill_array_free(r[i]));
    OK(rill_array_free(a)), OK(rill_array_free(b)), OK(rill_array_free(vv));
}

/* ---------------------------------------------------------------- memory */

static void test_memory(void) {
    size_t before = 0, active = 0, peak = 0, cache = 0;
    OK(rill_get_active_memory(&before));
    rill_array *x = NULL;
    size_t shape[2] = {256, 256};
    OK(rill_ones(&x, shape, 2, RILL_FLOAT32, NULL));
    OK(rill_eval((const rill_array *const[]){x}, 1));
    OK(rill_get_active_memory(&active));
    OK(rill_get_peak_memory(&peak));
    CHECK(active >= before + 256 * 256 * 4, "active %zu after a 256 KiB array (before %zu)",
          active, before);
    CHECK(peak >= active, "peak %zu >= active %zu", peak, active);
    OK(rill_array_free(x));
    OK(rill_reset_peak_memory());
    OK(rill_get_active_memory(&active));
    OK(rill_get_peak_memory(&peak));
    CHECK(peak == active, "after reset_peak_memory, peak %zu == active %zu", peak, active);
    OK(rill_get_cache_memory(&cache));
    OK(rill_clear_cache());
    OK(rill_get_cache_memory(&cache));
    CHECK(cache == 0, "clear_cache empties the cache (%zu left)", cache);
    size_t old_cache_limit = 0, now = 0;
    OK(rill_set_cache_limit(1 << 20, &old_cache_limit));
    OK(rill_set_cache_limit(old_cache_limit, &now));
    CHECK(now == 1 << 20, "set_cache_limit returns the previous limit (%zu)", now);

    /* A hard limit: the array that would pass it fails with RILL_ERR_OUT_OF_MEMORY when it is
     * evaluated, and nothing else is touched. */
    size_t old_limit = 0, limit = 0;
    OK(rill_get_active_memory(&active));
    OK(rill_set_memory_limit(active + (1 << 20), &old_limit));
    OK(rill_get_memory_limit(&limit));
    CHECK(limit == active + (1 << 20), "memory limit %zu", limit);
    rill_array *big = NULL, *small = NULL;
    size_t sbig[2] = {4096, 4096}, ssmall[1] = {16};
    OK(rill_zeros(&big, sbig, 2, RILL_FLOAT32, NULL));
    OK(rill_ones(&small, ssmall, 1, RILL_FLOAT32, NULL));
    EXPECT_ERROR(rill_eval((const rill_array *const[]){big}, 1), RILL_ERR_OUT_OF_MEMORY,
                 "out of memory", "67108864 bytes");
    float buf[4096];
    EXPECT_ERROR(rill_array_copy_to(big, buf, 0), RILL_ERR_SHAPE, "67108864 bytes");
    OK(rill_eval((const rill_array *const[]){small}, 1));
    OK(rill_set_memory_limit(old_limit, NULL));
    OK(rill_array_free(big)), OK(rill_array_free(small));
}

/* ---------------------------------------------------------------- errors */

static void test_errors(void) {
    float d6[6] = {1, 2, 3, 4, 5, 6}, d4[4] = {1, 2, 3, 4};
    size_t s23[2] = {2, 3}, s4[1] = {4}, s34[2] = {3, 4};
    rill_array *a = from_f32(d6, s23, 2), *b = from_f32(d4, s4, 1), *out = NULL;

    /* shapes that do not fit: the code, *out NULL, a message naming the op and the shapes */
    out = (rill_array *)&out;
    EXPECT_ERROR(rill_add(&out, a, b, NULL), RILL_ERR_SHAPE, "[add]", "[2, 3]", "[4]");
    CHECK(out == NULL, "a failed op sets *out to NULL");
    EXPECT_ERROR(rill_matmul(&out, a, a, NULL), RILL_ERR_SHAPE, "matmul", "[2, 3]");
    int64_t to5[1] = {5};
    EXPECT_ERROR(rill_reshape(&out, a, to5, 1, NULL), RILL_ERR_SHAPE, "reshape", "[2, 3]");
    size_t s5[1] = {5};
    EXPECT_ERROR(rill_broadcast_to(&out, b, s5, 1, NULL), RILL_ERR_SHAPE, "broadcast_to");
    int ax5[1] = {5};
    EXPECT_ERROR(rill_sum(&out, a, ax5, 1, false, NULL), RILL_ERR_AXIS, "axis 5", "[2, 3]");
    CHECK(strcmp(rill_last_error(), rill_last_error()) == 0 && *rill_last_error(),
          "rill_last_error does not clear the message");

    /* NULL pointers */
    EXPECT_ERROR(rill_add(&out, NULL, b, NULL), RILL_ERR_NULL_POINTER, "rill_add", "`a`");
    EXPECT_ERROR(rill_add(&out, a, NULL, NULL), RILL_ERR_NULL_POINTER, "`b`");
    EXPECT_ERROR(rill_add(NULL, a, b, NULL), RILL_ERR_NULL_POINTER, "`out`");
    EXPECT_ERROR(rill_array_from_data(&out, NULL, s23, 2, RILL_FLOAT32, NULL),
                 RILL_ERR_NULL_POINTER, "`data`");
    EXPECT_ERROR(rill_array_from_data(&out, d6, NULL, 2, RILL_FLOAT32, NULL),
                 RILL_ERR_NULL_POINTER, "`shape`");
    EXPECT_ERROR(rill_sum(&out, a, NULL, 1, false, NULL), RILL_ERR_NULL_POINTER, "`axes`");
    EXPECT_ERROR(rill_eval((const rill_array *const[]){a, NULL}, 2), RILL_ERR_NULL_POINTER,
                 "arrays[1]");
    EXPECT_ERROR(rill_eval(NULL, 1), RILL_ERR_NULL_POINTER, "`arrays`");
    OK(rill_eval(NULL, 0));
    size_t nd = 0;
    EXPECT_ERROR(rill_array_ndim(NULL, &nd), RILL_ERR_NULL_POINTER, "rill_array_ndim");
    EXPECT_ERROR(rill_array_ndim(a, NULL), RILL_ERR_NULL_POINTER, "`out`");
    EXPECT_ERROR(rill_array_copy_to(a, NULL, sizeof d6), RILL_ERR_NULL_POINTER, "`buffer`");
    EXPECT_ERROR(rill_stream_device(NULL, &(rill_device){0, 0}), RILL_ERR_NULL_POINTER, "`s`");
    EXPECT_ERROR(rill_scope_push_stream(NULL), RILL_ERR_NULL_POINTER, "`s`");
    EXPECT_ERROR(rill_get_active_memory(NULL), RILL_ERR_NULL_POINTER, "`out`");

    /* bad dtypes and devices */
    EXPECT_ERROR(rill_array_from_data(&out, d6, s23, 2, 99, NULL), RILL_ERR_DTYPE,
                 "99 is not a rill_dtype");
    EXPECT_ERROR(rill_astype(&out, a, -1, NULL), RILL_ERR_DTYPE, "-1 is not a rill_dtype");
    EXPECT_ERROR(rill_zeros(&out, s23, 2, RILL_COMPLEX64 + 1, NULL), RILL_ERR_DTYPE, "rill_zeros");
    rill_array *flags = NULL, *neg = NULL;
    uint8_t bools[4] = {0, 1, 1, 0};
    OK(rill_array_from_data(&flags, bools, s4, 1, RILL_BOOL, NULL));
    EXPECT_ERROR(rill_subtract(&neg, flags, flags, NULL), RILL_ERR_DTYPE, "subtract", "bool");
    uint8_t bad_bool[4] = {0, 2, 1, 0};
    EXPECT_ERROR(rill_array_from_data(&out, bad_bool, s4, 1, RILL_BOOL, NULL), RILL_ERR_ARGUMENT,
                 "0 or 1");
    bool avail = true;
    EXPECT_ERROR(rill_is_available((rill_device){7, 0}, &avail), RILL_ERR_DEVICE,
                 "7 is not a rill_device_type");
    EXPECT_ERROR(rill_new_stream((rill_device){RILL_CPU, -1}, &(rill_stream *){NULL}),
                 RILL_ERR_DEVICE, "negative");
    OK(rill_is_available((rill_device){RILL_CPU, 3}, &avail));
    CHECK(!avail, "there is no fourth CPU");

    /* sizes: a shape too large for any array; a caller's buffer of the wrong size; item */
    size_t huge[2] = {SIZE_MAX / 2, 4};
    EXPECT_ERROR(rill_array_from_data(&out, d6, huge, 2, RILL_FLOAT32, NULL), RILL_ERR_TOO_LARGE,
                 "rill_array_from_data");
    EXPECT_ERROR(rill_ones(&out, huge, 2, RILL_FLOAT32, NULL), RILL_ERR_TOO_LARGE, "ones");
    float small[5];
    EXPECT_ERROR(rill_array_copy_to(a, small, sizeof small), RILL_ERR_SHAPE, "20 bytes",
                 "24 bytes", "[2, 3]");
    double v = 0;
    EXPECT_ERROR(rill_array_item(a, &v), RILL_ERR_SHAPE, "item", "[2, 3]");
    rill_array *m = NULL;
    OK(rill_array_from_data(&m, d4, s34, 0, RILL_FLOAT32, NULL)); /* ndim 0: one element */
    CHECK(item(m) == 1.0, "a scalar from data reads back its one element");
    CHECK(*rill_last_error() == '\0', "a call that succeeds clears the last error");

    /* an empty array: no data needed, nothing to copy */
    rill_array *empty = NULL;
    size_t s0[2] = {0, 3};
    OK(rill_array_from_data(&empty, NULL, s0, 2, RILL_FLOAT32, NULL));
    OK(rill_array_copy_to(empty, NULL, 0));

    /* scopes: popping with none open */
    EXPECT_ERROR(rill_scope_pop(), RILL_ERR_ARGUMENT, "no open scope");

    /* freeing: NULL is allowed; every handle made here is freed once */
    OK(rill_array_free(NULL));
    OK(rill_stream_free(NULL));
    rill_array *all[] = {a, b, flags, m, empty};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) OK(rill_array_free(all[i]));
}

/* ---------------------------------------------------------------- threads */

struct worker {
    const rill_array *shared; /* made on the main thread */
    rill_stream *own;         /* this thread's scope */
    double sum;
    size_t stream_of_scoped, stream_outside;
    int code;
    char msg[256];
    int before_pop, after_pop;
};

static void *worker_main(void *p) {
    struct worker *w = p;
    rill_array *s = NULL, *scoped = NULL, *bad = NULL;
    /* A handle made on another thread works here. */
    if (rill_sum(&s, w->shared, NULL, 0, false, NULL) == RILL_OK) rill_array_item(s, &w->sum);
    /* A scope of this thread: the array made inside runs on `own`. */
    rill_scope_push_stream(w->own);
    rill_zeros(&scoped, (size_t[]){3}, 1, RILL_FLOAT32, NULL);
    w->before_pop = rill_scope_pop();
    w->after_pop = rill_scope_pop(); /* none left on this thread */
    w->stream_of_scoped = array_stream_index(scoped);
    /* An error here: its message is this thread's. */
    w->code = rill_add(&bad, w->shared, scoped, NULL);
    snprintf(w->msg, sizeof w->msg, "%s", rill_last_error());
    rill_array_free(s);
    rill_array_free(scoped);
    return NULL;
}

static void test_threads(void) {
    float d[8];
    double want = 0;
    for (int i = 0; i < 8; i++) want += d[i] = next_input();
    size_t s8[1] = {8};
    rill_array *shared = from_f32(d, s8, 1);
    struct worker w = {.shared = shared};
    OK(rill_new_stream(CPU, &w.own));

    /* An error on this thread, then the worker fails differently: each keeps its own message. */
    rill_array *out = NULL;
    EXPECT_ERROR(rill_reshape(&out, shared, (int64_t[]){3}, 1, NULL), RILL_ERR_SHAPE, "reshape");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker_main, &w) == 0, "pthread_create");
    pthread_join(t, NULL);
    CHECK(strstr(rill_last_error(), "reshape") != NULL,
          "another thread's failure leaves this thread's message: %s", rill_last_error());
    CHECK(w.code == RILL_ERR_SHAPE && strstr(w.msg, "[add]") && strstr(w.msg, "[8]") &&
              strstr(w.msg, "[3]"),
          "the worker's own error: %d %s", w.code, w.msg);
    CHECK(close_to(w.sum, want, 1e-6, 1e-6), "the worker summed the shared array: %g vs %g",
          w.sum, want);
    CHECK(w.before_pop == RILL_OK && w.after_pop == RILL_ERR_ARGUMENT,
          "the worker closes its one scope (%d, then %d)", w.before_pop, w.after_pop);
    CHECK(w.stream_of_scoped == stream_index(w.own), "the worker's scope chose its stream");
    /* The worker's scope never reached this thread. */
    rill_array *here = NULL;
    OK(rill_zeros(&here, s8, 1, RILL_FLOAT32, NULL));
    CHECK(array_stream_index(here) != stream_index(w.own), "scopes are per thread");
    OK(rill_array_free(here));
    OK(rill_array_free(shared));
    OK(rill_stream_free(w.own));
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 2048;
    if (n < 2) {
        fprintf(stderr, "usage: %s [N >= 2]\n", argv[0]);
        return 2;
    }
    bool gpu = false;
    OK(rill_is_available(GPU, &gpu));
    has_gpu = gpu;
    printf("seed 000 through the C API: %s, matrices of %zu x %zu\n",
           has_gpu ? "GPU present" : "no GPU (a second CPU stream stands in for it)", n, n);

    rill_stream *gpu_stream = gpu_stream_or_fallback();
    test_devices(n);
    test_seed_parallel(n, gpu_stream);
    test_streams_example();
    test_ops();
    test_memory();
    test_errors();
    test_threads();
    OK(rill_stream_free(gpu_stream));
    OK(rill_synchronize(NULL));

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
