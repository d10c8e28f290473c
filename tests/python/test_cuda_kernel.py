"""``mx.fast.cuda_kernel`` and ``mx.fast.precompiled_cuda_kernel``: user CUDA kernels compiled at
run time. The signature and argument checks are tested everywhere; the kernels themselves run on
the GPU machine (scripts/gpu-check.sh) and are skipped, visibly, where there is no GPU. Results
are compared with NumPy on random inputs."""

import shutil
import subprocess

import numpy as np
import pytest

import rill.core as mx
from conftest import HAS_GPU

needs_gpu = pytest.mark.skipif(
    not HAS_GPU, reason="needs an NVIDIA GPU (runs on the GPU machine: scripts/gpu-check.sh)")


@pytest.fixture
def rng():
    return np.random.default_rng(90210)


EXP = """
    auto elem = cooperative_groups::this_grid().thread_rank();
    if (elem >= inp_size[0]) return;
    T tmp = inp[elem];
    out[elem] = exp(tmp);
"""


def source_of(kernel, inputs, output_dtypes, template=()):
    return kernel._kernel.source(list(inputs), list(output_dtypes), list(template))


# ---------------------------------------------------------------- everywhere


def test_the_signature_follows_the_names_and_what_the_body_reads():
    k = mx.fast.cuda_kernel(
        name="scaled", input_names=["a", "b"], output_names=["out", "count"],
        source="out[0] = a[elem_to_loc(0, a_shape.data(), a_strides.data(), a_ndim)] * b[0];",
        header="__device__ float twice(float x) { return 2 * x; }")
    src = source_of(k, [mx.zeros((3, 4)), mx.zeros((2,), dtype=mx.float16)],
                    [mx.float32, mx.int32], [("N", 3), ("FLAG", True), ("T", mx.bfloat16)])
    sig = src[src.index('extern "C" __global__ void custom_kernel_scaled_3_t_bfloat16('):]
    params = sig[sig.index("(") + 1:sig.index(")")].split(",")
    assert [p.strip() for p in params] == [
        "const float* a", "const Shape a_shape", "const Strides a_strides", "const int a_ndim",
        "const __half* b", "float* out", "int32_t* count"]
    body = sig[sig.index("{"):]
    assert "constexpr int N = 3;" in body
    assert "constexpr bool FLAG = true;" in body
    assert "using T = __nv_bfloat16;" in body
    # The header comes before the function, and the half types bring their CUDA headers.
    assert src.index("__device__ float twice") < src.index("custom_kernel_scaled")
    assert "#include <cuda_fp16.h>" in src and "#include <cuda_bf16.h>" in src
    assert "cooperative_groups.h" not in src


def test_scalars_have_no_shape_parameters_and_cooperative_groups_come_when_used():
    k = mx.fast.cuda_kernel(name="e", input_names=["inp", "inp_size"], output_names=["out"],
                            source=EXP)
    src = source_of(k, [mx.zeros((5,)), mx.array(5)], [mx.float32], [("T", mx.float32)])
    assert "#include <cooperative_groups.h>" in src
    assert "const int32_t* inp_size" in src
    # `inp_size` is named by the body, but a 0-d input has no shape, as in MLX.
    assert "inp_size_shape" not in src and "cuda_fp16" not in src


def test_bad_definitions_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="at least one output"):
        mx.fast.cuda_kernel(name="k", input_names=["a"], output_names=[], source="")
    with pytest.raises(ValueError, match="C identifier"):
        mx.fast.cuda_kernel(name="my kernel", input_names=["a"], output_names=["o"], source="")
    with pytest.raises(ValueError, match="appears twice"):
        mx.fast.cuda_kernel(name="k", input_names=["a", "a"], output_names=["o"], source="")
    with pytest.raises(ValueError, match="both an input and an output"):
        mx.fast.cuda_kernel(name="k", input_names=["a"], output_names=["a"], source="")
    with pytest.raises(ValueError, match="shared_memory"):
        mx.fast.cuda_kernel(name="k", input_names=["a"], output_names=["o"], source="",
                            shared_memory=-1)


def test_bad_launches_are_refused_before_anything_runs():
    k = mx.fast.cuda_kernel(name="k", input_names=["a"], output_names=["o"], source="o[0]=a[0];")
    call = dict(inputs=[mx.ones((4,))], output_shapes=[(4,)], output_dtypes=[mx.float32],
                grid=(4, 1, 1), threadgroup=(4, 1, 1), stream=mx.gpu if HAS_GPU else None)
    with pytest.raises(ValueError, match=r"Expected `inputs` to have size 1 but got size 2"):
        k(**{**call, "inputs": [mx.ones((4,)), mx.ones((4,))]})
    with pytest.raises(ValueError, match=r"Expected `output_dtypes` to have size 1"):
        k(**{**call, "output_dtypes": []})
    with pytest.raises(ValueError, match="1024 threads"):
        k(**{**call, "threadgroup": (64, 32, 1)})
    with pytest.raises(ValueError, match="grid"):
        k(**{**call, "grid": (0, 1, 1)})
    with pytest.raises(TypeError, match="template argument X"):
        k(**call, template=[("X", "float")])


