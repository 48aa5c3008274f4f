"""torch_threads: one torch thread and one thread in every BLAS library inside the block, both restored after."""

from __future__ import annotations

import pytest

from kiln.models.gp import torch_threads


def _blas_threads() -> dict[str, int]:
    """Library file -> its BLAS thread count, for every BLAS library loaded in this process."""
    import scipy.linalg  # noqa: F401  (scipy's own OpenBLAS, the one L-BFGS-B calls)
    from threadpoolctl import threadpool_info

    return {info["filepath"]: info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


@pytest.fixture
def two_threads() -> object:
    """Two torch and two BLAS threads during the test, whatever the machine's defaults; restored after it."""
    import torch
    from threadpoolctl import threadpool_limits

    saved = torch.get_num_threads()
    with threadpool_limits(limits=2, user_api="blas"):
        torch.set_num_threads(2)
        yield
    torch.set_num_threads(saved)


@pytest.mark.usefixtures("two_threads")
def test_every_blas_library_runs_one_thread_inside_and_gets_its_count_back_after() -> None:
    import torch

    before = _blas_threads()
    assert before and set(before.values()) == {2}, before  # scipy's OpenBLAS is among them
    with torch_threads():
        assert set(_blas_threads().values()) == {1}
        assert torch.get_num_threads() == 1
        with torch_threads():  # nested: still one, and the inner block restores nothing
            pass
        assert set(_blas_threads().values()) == {1}
    assert _blas_threads() == before
    assert torch.get_num_threads() == 2


@pytest.mark.usefixtures("two_threads")
def test_limit_threads_holds_until_its_restore_and_none_changes_nothing() -> None:
    import torch

    from kiln.models.gp import limit_threads

    before = _blas_threads()
    restore = limit_threads(1)
    assert set(_blas_threads().values()) == {1} and torch.get_num_threads() == 1
    restore()
    assert _blas_threads() == before and torch.get_num_threads() == 2
    limit_threads(None)()
    assert _blas_threads() == before and torch.get_num_threads() == 2
