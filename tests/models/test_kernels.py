"""Tanimoto and elemental-composition kernels, and the kernel built from a KernelLayout."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from kiln.core.errors import ValidationError
from kiln.models.gp import KERNELS
from kiln.models.kernels import ElementsKernel, TanimotoKernel, element_features, layout_kernel
from kiln.space.kernel_layout import FeatureBlock, KernelLayout


def _minmax(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum(min) / sum(max) of every row pair, row by row in plain numpy (1 for two all-zero rows)."""
    out = np.ones((len(a), len(b)))
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            high = np.maximum(x, y).sum()
            if high > 0:
                out[i, j] = np.minimum(x, y).sum() / high
    return out


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)


def test_tanimoto_equals_a_direct_computation_on_counts() -> None:
    rng = np.random.default_rng(0)
    a = rng.poisson(1.0, size=(7, 30)).astype(float) / 4.0
    b = rng.poisson(1.0, size=(5, 30)).astype(float) / 4.0
    K = TanimotoKernel()(_tensor(a), _tensor(b)).to_dense().numpy()
    assert K.shape == (7, 5)
    np.testing.assert_allclose(K, _minmax(a, b), rtol=0, atol=1e-12)


def test_tanimoto_on_bits_is_the_jaccard_index() -> None:
    rng = np.random.default_rng(1)
    bits = rng.random((6, 64)) < 0.3
    K = TanimotoKernel()(_tensor(bits.astype(float))).to_dense().numpy()
    for i in range(6):
        for j in range(6):
            both, either = (bits[i] & bits[j]).sum(), (bits[i] | bits[j]).sum()
            assert K[i, j] == pytest.approx(both / either, abs=1e-12)
    assert K[0, 0] == 1.0


def test_tanimoto_of_bits_by_matrix_product_equals_the_general_formula() -> None:
    rng = np.random.default_rng(11)
    a, b = (rng.random((2, 9, 50)) < 0.3).astype(float), (rng.random((2, 7, 50)) < 0.3).astype(float)
    a[0, 0] = b[0, 0] = 0.0
    fast = TanimotoKernel()(_tensor(a), _tensor(b)).to_dense()
    general = TanimotoKernel()(_tensor(a).requires_grad_(True), _tensor(b)).to_dense().detach()  # L1 distances
    assert torch.equal(fast, general)
    np.testing.assert_allclose(fast[1].numpy(), _minmax(a[1], b[1]), atol=1e-15)
    assert float(fast[0, 0, 0]) == 1.0