def test_a_cpu_stream_is_refused_naming_the_op_and_the_device():
    k = mx.fast.cuda_kernel(name="k", input_names=["a"], output_names=["o"], source="o[0]=a[0];")
    with pytest.raises(ValueError, match=r"cuda_kernel.*GPU streams only.*cpu"):
        k(inputs=[mx.ones((4,))], output_shapes=[(4,)], output_dtypes=[mx.float32],
          grid=(4, 1, 1), threadgroup=(4, 1, 1), stream=mx.cpu)


def test_verbose_prints_the_generated_source(capsys):
    k = mx.fast.cuda_kernel(name="shown", input_names=["a"], output_names=["o"],
                            source="o[0] = a[0];")
    with pytest.raises(ValueError):
        k(inputs=[mx.ones((2,))], output_shapes=[(2,)], output_dtypes=[mx.float32],
          grid=(1, 1, 1), threadgroup=(1, 1, 1), verbose=True, stream=mx.cpu)
    printed = capsys.readouterr().out
    assert "Generated source code for `shown`" in printed
    assert "custom_kernel_shown(" in printed and "o[0] = a[0];" in printed


# ---------------------------------------------------------------- on the GPU


@needs_gpu
@pytest.mark.parametrize("dtype", [mx.float32, mx.float16, mx.bfloat16, mx.float64])
def test_mlx_docs_exp_kernel_matches_numpy(rng, dtype):
    k = mx.fast.cuda_kernel(name="myexp", input_names=["inp", "inp_size"],
                            output_names=["out"], source=EXP)
    x = rng.standard_normal((33, 17)).astype(np.float32)
    a = mx.array(x).astype(dtype)
    # As in MLX's example: the element is computed in float32 (float64 for float64) and stored
    # in the output's type.
    compute = mx.float64 if dtype == mx.float64 else mx.float32
    (out,) = k(inputs=[a, mx.array(a.size, dtype=mx.int32)], template=[("T", compute)],
               grid=(a.size, 1, 1), threadgroup=(256, 1, 1), output_shapes=[a.shape],
               output_dtypes=[dtype], stream=mx.gpu)
    want = np.exp(np.asarray(a.astype(mx.float64)))
    tol = {mx.float32: 1e-6, mx.float64: 1e-14, mx.float16: 2e-3, mx.bfloat16: 1.6e-2}[dtype]
    np.testing.assert_allclose(np.asarray(out.astype(mx.float64)), want, rtol=tol)
    assert out.dtype == dtype and out.shape == a.shape


@needs_gpu
def test_strided_inputs_are_read_through_their_strides_when_not_made_contiguous(rng):
    src = """
        uint32_t elem = blockIdx.x * blockDim.x + threadIdx.x;
        if (elem >= out_size[0]) return;
        out[elem] = 2.0f * a[elem_to_loc(elem, a_shape.data(), a_strides.data(), a_ndim)];
    """
    x = rng.standard_normal((40, 24)).astype(np.float32)
    a = mx.array(x).T[::2, 3:]                     # a strided, offset view
    want = 2 * x.T[::2, 3:]
    for contiguous in (False, True):
        k = mx.fast.cuda_kernel(name="twice", input_names=["a", "out_size"],
                                output_names=["out"], source=src,
                                ensure_row_contiguous=contiguous)
        (out,) = k(inputs=[a, mx.array(want.size, dtype=mx.uint32)], output_shapes=[want.shape],
                   output_dtypes=[mx.float32], grid=(want.size, 1, 1), threadgroup=(128, 1, 1),
                   stream=mx.gpu)
        np.testing.assert_array_equal(np.asarray(out), want)


@needs_gpu
def test_several_outputs_of_several_dtypes_with_template_arguments(rng):
    src = """
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i >= N) return;
        T v = x[i];
        scaled[i] = v * (T)SCALE;
        rounded[i] = NEGATE ? -(int32_t)v : (int32_t)v;
        flags[i] = v > 0;
    """
    k = mx.fast.cuda_kernel(name="multi", input_names=["x"],
                            output_names=["scaled", "rounded", "flags"], source=src)
    x = (rng.standard_normal(1000) * 50).astype(np.float64)
    outs = k(inputs=[mx.array(x, dtype=mx.float64)],
             template=[("T", mx.float64), ("N", x.size), ("SCALE", 3), ("NEGATE", True)],
             grid=(x.size, 1, 1), threadgroup=(96, 1, 1),
             output_shapes=[(x.size,), (10, 100), (x.size,)],
             output_dtypes=[mx.float64, mx.int32, mx.bool_], stream=mx.gpu)
    assert [o.dtype for o in outs] == [mx.float64, mx.int32, mx.bool_]
    np.testing.assert_array_equal(np.asarray(outs[0]), x * 3)
    want_rounded = -np.trunc(x).astype(np.int32).reshape(10, 100)
    np.testing.assert_array_equal(np.asarray(outs[1]), want_rounded)
    np.testing.assert_array_equal(np.asarray(outs[2]), x > 0)


