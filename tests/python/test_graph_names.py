"""``mx.depends``, ``mx.export_to_dot`` and ``mx.get_array_buffer_size`` against real MLX 0.32.4
on random inputs: values, gradients, compile, the order depends imposes, the structure of the DOT
graph, the bytes counted, and the errors.

Where rill and MLX differ on purpose the test says so: rill batches ``depends`` under ``vmap``
and transposes it under ``jvp`` (MLX implements neither), raises ``TypeError`` for an argument of
depends that is not an array (MLX: ``RuntimeError: std::bad_cast``), accepts ``os.PathLike``
paths in export_to_dot (MLX takes only strings), and reports a buffer's allocated size, which
its CPU allocator rounds up where MLX's takes exactly the bytes asked for (so the exact
comparisons use sizes the allocator does not round: powers of two from 64 bytes up).
"""

import io
import re

import numpy as np
import pytest

import rill.core as mx


def f32(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


# ------------------------------------------------------------------------------------- depends


def test_depends_returns_what_mlx_returns(mlx, rng):
    a_np, b_np, c_np = f32(rng, (3, 4)), f32(rng, (5,)), f32(rng, (2, 2))
    for m in (mx, mlx):
        a, b, c = m.array(a_np), m.array(b_np), m.array(c_np)
        one = m.depends(m.exp(a), m.sin(b))
        assert isinstance(one, m.array), m
        listed = m.depends([m.exp(a)], [m.sin(b)])
        assert isinstance(listed, list) and len(listed) == 1
        two = m.depends((a * 2, c - 1), b)
        assert isinstance(two, list) and len(two) == 2
        assert isinstance(m.depends(a, []), m.array)
        ints = m.depends(a.astype(m.int32) + 1, b)
        assert ints.dtype == m.int32 and ints.shape == (3, 4)
    # The values are the inputs' values (NumPy reference, then MLX's own result).
    r, s = mx.depends([mx.exp(mx.array(a_np)), mx.array(c_np) - 1], [mx.array(b_np) * 3])
    np.testing.assert_allclose(np.array(r), np.exp(a_np.astype(np.float64)), rtol=1e-6)
    np.testing.assert_array_equal(np.array(s), c_np - np.float32(1))
    theirs = mlx.depends([mlx.exp(mlx.array(a_np)), mlx.array(c_np) - 1], [mlx.array(b_np) * 3])
    np.testing.assert_allclose(np.array(r), np.array(theirs[0]), rtol=1e-6)
    np.testing.assert_array_equal(np.array(s), np.array(theirs[1]))


def test_depends_evaluates_the_dependencies_with_the_output(mlx, rng):
    """A dependency nobody reads is evaluated when the output is: before, asking for its buffer
    size is an error in both (it has no buffer); after evaluating only the output, both give its
    size, and its graph has no op left. Across streams in rill."""
    x_np, d_np = f32(rng, (4, 16)), f32(rng, (16,))
    other = mx.new_stream(mx.cpu)
    for m, s in ((mx, other), (mlx, mlx.cpu)):
        x = m.array(x_np)
        dep = m.multiply(m.array(d_np), 2, stream=s)
        for _ in range(20):
            dep = m.add(dep, 1, stream=s)
        out = m.depends(m.exp(x), dep)
        with pytest.raises(ValueError, match="evaluated"):
            m.get_array_buffer_size(dep)
        m.eval(out)
        # 64 bytes; MLX may count a larger block that its cache reused.
        assert m.get_array_buffer_size(dep) >= 64, m
        text = io.StringIO()
        m.export_to_dot(text, dep)
        assert "rectangle" not in text.getvalue(), (m, text.getvalue())
        np.testing.assert_allclose(np.array(dep), d_np * 2 + 20, rtol=1e-6)


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_depends_shares_its_input_buffer(rng, device):
    if device == "gpu" and not mx.is_available(mx.gpu):
        pytest.skip("no GPU here")
    with mx.stream(getattr(mx, device)):
        x = mx.exp(mx.array(f32(rng, (8, 8))))
        y = mx.depends(x, mx.ones((3,)))
        mx.eval(x, y)
    # One buffer behind both: nothing was copied. On the CPU it is the 256 bytes the data needs
    # (a power of two, reserved as it is); a GPU's pool rounds blocks up.
    size = mx.get_array_buffer_size(x)
    assert mx.get_array_buffer_size(x, y) == size
    assert size == 256 if device == "cpu" else 256 <= size <= 4096


def test_grad_through_depends_matches_mlx(mlx, rng):
    x_np, y_np, w_np = f32(rng, (6,)), f32(rng, (3,)), f32(rng, (6,))

    def loss(m):
        def f(x, y):
            z = m.depends(x * 2 + y.sum(), [y * 3, m.exp(x)])
            return (z * z * m.array(w_np)).sum()
        return f

    for argnums in (0, 1, (0, 1)):
        got = mx.grad(loss(mx), argnums=argnums)(mx.array(x_np), mx.array(y_np))
        want = mlx.grad(loss(mlx), argnums=argnums)(mlx.array(x_np), mlx.array(y_np))
        got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.array(g), np.array(w), rtol=1e-5, atol=1e-6)
    # And against the derivative written out: d/dx = 2 * 2z w, d/dy = sum(2z w) per element.
    z = x_np.astype(np.float64) * 2 + y_np.astype(np.float64).sum()
    gx, gy = mx.grad(loss(mx), argnums=(0, 1))(mx.array(x_np), mx.array(y_np))
    np.testing.assert_allclose(np.array(gx), 4 * z * w_np, rtol=1e-5)
    np.testing.assert_allclose(np.array(gy), np.full(3, np.sum(2 * z * w_np)), rtol=1e-5)
    # A dependency alone gets a zero gradient, as in MLX.
    only = lambda m: (lambda x, y: m.depends(x, y * 5).sum())  # noqa: E731
    gy_ours = mx.grad(only(mx), argnums=1)(mx.array(x_np), mx.array(y_np))
    gy_mlx = mlx.grad(only(mlx), argnums=1)(mlx.array(x_np), mlx.array(y_np))
    np.testing.assert_array_equal(np.array(gy_ours), np.array(gy_mlx))
    np.testing.assert_array_equal(np.array(gy_ours), np.zeros(3))