def test_tanimoto_of_all_zero_vectors() -> None:
    x = _tensor(np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    K = TanimotoKernel()(x).to_dense()
    assert torch.equal(K, _tensor(np.array([[1.0, 0.0], [0.0, 1.0]])))
    assert torch.equal(TanimotoKernel()(x, diag=True), torch.ones(2, dtype=torch.float64))


@pytest.mark.parametrize("bits", [True, False])
def test_tanimoto_gram_matrix_is_positive_semidefinite(bits: bool) -> None:
    rng = np.random.default_rng(2)
    X = (rng.random((60, 40)) < 0.2).astype(float) if bits else rng.random((60, 40)) ** 3
    X[0] = 0.0  # an all-zero row among them
    K = TanimotoKernel()(_tensor(X)).to_dense()
    assert torch.allclose(K, K.T)
    assert float(torch.linalg.eigvalsh(K).min()) > -1e-10


def test_tanimoto_batches_and_diagonal() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.random((3, 5, 8)), rng.random((3, 4, 8))
    kernel = TanimotoKernel()
    K = kernel(_tensor(a), _tensor(b)).to_dense()
    assert K.shape == (3, 5, 4)
    for i in range(3):
        np.testing.assert_allclose(K[i].numpy(), _minmax(a[i], b[i]), atol=1e-12)
    diag = kernel(_tensor(a), diag=True)
    assert diag.shape == (3, 5)
    assert torch.allclose(diag, torch.ones(3, 5, dtype=torch.float64))
    broadcast = kernel(_tensor(a), _tensor(b[0])).to_dense()  # one set of rows against each batch
    assert broadcast.shape == (3, 5, 4)
    np.testing.assert_allclose(broadcast[2].numpy(), _minmax(a[2], b[0]), atol=1e-12)


def test_tanimoto_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(4)
    x = _tensor(rng.random((3, 6))).requires_grad_(True)  # relaxed points: no coordinate ties
    y = _tensor(rng.random((4, 6)))
    assert torch.autograd.gradcheck(lambda x: TanimotoKernel()(x, y).to_dense(), (x,))


@pytest.mark.parametrize("columns", [(1, 3, 4), (2, 3, 4)])
def test_tanimoto_reads_only_its_columns(columns: tuple[int, ...]) -> None:
    rng = np.random.default_rng(5)
    X, Y = rng.random((4, 5)), rng.random((2, 3, 5))
    expected = _minmax(X[:, list(columns)], X[:, list(columns)])
    for kernel in (TanimotoKernel(columns=columns), TanimotoKernel(active_dims=columns)):
        np.testing.assert_allclose(kernel(_tensor(X)).to_dense().numpy(), expected, atol=1e-12)
        diag = kernel(_tensor(Y), diag=True)
        assert diag.shape == (2, 3) and torch.allclose(diag, torch.ones(2, 3, dtype=torch.float64))
    batch = TanimotoKernel(columns=columns)(_tensor(Y), _tensor(X)).to_dense()
    np.testing.assert_allclose(batch[1].numpy(), _minmax(Y[1][:, list(columns)], X[:, list(columns)]), atol=1e-12)


# ------------------------------------------------------------------------------------------------ elements
PROPERTIES = np.array([[0.0, 0.3], [0.25, 0.3], [0.5, 0.3], [0.75, 0.3], [1.0, 0.3]])  # 5 elements x 2


def test_element_features_are_weighted_means_and_deviations() -> None:
    rng = np.random.default_rng(6)
    P = rng.random((4, 3))
    x = rng.random((6, 4)) * 2.0  # totals other than 1: the weights are x / sum(x)
    phi = element_features(_tensor(x), _tensor(P)).numpy()
    w = x / x.sum(1, keepdims=True)
    mean = w @ P
    std = np.sqrt((w[:, :, None] * (P[None] - mean[:, None]) ** 2).sum(1) + 1e-6)
    np.testing.assert_allclose(phi, np.hstack([mean, std]), atol=1e-12)
    empty = element_features(_tensor(np.zeros((1, 4))), _tensor(P))
    assert torch.isfinite(empty).all()


def test_compositions_with_the_same_averages_are_perfectly_correlated() -> None:
    from gpytorch.kernels import ScaleKernel

    # mean 0.5 and variance 1/16 of the first property in both; the second property is the same for all
    one = np.array([[0.0, 0.5, 0.0, 0.5, 0.0]])
    other = np.array([[1 / 8, 0.0, 3 / 4, 0.0, 1 / 8]])
    different = np.array([[0.6, 0.0, 0.0, 0.0, 0.4]])
    kernel = ScaleKernel(ElementsKernel(_tensor(PROPERTIES))).to(torch.float64)
    kernel.outputscale = torch.tensor(1.7, dtype=torch.float64)
    X = _tensor(np.vstack([one, other, 3.0 * other, different]))
    K = kernel(X).to_dense().detach()
    assert float(K[0, 1]) == pytest.approx(1.7, abs=1e-9)
    assert float(K[1, 2]) == pytest.approx(1.7, abs=1e-9)  # only the proportions count
    assert float(K[0, 3]) < 1.6


def test_elements_kernel_gradients_flow_to_the_fractions() -> None:
    rng = np.random.default_rng(7)
    kernel = ElementsKernel(_tensor(rng.random((5, 3)))).to(torch.float64)
    x = _tensor(rng.dirichlet(np.ones(5), size=3)).requires_grad_(True)
    y = _tensor(rng.dirichlet(np.ones(5), size=4))
    K = kernel(x, y).to_dense()
    K.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and float(x.grad.abs().sum()) > 0
    assert torch.autograd.gradcheck(lambda x: kernel(x, y).to_dense(), (x.detach().requires_grad_(True),))


def test_elements_kernel_compares_the_amounts_behind_the_coordinates() -> None:
    rng = np.random.default_rng(10)
    P, low, span = _tensor(rng.random((3, 2))), _tensor(np.array([0.5, 0.0, 1.0])), _tensor(np.array([2.0, 4.0, 1.0]))
    z = _tensor(rng.random((5, 3)))
    on_z = ElementsKernel(P, low, span).to(torch.float64)
    on_amounts = ElementsKernel(P).to(torch.float64)
    assert torch.allclose(on_z(z).to_dense(), on_amounts(low + span * z).to_dense(), atol=1e-12)
    assert not torch.allclose(on_z(z).to_dense(), on_amounts(z).to_dense(), atol=1e-3)


def test_elements_kernel_batches_diagonal_and_psd() -> None:
    rng = np.random.default_rng(8)
    kernel = ElementsKernel(_tensor(rng.random((4, 2)))).to(torch.float64)
    a = _tensor(rng.dirichlet(np.ones(4), size=(2, 30)))
    K = kernel(a).to_dense().detach()
    assert K.shape == (2, 30, 30)
    assert float(torch.linalg.eigvalsh(K).min()) > -1e-10
    assert torch.allclose(kernel(a, diag=True), torch.ones(2, 30, dtype=torch.float64))


# ----------------------------------------------------------------------------------------------- layouts
@pytest.mark.parametrize("kind", ["matern52", "rbf"])
@pytest.mark.parametrize("ard", [True, False])
def test_a_plain_layout_gives_todays_kernel(kind: str, ard: bool) -> None:
    kernel, today = layout_kernel(KernelLayout(4), kind, ard), KERNELS[kind](4, ard=ard)
    assert type(kernel) is type(today)
    assert repr(kernel) == repr(today)
    state, expected = kernel.state_dict(), today.state_dict()
    assert state.keys() == expected.keys()
    assert all(torch.equal(state[k], expected[k]) for k in state)


def test_layout_kernel_is_the_scaled_product_of_its_parts() -> None:
    from gpytorch.kernels import MaternKernel, ProductKernel, ScaleKernel

    layout = KernelLayout(
        7,
        (
            FeatureBlock("tanimoto", (2, 3, 4), name="ligand"),
            FeatureBlock("elements", (5, 6), ((0.0, 1.0), (1.0, 0.2)), name="metals"),
        ),
    )
    kernel = layout_kernel(layout).to(torch.float64)
    assert isinstance(kernel, ScaleKernel) and isinstance(kernel.base_kernel, ProductKernel)
    shared, tanimoto, elements = kernel.base_kernel.kernels
    assert isinstance(shared, MaternKernel) and shared.active_dims.tolist() == [0, 1, 5, 6]
    assert shared.lengthscale.shape == (1, 4)
    assert isinstance(tanimoto, TanimotoKernel) and tanimoto.columns == (2, 3, 4)
    assert isinstance(elements, ElementsKernel) and elements.active_dims.tolist() == [5, 6]
    assert elements.features_kernel.lengthscale.shape == (1, 4)
    rng = np.random.default_rng(9)
    A, B = _tensor(rng.random((5, 7))), _tensor(rng.random((3, 7)))
    expected = (
        kernel.outputscale
        * shared(A, B).to_dense()
        * _tensor(_minmax(A[:, 2:5].numpy(), B[:, 2:5].numpy()))
        * elements(A, B).to_dense()
    )
    assert torch.allclose(kernel(A, B).to_dense(), expected, atol=1e-12)
    assert torch.allclose(kernel(A).to_dense(), kernel(A, A).to_dense(), atol=1e-12)


def test_layout_of_fingerprints_alone_has_no_stationary_part() -> None:
    kernel = layout_kernel(KernelLayout(3, (FeatureBlock("tanimoto", (0, 1, 2)),)))
    assert isinstance(kernel.base_kernel, TanimotoKernel)


def test_bad_layouts_are_refused() -> None:
    with pytest.raises(ValidationError, match="columns 0 to 2"):
        layout_kernel(KernelLayout(3, (FeatureBlock("tanimoto", (2, 3)),)))
    with pytest.raises(ValidationError, match="one block only"):
        layout_kernel(KernelLayout(3, (FeatureBlock("tanimoto", (0, 1)), FeatureBlock("tanimoto", (1, 2)))))
    with pytest.raises(ValidationError, match="non-negative finite amounts"):
        layout_kernel(KernelLayout(2, (FeatureBlock("elements", (0, 1), ((0.1,), (0.2,)), low=(0.0, -1.0)),)))
    with pytest.raises(ValidationError, match="one positive length"):
        layout_kernel(KernelLayout(3, (FeatureBlock("elements", (0, 1), ((0.1,), (0.2, 0.3))),)))


def test_importing_the_module_stays_light() -> None:
    code = "import sys, kiln.models.kernels; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
