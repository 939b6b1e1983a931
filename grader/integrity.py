"""Notice when the student's code changes the files the grader runs on.

Before the task groups start and after they end, the grader takes a
fingerprint of its own package, the grading data, and the packages that the
checks run on in the grader's process. Those are pytest and its plugins,
tbparse and the TensorBoard and protobuf code it reads with, pandas, NumPy
and rich. The grader's own files and the data are hashed with SHA-256. The
packages' files, about 3,100 with the versions pinned in pyproject.toml, are
compared by size, modification time and inode change time. A whole
fingerprint took 56 to 75 ms on a 2-core machine.
The change time moves on every write and cannot be set back by a process of
an ordinary user, so a file written and restored still shows.

A difference means the submission reached outside its working directory, and
the grade is invalid. The Python interpreter and its standard library are not
fingerprinted; docs/security.md lists that among what is not defended.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Iterable
from pathlib import Path

import grader

GRADER_PACKAGE = Path(grader.__file__).resolve().parent
# The distributions whose code runs in the grader's process while it checks.
CHECKED_PACKAGES = (
    "pytest", "_pytest", "pluggy", "pytest_timeout", "iniconfig", "tbparse",
    "tensorboard", "google.protobuf", "pandas", "numpy", "rich",
)  # fmt: skip

Fingerprint = dict[str, tuple]


def package_files(name: str) -> list[Path]:
    """Return every file of an installed package or module, without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if not spec.submodule_search_locations:
        return [Path(spec.origin)] if spec.origin else []
    return [
        Path(folder, file_name)
        for location in spec.submodule_search_locations
        for folder, _, names in os.walk(location)
        for file_name in names
    ]


def grader_files() -> list[Path]:
    return [
        Path(folder, name)
        for folder, _, names in os.walk(GRADER_PACKAGE)
        for name in names
        if "__pycache__" not in folder
    ]


def take_fingerprint(hashed: Iterable[Path], packages: Iterable[str]) -> Fingerprint:
    """Hash the ``hashed`` files; record size and times of the packages' files."""
    fingerprint: Fingerprint = {}
    for path in hashed:
        fingerprint[str(path)] = ("sha256", _sha256(path))
    for name in packages:
        for path in package_files(name):
            if "__pycache__" in path.parts:
                continue
            fingerprint.setdefault(str(path), _stat(path))
    return fingerprint


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        return f"unreadable: {error.strerror}"


def _stat(path: Path) -> tuple:
    try:
        status = path.stat()
    except OSError as error:
        return ("unreadable", error.strerror)
    return ("stat", status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def grading_fingerprint(data_path: Path) -> Fingerprint:
    return take_fingerprint([*grader_files(), data_path], CHECKED_PACKAGES)


def changed_files(before: Fingerprint, after: Fingerprint) -> list[str]:
    """Return the files that were added, removed or changed, sorted."""
    return sorted(
        path
        for path in before.keys() | after.keys()
        if before.get(path) != after.get(path)
    )