def test_vjp_jvp_vmap_compile_through_depends(mlx, rng):
    x_np, y_np, t_np = f32(rng, (5,)), f32(rng, (2,)), f32(rng, (5,))
    f = lambda m: (lambda x, y: m.depends(m.sin(x), m.cos(y)))  # noqa: E731
    (out,), (vj, vy) = mx.vjp(f(mx), [mx.array(x_np), mx.array(y_np)], [mx.array(t_np)])
    (o2,), (vj2, _) = mlx.vjp(f(mlx), [mlx.array(x_np), mlx.array(y_np)], [mlx.array(t_np)])
    np.testing.assert_allclose(np.array(out), np.array(o2), rtol=1e-6)
    np.testing.assert_allclose(np.array(vj), np.array(vj2), rtol=1e-6)
    np.testing.assert_array_equal(np.array(vy), np.array(_))
    # jvp: MLX has no rule ("Not implemented for Depends"); rill's is the tangent of sin(x).
    (_,), (jv,) = mx.jvp(f(mx), [mx.array(x_np), mx.array(y_np)],
                          [mx.array(t_np), mx.zeros((2,))])
    np.testing.assert_allclose(np.array(jv), np.cos(x_np.astype(np.float64)) * t_np, rtol=1e-5)
    with pytest.raises(Exception, match="Depends"):
        mlx.jvp(f(mlx), [mlx.array(x_np), mlx.array(y_np)], [mlx.array(t_np), mlx.zeros((2,))])
    # vmap: MLX has no rule; rill's equals MLX's results example by example.
    xb, yb = f32(rng, (3, 5)), f32(rng, (3, 2))
    got = mx.vmap(f(mx))(mx.array(xb), mx.array(yb))
    want = np.stack([np.array(f(mlx)(mlx.array(xb[i]), mlx.array(yb[i]))) for i in range(3)])
    np.testing.assert_allclose(np.array(got), want, rtol=1e-6)
    got = mx.vmap(f(mx), in_axes=(None, 0))(mx.array(x_np), mx.array(yb))
    np.testing.assert_allclose(np.array(got), np.stack([np.array(mlx.sin(mlx.array(x_np)))] * 3),
                               rtol=1e-6)
    # compile: the same values as MLX's compiled function, on new inputs too.
    ours, theirs = mx.compile(f(mx)), mlx.compile(f(mlx))
    for _ in range(2):
        x_np, y_np = f32(rng, (5,)), f32(rng, (2,))
        np.testing.assert_allclose(np.array(ours(mx.array(x_np), mx.array(y_np))),
                                   np.array(theirs(mlx.array(x_np), mlx.array(y_np))), rtol=1e-6)


