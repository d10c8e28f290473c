"""The suite's own rules: without real MLX the comparisons with it skip visibly, and under
RILL_REQUIRE_MLX (CI) they fail instead. Runs pytest on one MLX comparison in a subprocess where
`import mlx.core` fails."""

import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent
ONE_MLX_TEST = f"{HERE / 'test_ops.py'}::test_linspace_matches_mlx"


def run_without_mlx(tmp_path, require):
    blocker = tmp_path / "mlx"
    blocker.mkdir()
    (blocker / "__init__.py").write_text('raise ImportError("mlx blocked by test_suite_rules")\n')
    # The blocker first; then this folder (conftest) and whatever path finds rill itself.
    paths = [str(tmp_path), str(HERE)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    env.pop("RILL_REQUIRE_MLX", None)
    if require:
        env["RILL_REQUIRE_MLX"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", ONE_MLX_TEST],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_without_mlx_the_comparisons_skip_and_say_so(tmp_path):
    r = run_without_mlx(tmp_path, require=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 skipped" in r.stdout and "real MLX is not installed" in r.stdout, r.stdout


def test_with_rill_require_mlx_a_missing_mlx_fails(tmp_path):
    r = run_without_mlx(tmp_path, require=True)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "RILL_REQUIRE_MLX is set but real MLX cannot be imported" in r.stdout, r.stdout
    assert "skipped" not in r.stdout, r.stdout
