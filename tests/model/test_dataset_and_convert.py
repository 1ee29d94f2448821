"""Dataset lives in model/ (re-exported by data/); a user's network converts to checked (W, b) lists."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ialam_verify.model.convert import as_network
from ialam_verify.model.network import forward


def test_dataset_is_one_class_in_both_places():
    from ialam_verify.data import Dataset as FromData
    from ialam_verify.model import Dataset as FromModel

    assert FromData is FromModel and FromModel.__module__ == "ialam_verify.model.dataset"


def test_the_solver_does_not_import_the_data_package():
    code = (
        "import sys, ialam_verify.solver, ialam_verify.solver.pipeline; "
        "print('ialam_verify.data' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_lists_are_copied_and_checked_against_the_sizes():
    W = [np.ones((4, 3)), np.ones((2, 4))]
    b = [np.zeros(4), np.zeros(2)]
    Wc, bc = as_network((W, b), (3, 4, 2), 0.1)
    Wc[0][0, 0] = 5.0
    assert W[0][0, 0] == 1.0  # a copy: the caller's arrays are never changed
    with pytest.raises(ValueError, match=r"W\[0\] must have shape \(4, 5\)"):
        as_network((W, b), (5, 4, 2), 0.1)
    with pytest.raises(ValueError, match="has 2 layers.*need 3"):
        as_network((W, b), (3, 4, 4, 2), 0.1)
    bad = [W[0].copy(), W[1]]
    bad[0][1, 1] = np.nan
    with pytest.raises(ValueError, match=r"W\[0\].*NaN"):
        as_network((bad, b), (3, 4, 2), 0.1)


@pytest.mark.torch
def test_torch_sequential_gives_the_same_function():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(1)
    net = nn.Sequential(
        nn.Linear(3, 5), nn.LeakyReLU(0.25), nn.Linear(5, 2, bias=False), nn.LeakyReLU(0.25)
    ).double()
    W, b = as_network(net, (3, 5, 2), 0.25)
    assert np.all(b[1] == 0.0)  # a Linear without bias has bias 0
    X = np.random.default_rng(0).standard_normal((3, 9))
    with torch.no_grad():
        ref = net(torch.from_numpy(X.T)).numpy().T
    np.testing.assert_allclose(forward(W, b, X, 0.25)[1][-1], ref, rtol=1e-13, atol=1e-14)
