"""torch.autograd's actual values against the exact AD convention of the library (needs torch)."""

import pytest
import sympy as sp

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from ialam_verify.cases import Case, analyze, leaky_relu, load_cases  # noqa: E402


def test_torch_kink_conventions_are_the_documented_ones():
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    for fn, expected in [
        (torch.relu, 0.0),
        (lambda t: torch.nn.functional.leaky_relu(t, 0.25), 0.25),
        (torch.abs, 0.0),
        (lambda t: torch.maximum(t, torch.zeros(1, dtype=torch.float64)), 0.5),
    ]:
        x.grad = None
        fn(x).sum().backward()
        assert float(x.grad) == expected


@pytest.mark.parametrize("name", sorted(n for n, c in load_cases().items() if isinstance(c, Case)))
def test_torch_equals_exact_ad_on_every_case(name):
    case = load_cases()[name]
    A = case.analysis
    if A.ps.symbolic:
        A = A.at(A.ps.samples(1)[0])
    exact = [float(v) for v in A.ad_gradient]
    assert list(A.torch_gradient) == pytest.approx(exact, abs=1e-12)


def test_torch_on_a_leaky_network_off_the_kinks():
    w, b = sp.symbols("w b")
    f = (leaky_relu(2 * w + b, sp.Rational(1, 10)) - 1) ** 2 + sp.Abs(w - b)
    A = analyze(f, [w, b], [sp.Rational(1, 3), -1])
    assert list(A.torch_gradient) == pytest.approx([float(v) for v in A.ad_gradient], abs=1e-12)


from hypothesis import given, settings  # noqa: E402

from ialam_verify.testing.strategies import pl_functions  # noqa: E402


@settings(max_examples=15)
@given(pl_functions())
def test_torch_equals_exact_ad_on_random_functions_at_their_kinks(fX):
    f, X = fX
    A = analyze(f, X, [0] * len(X))
    assert list(A.torch_gradient) == pytest.approx([float(v) for v in A.ad_gradient], abs=1e-12)
