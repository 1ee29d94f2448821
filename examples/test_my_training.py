"""Pin what your training produces: which stationarity notion holds, proved by a certificate.

Copy this file next to your tests and replace ``train`` with your own training code; run it with
``python -m pytest test_my_training.py``. It needs ``pip install "ialam-verify[test]"`` (torch is
optional: its test is skipped without it). ``docs/testing.md`` explains every call.

What is asserted, and why these tolerances:

- the network trained by the toolkit (IALAM, a small budget) is KKT-stationary for (PP) and
  S-stationary for (P) at its weights, to ``TOL = 1e-3``: this budget stops at a stationarity
  residual of about 2e-4 on these data (``certify(result).pp.results["KKT"].min_residual``);
- a network trained with torch (L-BFGS on the smooth loss, no group lasso) is KKT-stationary to
  ``1e-6``;
- on random data sets (hypothesis), whatever the training reaches, the certificate is consistent:
  every notion reported to hold has a witness that passes the re-check, and the implications
  KKT => Clarke and S => M => A, C => W hold between the verdicts.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ialam_verify.data import synthetic
from ialam_verify.solver import fit
from ialam_verify.stationarity import certify
from ialam_verify.testing import assert_certified, assert_stationary, verdicts_of
from ialam_verify.testing.strategies import datasets

try:  # the Dataset type moves from ialam_verify.data to ialam_verify.model
    from ialam_verify.model import Dataset
except ImportError:  # pragma: no cover - older layout
    from ialam_verify.data import Dataset

SIZES = (2, 3, 1)
ALPHA = 0.25
LAMBDA_W = 1e-2
TOL = 1e-3


def make_data():
    """A small teacher-student regression problem (20 samples)."""
    return synthetic(SIZES, n_samples=20, alpha=ALPHA, seed=1)


def train(data):
    """Your training code goes here. Returns an object with ``.problem`` and ``.point`` (the
    toolkit's result), or see ``test_torch_training_is_stationary`` for a torch model."""
    return fit(data, SIZES, alpha=ALPHA, lambda_w=LAMBDA_W, max_outer=100, seed=0)


def test_trained_network_is_stationary():
    result = train(make_data())
    report = assert_stationary(result, notion="KKT", tol=TOL)  # (PP) at the solver's point
    assert_certified(report, "S")  # (P) at the feasible lift of the weights: the strongest notion


@pytest.mark.torch
def test_torch_training_is_stationary():
    torch = pytest.importorskip("torch")
    data = make_data()
    torch.manual_seed(0)
    X, Y = torch.tensor(data.X.T), torch.tensor(data.Y.T)  # torch wants samples as rows
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 3),
        torch.nn.LeakyReLU(ALPHA),
        torch.nn.Linear(3, 1),
        torch.nn.LeakyReLU(ALPHA),
    ).double()
    opt = torch.optim.LBFGS(
        model.parameters(),
        max_iter=300,
        tolerance_grad=1e-12,
        tolerance_change=0.0,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = ((model(X) - Y) ** 2).sum() / X.shape[0]
        loss.backward()
        return loss

    opt.step(closure)
    # the toolkit takes samples as columns; the slope is read from the LeakyReLU layers
    assert_stationary(model, (data.X, data.Y), notion="KKT", lambda_w=0.0, tol=1e-6)


IMPLIES = {"KKT": ["Clarke"], "S": ["M"], "M": ["A", "C"], "A": ["W"], "C": ["W"]}


@settings(max_examples=6, deadline=None)
@given(datasets(n_inputs=2, n_outputs=1, n_samples=st.integers(4, 8)))
def test_certificates_of_training_on_random_data_are_consistent(XY):
    X, Y = XY
    result = train(Dataset(X, Y))
    report = certify(result, tol=TOL)
    verdicts = verdicts_of(report)
    for notion, verdict in verdicts.items():
        if verdict:  # a Verdict is truthy only when the notion holds (and then it is re-checked)
            assert_certified(report, notion)
            for weaker in IMPLIES.get(notion, []):
                assert verdicts[weaker], f"{notion} holds but {weaker} is {verdicts[weaker]}"
    assert np.isfinite(result.problem.network_objective(result.W, result.b))