def test_depends_errors(mlx):
    a = mx.array([1.0, 2.0])
    # MLX raises TypeError here too (nanobind's "incompatible function arguments").
    for m, arr in ((mx, a), (mlx, mlx.array([1.0, 2.0]))):
        with pytest.raises(TypeError):
            m.depends(arr, None)
    # MLX: RuntimeError "std::bad_cast"; rill names the argument and the item.
    with pytest.raises(TypeError, match=r"\[depends\] inputs must hold only arrays; item 1 is int"):
        mx.depends([a, 1], a)
    with pytest.raises(TypeError, match=r"\[depends\] dependencies must be an array or a list"):
        mx.depends(a, {"x": a})
    with pytest.raises(RuntimeError):
        mlx.depends(mlx.array([1.0]), {"x": mlx.array([1.0])})
    # MLX crashes on no inputs; rill says what is missing.
    with pytest.raises(ValueError, match=r"depends.*at least one input"):
        mx.depends([], [a])
    # A dependency that fails makes the output fail with its error (a bad index found at run
    # time); the input itself is unharmed.
    bad = mx.take(a, mx.array([7]) + 0)
    out = mx.depends(a * 2, bad)
    with pytest.raises((IndexError, RuntimeError, ValueError), match="take"):
        mx.eval(out)
    np.testing.assert_array_equal(np.array(a * 2), [2.0, 4.0])


# ------------------------------------------------------------------------------- export_to_dot

_ID = r'"(?:[^"\\]|\\.)*"|[A-Za-z0-9_]+'


def parse_dot(text):
    """A minimal reader of the DOT that both write: returns (arrays, ops, edges), where arrays
    maps each array node to its rank ('source', 'sink' or None), ops maps each op node to its
    label, and edges lists (tail, head). Fails on a statement it does not know, on an edge whose
    ends were not declared before it, and on anything outside `digraph { ... }`."""
    lines = text.strip().splitlines()
    assert lines[0].strip() == "digraph {" and lines[-1].strip() == "}", text
    arrays, ops, edges = {}, {}, []
    decl = re.compile(rf"^\{{\s*(?:rank=(source|sink);\s*)?({_ID})\s*(\[[^\]]*\])?\s*;\s*\}}$")
    edge = re.compile(rf"^({_ID})\s*->\s*({_ID})$")
    known = set()
    for line in lines[1:-1]:
        line = line.strip()
        if m := decl.match(line):
            rank, name, attrs = m.groups()
            if attrs:
                label = re.search(r'label\s*=\s*"([^"]*)"', attrs).group(1)
                ops[name] = label
            else:
                arrays[name] = rank
            known.add(name)
        elif m := edge.match(line):
            tail, head = m.groups()
            assert tail in known and head in known, f"edge {line!r} before its nodes:\n{text}"
            edges.append((tail, head))
        else:
            raise AssertionError(f"not a statement of this DOT: {line!r}")
    return arrays, ops, edges


def canonical(text):
    """Each array node of the DOT as a structural expression (an op's label, lower case without
    underscores, applied to its inputs' expressions, in order; a source by its name), sorted:
    two graphs with the same multiset are the same graph whatever the node names and order."""
    arrays, ops, edges = parse_dot(text)
    inputs = {op: [t for t, h in edges if h == op] for op in ops}
    producer = {h: t for t, h in edges if t in ops}
    memo = {}

    def expr(a):
        if a not in memo:
            if a not in producer:
                memo[a] = a.strip('"')
            else:
                op = producer[a]
                label = ops[op].lower().replace("_", "")
                memo[a] = f"{label}({','.join(expr(x) for x in inputs[op])})"
        return memo[a]

    return sorted(expr(a) for a in arrays), arrays


