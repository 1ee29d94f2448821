"""Data: the talk's synthetic problems, user ``.npz`` files, and MNIST."""

from ..model.dataset import Dataset  # re-exported: Dataset lives in model/
from .mnist import MnistProblem, load_mnist, mnist_problem
from .synthetic import TALK_SHAPES, load_npz, synthetic

__all__ = [
    "TALK_SHAPES",
    "Dataset",
    "MnistProblem",
    "load_mnist",
    "load_npz",
    "mnist_problem",
    "synthetic",
]
