"""MNIST from the four standard IDX files, and the talk's MNIST problems.

The IDX format (LeCun et al.): a 4-byte magic number ``0x00 0x00 T D`` (``T = 0x08`` for unsigned
bytes, ``D`` the number of dimensions), ``D`` big-endian 32-bit sizes, then the data in C order. MNIST's
images have magic ``0x00000803`` (2051, shape ``n x 28 x 28``) and its labels ``0x00000801`` (2049,
shape ``n``). Each file may be gzipped (``.gz``) or not; the loader takes whichever is present.

The talk's problems: ``N`` training images, pixels scaled to ``[0, 1]`` (``x = pixel / 255``), one-hot
targets (``10 x N``), a held-out test set of :math:`N_{test} = \\lceil N/5 \\rceil` images drawn from
the *remaining* training images, and the official 10,000-image test set reported as well. When ``N`` is
so large that fewer than :math:`\\lceil N/5 \\rceil` training images remain (``N = 60000``), the held-out
set is the official test set itself (10,000 images), and this is recorded in :class:`MnistProblem`.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..model.dataset import Dataset

#: The four standard file names, without the optional ``.gz``.
MNIST_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MAGIC_IMAGES = 0x00000803
MAGIC_LABELS = 0x00000801
_IDX_DTYPES = {0x08: np.uint8}
_EXPECTED_COUNTS = {"train": 60000, "test": 10000}


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of one (uncompressed) IDX file into an array, checking its header.

    Raises ``ValueError`` naming ``name`` when the magic number is not ``0x0000TTDD`` with a known type
    ``TT``, or when the payload length differs from the product of the declared sizes.
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{name}: not an IDX file (magic number must start with two zero bytes)")
    dtype = _IDX_DTYPES.get(raw[2])
    if dtype is None:
        raise ValueError(f"{name}: unsupported IDX data type 0x{raw[2]:02x} (expected 0x08, ubyte)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(raw)} bytes, {ndim} dimensions)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{name}: IDX payload has {len(raw) - header} bytes; shape {shape} needs {expected}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).copy()


def _find(folder: Path, base: str) -> Path:
    for candidate in (folder / base, folder / f"{base}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"MNIST file {base} (or {base}.gz) not found in {folder}")


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: corrupt gzip stream: {exc}") from exc
    return data


def verify_checksums(folder: str | os.PathLike[str], files: list[Path]) -> dict[str, bool]:
    """Compare the SHA256 of each of ``files`` with ``folder/SHA256SUMS`` when that file exists.

    Returns ``{file name: True}`` for each checked file (files not listed are not checked) and raises
    ``ValueError`` on a mismatch. Without ``SHA256SUMS`` nothing is checked and ``{}`` is returned.
    """
    sums = Path(folder) / "SHA256SUMS"
    if not sums.is_file():
        return {}
    listed: dict[str, str] = {}
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            listed[parts[1].lstrip("*")] = parts[0].lower()
    checked: dict[str, bool] = {}
    for path in files:
        if path.name not in listed:
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != listed[path.name]:
            raise ValueError(
                f"{path}: SHA256 {digest} does not match {listed[path.name]} in {sums}"
            )
        checked[path.name] = True
    return checked


@dataclass(frozen=True)
class MnistArrays:
    """The raw MNIST arrays: images ``n x 28 x 28`` (uint8) and labels ``n`` (uint8)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    folder: str
    checksums: dict[str, bool] = field(default_factory=dict)