# Ops whose names coincide (MLX's primitive, lower case, is rill's function without "_").
_OPS = {
    "add": lambda m, x, y: x + y,
    "multiply": lambda m, x, y: x * y,
    "subtract": lambda m, x, y: x - y,
    "maximum": lambda m, x, y: m.maximum(x, y),
    "exp": lambda m, x, y: m.exp(x),
    "sin": lambda m, x, y: m.sin(x),
    "negative": lambda m, x, y: -x,
    "tanh": lambda m, x, y: m.tanh(x),
}


def random_graph(m, rng, leaves_np, plan):
    """The same random graph in module `m`: leaves from `leaves_np`, then one op per step of
    `plan` (name, operand indices)."""
    nodes = [m.array(v) for v in leaves_np]
    for name, i, j in plan:
        nodes.append(_OPS[name](m, nodes[i], nodes[j]))
    return nodes


@pytest.mark.parametrize("seed", range(6))
def test_export_to_dot_has_mlx_structure(mlx, seed):
    rng = np.random.default_rng(seed)
    leaves_np = [f32(rng, (3, 4)) for _ in range(int(rng.integers(1, 4)))]
    plan = []
    for k in range(int(rng.integers(2, 12))):
        n = len(leaves_np) + k
        plan.append((str(rng.choice(list(_OPS))), int(rng.integers(0, n)), int(rng.integers(0, n))))
    n_out = int(rng.integers(1, 3))
    named_step = int(rng.integers(len(leaves_np), len(leaves_np) + len(plan)))
    texts = {}
    for m in (mx, mlx):
        nodes = random_graph(m, rng, leaves_np, plan)
        names = {f"leaf{i}": nodes[i] for i in range(len(leaves_np))}
        names["middle"] = nodes[named_step]
        out = io.StringIO()
        m.export_to_dot(out, *nodes[-n_out:], **names)
        texts[m] = out.getvalue()
    (ours, our_arrays), (theirs, their_arrays) = canonical(texts[mx]), canonical(texts[mlx])
    assert ours == theirs, f"rill:\n{texts[mx]}\nMLX:\n{texts[mlx]}"
    # The named node is there in both or in neither (when the outputs do not need it).
    assert ('"middle"' in our_arrays) == ('"middle"' in their_arrays)
    # The same ranks: sources are the leaves, sinks the outputs.
    rank_count = lambda arrays, r: sum(v == r for v in arrays.values())  # noqa: E731
    for r in ("source", "sink"):
        assert rank_count(our_arrays, r) == rank_count(their_arrays, r), r


def test_export_to_dot_files_and_errors(mlx, tmp_path):
    x_np = np.arange(6, dtype=np.float32)
    written = {}
    for m in (mx, mlx):
        x = m.array(x_np)
        y = m.exp(x) + x
        path = tmp_path / f"{m.__name__}.dot"
        m.export_to_dot(str(path), y, x=x)
        written[m] = path.read_text()

        class Writer:
            parts = []

            def write(self, s):
                self.parts.append(s)

        w = Writer()
        m.export_to_dot(w, [y], x=x)
        assert "".join(w.parts) == written[m]
        # An evaluated output is a source alone; nothing at all is an empty graph.
        m.eval(y)
        text = io.StringIO()
        m.export_to_dot(text, y)
        arrays, ops, edges = parse_dot(text.getvalue())
        assert (list(arrays.values()), ops, edges) == (["source"], {}, [])
        text = io.StringIO()
        m.export_to_dot(text)
        assert parse_dot(text.getvalue()) == ({}, {}, [])
        with pytest.raises(ValueError, match="only arrays|should contain only arrays"):
            m.export_to_dot(io.StringIO(), 3)
        with pytest.raises(ValueError, match="file-like objects or strings"):
            m.export_to_dot(3, y)
        with pytest.raises(TypeError):
            m.export_to_dot(io.BytesIO(), y)
    assert canonical(written[mx])[0] == canonical(written[mlx])[0]
    # rill also takes a PathLike (MLX refuses one) and says when it cannot write.
    import pathlib

    x = mx.array(x_np)
    mx.export_to_dot(pathlib.Path(tmp_path / "p.dot"), x + 1)
    assert list(parse_dot((tmp_path / "p.dot").read_text())[1].values()) == ["add"]
    with pytest.raises(OSError, match="export_to_dot"):
        mx.export_to_dot(str(tmp_path / "missing" / "x.dot"), x + 1)