@needs_gpu
def test_init_value_and_atomics_make_a_histogram(rng):
    src = """
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i >= n[0]) return;
        atomicAdd(&hist[bins[i]], 1.0f);
    """
    k = mx.fast.cuda_kernel(name="hist", input_names=["bins", "n"], output_names=["hist"],
                            source=src)
    bins = rng.integers(0, 37, 5000).astype(np.int32)
    for init in (0.0, 2.5):
        (h,) = k(inputs=[mx.array(bins), mx.array([bins.size], dtype=mx.int32)],
                 grid=(bins.size, 1, 1), threadgroup=(256, 1, 1), output_shapes=[(37,)],
                 output_dtypes=[mx.float32], init_value=init, stream=mx.gpu)
        np.testing.assert_array_equal(np.asarray(h), np.bincount(bins, minlength=37) + init)


@needs_gpu
def test_dynamic_shared_memory_past_48k(rng):
    src = """
        extern __shared__ float tile[];
        int row = blockIdx.x, t = threadIdx.x;
        for (int j = t; j < W; j += blockDim.x) tile[j] = x[row * W + j];
        __syncthreads();
        for (int j = t; j < W; j += blockDim.x) out[row * W + j] = tile[W - 1 - j];
    """
    width = 16384                                   # 64 KiB of float32 per block
    k = mx.fast.cuda_kernel(name="reverse_rows", input_names=["x"], output_names=["out"],
                            source=src, shared_memory=width * 4)
    x = rng.standard_normal((6, width)).astype(np.float32)
    (out,) = k(inputs=[mx.array(x)], template=[("W", width)], grid=(6 * 256, 1, 1),
               threadgroup=(256, 1, 1), output_shapes=[x.shape], output_dtypes=[mx.float32],
               stream=mx.gpu)
    np.testing.assert_array_equal(np.asarray(out), x[:, ::-1])


@needs_gpu
def test_a_kernel_sits_between_cpu_and_gpu_work_on_several_streams(rng):
    cpu, gpu = mx.new_stream(mx.cpu), mx.new_stream(mx.gpu)
    x = rng.standard_normal(4096).astype(np.float32)
    before = mx.multiply(mx.array(x), 2.0, stream=cpu)           # made on the CPU
    k = mx.fast.cuda_kernel(name="plus1", input_names=["a"], output_names=["o"], source="""
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < 4096) o[i] = a[i] + 1.0f;""")
    (mid,) = k(inputs=[before], grid=(4096, 1, 1), threadgroup=(128, 1, 1),
               output_shapes=[(4096,)], output_dtypes=[mx.float32], stream=gpu)
    after = mx.sum(mx.square(mid, stream=cpu), stream=cpu)      # read back on the CPU
    np.testing.assert_allclose(float(after), np.sum((x * 2 + 1).astype(np.float64) ** 2),
                               rtol=1e-5)


@needs_gpu
def test_compile_errors_name_the_kernel_and_carry_nvrtc_log():
    k = mx.fast.cuda_kernel(name="broken", input_names=["a"], output_names=["o"],
                            source="o[0] = a[0] + undefined_name;")
    (o,) = k(inputs=[mx.ones((1,))], output_shapes=[(1,)], output_dtypes=[mx.float32],
             grid=(1, 1, 1), threadgroup=(1, 1, 1), stream=mx.gpu)
    with pytest.raises(Exception, match=r"(?s)custom_kernel_broken.*undefined_name"):
        mx.eval(o)


@needs_gpu
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc to make PTX")
def test_precompiled_ptx_with_scalars(tmp_path, rng):
    cu = tmp_path / "axpb.cu"
    cu.write_text("""
        extern "C" __global__ void axpb(const float* x, float* y, float a, int n, bool neg) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] = (neg ? -a : a) * x[i] + 1.0f;
        }""")
    subprocess.run(["nvcc", "--ptx", "-o", str(tmp_path / "axpb.ptx"), str(cu)], check=True)
    x = rng.standard_normal(777).astype(np.float32)
    (y,) = mx.fast.precompiled_cuda_kernel(
        name="axpb", compiled_source=(tmp_path / "axpb.ptx").read_bytes(), inputs=[mx.array(x)],
        output_shapes=[x.shape], output_dtypes=[mx.float32], scalars=[1.5, x.size, True],
        grid=(x.size, 1, 1), threadgroup=(64, 1, 1), stream=mx.gpu)
    # nvcc contracts `a * x + 1` into one FMA (one rounding): near zero, after cancellation,
    # the difference from NumPy's two roundings is an ulp of 1, not of the result.
    np.testing.assert_allclose(np.asarray(y), -1.5 * x + 1.0, rtol=1e-6, atol=2.4e-7)
