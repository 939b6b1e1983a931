"""The grading subset of MNIST, verified by its SHA-256 before use."""

from __future__ import annotations

import hashlib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SUBSET_PATH = PROJECT_ROOT / "fixtures" / "mnist" / "mnist_subset.npz"
SUBSET_SHA256 = "29511d732ab2bdd28cc76f8a2d77de9efd2a411b88bb7d7f5572c8b15bd5369d"


class DatasetError(Exception):
    pass


def verify_subset(path: Path = SUBSET_PATH, sha256: str = SUBSET_SHA256) -> Path:
    """Return ``path`` after checking that the file has the expected SHA-256."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DatasetError(
            f"Cannot read the MNIST subset {path}: {error.strerror}. "
            "Restore it with git checkout -- fixtures/mnist/mnist_subset.npz."
        ) from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise DatasetError(
            f"The MNIST subset {path} has SHA-256 {digest}, expected {sha256}. "
            "Restore it with git checkout -- fixtures/mnist/mnist_subset.npz, "
            "or rebuild it with fixtures/mnist/make_subset.py."
        )
    return path