def test_export_to_dot_of_a_long_chain():
    x = mx.array([1.0])
    for _ in range(20000):
        x = -x
    out = io.StringIO()
    mx.export_to_dot(out, x)
    arrays, ops, edges = parse_dot(out.getvalue())
    assert (len(arrays), len(ops), len(edges)) == (20001, 20000, 40000)


# ------------------------------------------------------------------------ get_array_buffer_size


@pytest.mark.parametrize("seed", range(4))
def test_buffer_size_matches_mlx(mlx, seed):
    """Random trees of evaluated arrays, their views (slices, transposes, reshapes, depends
    outputs) and non-array leaves: each buffer counted once, as MLX counts (sizes are powers of
    two of at least 64 bytes, which rill's allocator reserves exactly)."""
    rng = np.random.default_rng(seed)
    shapes = [(16,), (4, 8), (8, 8), (2, 32), (64,), (16, 16)]
    bases_np = [f32(rng, shapes[int(rng.integers(0, len(shapes)))])
                for _ in range(int(rng.integers(1, 5)))]
    picks = [(int(rng.integers(0, len(bases_np))), int(rng.integers(0, 5)))
             for _ in range(int(rng.integers(1, 9)))]
    split = int(rng.integers(0, len(picks) + 1))
    results = {}
    for m in (mx, mlx):
        # On the CPU: where a GPU is the default device, a view of an array made from host data
        # is taken of its device copy (another buffer, from the device's pool, whose sizes differ).
        with m.stream(m.cpu):
            bases = [m.array(b) for b in bases_np]
            views = []
            for i, kind in picks:
                b = bases[i]
                views.append([b, b[1:], b.T, b.reshape(-1), m.depends(b, bases[0])][kind])
            m.eval(bases, views)
        tree = [views[:split], {"rest": tuple(views[split:]), "n": 3}, "text", None]
        each = [m.get_array_buffer_size(b) for b in bases]
        results[m] = m.get_array_buffer_size(*tree), m.get_array_buffer_size(tree), each
    # Each distinct base once, in both: the tree's size is the sum of its bases' sizes.
    used = sorted({i for i, _ in picks})
    for m in (mx, mlx):
        whole, nested, each = results[m]
        assert whole == nested == sum(each[i] for i in used), m
    # rill's allocator reserves these sizes exactly (MLX's too, unless its cache hands out a
    # larger block it freed earlier, so its numbers are compared where they are exact).
    assert results[mx][2] == [b.nbytes for b in bases_np]
    if results[mlx][2] == results[mx][2]:
        assert results[mx][:2] == results[mlx][:2]


def test_buffer_size_is_the_allocators_size(mlx, rng):
    """For any size, at least the bytes asked for (MLX's CPU number), at most the allocator's
    rounding: a power of two from 64 bytes below 16 KiB, whole 16 KiB pages above (a cached
    block up to a quarter larger may be reused)."""
    for n in (1, 3, 17, 100, 1000, 5000, 100_000):
        a = mx.array(f32(rng, (n,)))
        b = mlx.array(np.zeros(n, np.float32))
        mx.eval(a)
        mlx.eval(b)
        got, want = mx.get_array_buffer_size(a), mlx.get_array_buffer_size(b)
        # MLX's is 4 * n in a fresh process; a block its cache reuses can be larger.
        assert want >= 4 * n
        bucket = max(64, 1 << (4 * n - 1).bit_length()) if 4 * n <= 16384 else \
            -(-4 * n // 16384) * 16384
        assert 4 * n <= got <= bucket + bucket // 4, (n, got, want)
    assert mx.get_array_buffer_size() == mlx.get_array_buffer_size() == 0
    assert mx.get_array_buffer_size(1, "x", [None]) == mlx.get_array_buffer_size(1, "x", [None])


def test_buffer_size_of_unevaluated_arrays_fails_as_in_mlx(mlx):
    for m in (mx, mlx):
        a = m.array([1.0, 2.0])
        m.eval(a)
        with pytest.raises(ValueError, match="must be evaluated"):
            m.get_array_buffer_size([a, {"k": a + 1}])
    # An array whose evaluation is under way is waited for.
    x = mx.exp(mx.ones((1024, 256)))
    mx.async_eval(x)
    size = mx.get_array_buffer_size(x)
    assert 1024 * 256 * 4 <= size <= 1024 * 256 * 5