def load_mnist(
    folder: str | os.PathLike[str], *, verify: bool = True, expect_full: bool = True
) -> MnistArrays:
    """Load the four MNIST IDX files (gzipped or not) from ``folder``.

    Checks the magic numbers (2051 for images, 2049 for labels), ``28 x 28`` images, equal image and
    label counts, labels in ``0..9``, the SHA256 checksums in ``SHA256SUMS`` when present
    (``verify=True``), and with ``expect_full`` the standard counts 60,000 and 10,000.
    """
    folder_p = Path(folder)
    if not folder_p.is_dir():
        raise FileNotFoundError(f"MNIST folder {folder} does not exist")
    paths = {key: _find(folder_p, base) for key, base in MNIST_FILES.items()}
    checksums = verify_checksums(folder_p, list(paths.values())) if verify else {}
    arrays: dict[str, np.ndarray] = {}
    for key, path in paths.items():
        raw = _read(path)
        magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else -1
        want = MAGIC_IMAGES if key.endswith("images") else MAGIC_LABELS
        if magic != want:
            raise ValueError(f"{path}: magic number {magic:#010x}; expected {want:#010x}")
        arrays[key] = parse_idx(raw, str(path))
    for part in ("train", "test"):
        imgs, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if imgs.shape[1:] != (28, 28):
            raise ValueError(f"{paths[part + '_images']}: images must be 28 x 28; got {imgs.shape}")
        if labels.shape != (imgs.shape[0],):
            raise ValueError(f"{part}: {imgs.shape[0]} images but labels of shape {labels.shape}")
        if labels.size and labels.max() > 9:
            raise ValueError(f"{paths[part + '_labels']}: labels must lie in 0..9")
        if expect_full and imgs.shape[0] != _EXPECTED_COUNTS[part]:
            raise ValueError(
                f"{part}: expected {_EXPECTED_COUNTS[part]} images; got {imgs.shape[0]}"
            )
    return MnistArrays(**arrays, folder=str(folder_p), checksums=checksums)


def to_columns(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Images to ``X`` (``784 x n``, pixels / 255) and labels to one-hot ``Y`` (``10 x n``)."""
    X = images.reshape(images.shape[0], -1).T.astype(np.float64) / 255.0
    Y = np.zeros((10, labels.shape[0]))
    Y[labels.astype(np.int64), np.arange(labels.shape[0])] = 1.0
    return X, Y


def always_zero_rows(X: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``X`` (pixels) that are zero in every column (image)."""
    return np.flatnonzero(~np.any(X != 0.0, axis=1))


@dataclass(frozen=True)
class MnistProblem:
    """One of the talk's MNIST problems.

    ``dataset`` holds ``N`` training images and the held-out test set (``X_test``, ``Y_test``);
    ``X_official``/``Y_official`` the official test set; ``zero_pixels`` the pixels that are zero in
    all ``N`` training images (their first-layer columns can be zero at no cost to the loss).
    """

    dataset: Dataset
    X_official: np.ndarray
    Y_official: np.ndarray
    zero_pixels: np.ndarray
    held_out_is_official: bool


def mnist_problem(
    source: str | os.PathLike[str] | MnistArrays,
    n_samples: int,
    seed: int = 0,
) -> MnistProblem:
    """The talk's MNIST problem with ``n_samples`` training images drawn at random (``seed``).

    The training images are a uniformly random subset of the 60,000 (all of them when
    ``n_samples = 60000``); the held-out test set takes :math:`\\lceil N/5 \\rceil` of the remaining
    training images, or the official test set when too few remain (see the module docstring).
    """
    arrays = source if isinstance(source, MnistArrays) else load_mnist(source)
    n_total = arrays.train_images.shape[0]
    if isinstance(n_samples, bool) or int(n_samples) != n_samples or not 1 <= n_samples <= n_total:
        raise ValueError(f"n_samples must be an integer in [1, {n_total}]; got {n_samples!r}")
    n_samples = int(n_samples)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_total)
    train_idx = np.sort(perm[:n_samples])
    n_test = math.ceil(n_samples / 5)
    X, Y = to_columns(arrays.train_images[train_idx], arrays.train_labels[train_idx])
    X_off, Y_off = to_columns(arrays.test_images, arrays.test_labels)
    if n_total - n_samples >= n_test:
        test_idx = np.sort(perm[n_samples : n_samples + n_test])
        X_t, Y_t = to_columns(arrays.train_images[test_idx], arrays.train_labels[test_idx])
        official = False
    else:
        X_t, Y_t, official = X_off, Y_off, True
    ds = Dataset(X, Y, X_t, Y_t, name=f"mnist-N{n_samples}-seed{seed}")
    return MnistProblem(ds, X_off, Y_off, always_zero_rows(X), official)
