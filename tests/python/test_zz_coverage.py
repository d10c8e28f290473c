"""Every public function of rill.core (and of its random, fft, linalg, cuda and metal namespaces)
is called by the suite: conftest wraps each one in a recorder for the session, and this test,
which runs last, lists those never called. It needs the whole suite: a run of some files only, or with -k/-m,
skips it and says why."""

import pathlib

import pytest

import conftest

HERE = pathlib.Path(__file__).parent


def test_every_public_function_is_called_by_the_suite(request):
    ran = {pathlib.Path(str(item.path)).name for item in request.session.items}
    every = {p.name for p in HERE.glob("test_*.py")}
    if ran != every or request.config.stash.get(conftest.DESELECTED, False):
        pytest.skip(f"only part of the suite ran ({len(ran)} of {len(every)} files, or -k/-m): "
                    "the coverage of the public functions is judged on the whole suite")
    public = conftest.public_functions()
    assert len(public) > 150, sorted(public)  # the recorder sees the whole API
    never = sorted(set(public) - conftest.CALLED)
    assert not never, f"public functions no test calls: {never}"
