"""Data: the talk's synthetic problems, user ``.npz`` files, and MNIST."""

from .mnist import MnistProblem, load_mnist, mnist_problem
from .synthetic import TALK_SHAPES, Dataset, load_npz, synthetic

__all__ = [
    "TALK_SHAPES",
    "Dataset",
    "MnistProblem",
    "load_mnist",
    "load_npz",
    "mnist_problem",
    "synthetic",
]
