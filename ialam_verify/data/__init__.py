"""Data: the talk's synthetic problems, user ``.npz`` files, and MNIST."""

from .synthetic import TALK_SHAPES, Dataset, load_npz, synthetic

__all__ = ["TALK_SHAPES", "Dataset", "load_npz", "synthetic"]
