"""The MNIST IDX loader: synthetic IDX files built here byte by byte, and the real files when present."""

from __future__ import annotations

import gzip
import hashlib
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from ialam_verify.data.mnist import (
    MNIST_FILES,
    always_zero_rows,
    load_mnist,
    mnist_problem,
    parse_idx,
    to_columns,
)

MNIST_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"


def _idx_bytes(arr: np.ndarray, magic_type: int = 0x08) -> bytes:
    # The format spelled out independently of the loader: 0 0 type ndim, big-endian sizes, data.
    head = bytes([0, 0, magic_type, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    return head + arr.astype(np.uint8).tobytes(order="C")


def _write_set(folder: Path, n_train: int, n_test: int, gz: bool, rng: np.random.Generator) -> dict:
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for key, base in MNIST_FILES.items():
        raw = _idx_bytes(arrays[key])
        if gz:
            (folder / f"{base}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / base).write_bytes(raw)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_loader_reads_what_was_written(tmp_path: Path, gz: bool) -> None:
    arrays = _write_set(tmp_path, 7, 3, gz, np.random.default_rng(1))
    got = load_mnist(tmp_path, expect_full=False)
    for key, want in arrays.items():
        np.testing.assert_array_equal(getattr(got, key), want)


def test_checksums_are_checked(tmp_path: Path) -> None:
    _write_set(tmp_path, 4, 2, True, np.random.default_rng(2))
    lines = []
    for base in MNIST_FILES.values():
        p = tmp_path / f"{base}.gz"
        lines.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}")
    (tmp_path / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    assert len(load_mnist(tmp_path, expect_full=False).checksums) == 4
    lines[0] = "0" * 64 + lines[0][64:]
    (tmp_path / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="SHA256"):
        load_mnist(tmp_path, expect_full=False)


def test_bad_files_are_refused(tmp_path: Path) -> None:
    arrays = _write_set(tmp_path, 4, 2, False, np.random.default_rng(3))
    # images and labels swapped: the magic numbers say so
    img = tmp_path / MNIST_FILES["train_images"]
    lab = tmp_path / MNIST_FILES["train_labels"]
    img_bytes, lab_bytes = img.read_bytes(), lab.read_bytes()
    img.write_bytes(lab_bytes)
    with pytest.raises(ValueError, match="magic number"):
        load_mnist(tmp_path, expect_full=False)
    img.write_bytes(img_bytes[:-5])  # truncated payload
    with pytest.raises(ValueError, match="payload"):
        load_mnist(tmp_path, expect_full=False)
    img.write_bytes(img_bytes)
    lab.write_bytes(_idx_bytes(arrays["train_labels"][:3]))  # 4 images, 3 labels
    with pytest.raises(ValueError, match="labels"):
        load_mnist(tmp_path, expect_full=False)
    lab.write_bytes(lab_bytes)
    with pytest.raises(ValueError, match="expected 60000"):
        load_mnist(tmp_path)  # the standard counts are required by default
    with pytest.raises(FileNotFoundError):
        load_mnist(tmp_path / "missing")
    with pytest.raises(ValueError, match="data type"):
        parse_idx(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]))


def test_columns_and_zero_rows_by_brute_force() -> None:
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    images[:, 0, :3] = 0
    images[:, 27, 27] = 0
    labels = np.array([3, 0, 9, 3, 1], dtype=np.uint8)
    X, Y = to_columns(images, labels)
    for n in range(5):
        for r in range(28):
            for c in range(28):
                assert X[r * 28 + c, n] == images[n, r, c] / 255.0
        assert [i for i in range(10) if Y[i, n] == 1.0] == [labels[n]] and Y[:, n].sum() == 1.0
    brute = [p for p in range(784) if all(X[p, n] == 0 for n in range(5))]
    assert list(always_zero_rows(X)) == brute


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not at {MNIST_DIR}")
def test_real_mnist_problems() -> None:
    arrays = load_mnist(MNIST_DIR)
    assert len(arrays.checksums) == 4  # every file matched SHA256SUMS
    assert arrays.train_images.shape == (60000, 28, 28) and arrays.test_images.shape == (
        10000,
        28,
        28,
    )
    mp = mnist_problem(arrays, 1000, seed=3)
    d = mp.dataset
    assert d.X.shape == (784, 1000) and d.Y.shape == (10, 1000)
    assert d.X_test.shape == (784, math.ceil(1000 / 5)) and not mp.held_out_is_official
    assert 0.0 <= d.X.min() and d.X.max() <= 1.0
    # held-out images are not training images: compare as byte strings
    train = {d.X[:, j].tobytes() for j in range(d.X.shape[1])}
    assert not any(d.X_test[:, j].tobytes() in train for j in range(d.X_test.shape[1]))
    assert mp.X_official.shape == (784, 10000)
    zero = set(np.flatnonzero(d.X.max(axis=1) == 0.0))
    assert set(mp.zero_pixels) == zero and len(zero) > 0
    full = mnist_problem(arrays, 60000, seed=0)
    assert full.held_out_is_official and full.dataset.X_test.shape == (784, 10000)
    with pytest.raises(ValueError, match="n_samples"):
        mnist_problem(arrays, 0)
