"""The fingerprint of the grader's files, taken before and after a submission runs."""

from __future__ import annotations

import os
from pathlib import Path

from grader.integrity import (
    GRADER_PACKAGE,
    changed_files,
    grader_files,
    package_files,
    take_fingerprint,
)


def test_unchanged_files_equal(tmp_path: Path) -> None:
    path = tmp_path / "rubric.py"
    path.write_text("POINTS = 3\n")
    before = take_fingerprint([path], ["pluggy"])
    assert changed_files(before, take_fingerprint([path], ["pluggy"])) == []


def test_hashed_change_found(tmp_path: Path) -> None:
    path = tmp_path / "rubric.py"
    path.write_text("POINTS = 3\n")
    status = path.stat()
    before = take_fingerprint([path], [])
    path.write_text("POINTS = 9\n")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert changed_files(before, take_fingerprint([path], [])) == [str(path)]


def test_removed_file_found(tmp_path: Path) -> None:
    path = tmp_path / "rubric.py"
    path.write_text("POINTS = 3\n")
    before = take_fingerprint([path], [])
    path.unlink()
    after = take_fingerprint([path], [])
    assert changed_files(before, after) == [str(path)]
    assert after[str(path)][1].startswith("unreadable")


def test_added_file_found() -> None:
    before = {"a.py": ("sha256", "0")}
    after = {"a.py": ("sha256", "0"), "conftest.py": ("sha256", "1")}
    assert changed_files(before, after) == ["conftest.py"]


def test_package_files_listed() -> None:
    files = package_files("pluggy")
    assert any(path.name == "__init__.py" for path in files)
    assert package_files("no_such_package_here") == []


def test_grader_files_cover_checks() -> None:
    names = {path.relative_to(GRADER_PACKAGE).as_posix() for path in grader_files()}
    assert "rubric.py" in names
    assert "checks/conftest.py" in names
    assert not any("__pycache__" in name for name in names)
