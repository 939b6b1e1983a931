"""Build autograder.zip, the file an instructor uploads to Gradescope.

    python gradescope/build_zip.py [--output PATH]

Gradescope needs setup.sh and run_autograder at the root of the zip and
unpacks the rest into /autograder/source. The zip also carries the project
files that setup.sh installs and the grader reads. Entries are sorted and
dated 1980-01-01, so the same files always give the same zip. Uses only the
standard library, so it runs without the project's virtual environment.
"""

from __future__ import annotations

import argparse
import stat
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = PROJECT_ROOT / "autograder.zip"
# Files of this folder that go to the root of the zip, as executables.
SCRIPTS = ("setup.sh", "run_autograder")
# Project files and folders, relative to the project root.
PROJECT_PATHS = (
    "pyproject.toml",
    "README.md",
    "grader",
    "fixtures/mnist",
    "submission",
)
EXCLUDED_FOLDERS = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
EXECUTABLE_MODE = 0o755
FILE_MODE = 0o644
UNIX_SYSTEM = 3


@dataclass(frozen=True)
class ZipEntry:
    source: Path
    name: str
    mode: int


def zip_entries(root: Path = PROJECT_ROOT) -> tuple[ZipEntry, ...]:
    """Return the entries of autograder.zip, scripts first, then sorted by name.

    Raises FileNotFoundError when a script or project path is missing.
    """
    scripts = tuple(
        ZipEntry(existing(root / "gradescope" / name), name, EXECUTABLE_MODE)
        for name in SCRIPTS
    )
    files = (
        ZipEntry(path, path.relative_to(root).as_posix(), FILE_MODE)
        for relative in PROJECT_PATHS
        for path in project_files(existing(root / relative))
    )
    return scripts + tuple(sorted(files, key=lambda entry: entry.name))


def existing(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"autograder.zip needs {path}, which does not exist")
    return path


def project_files(path: Path) -> list[Path]:
    """Return path itself if it is a file, or the files under it minus caches.

    Symbolic links are left out, so the zip holds only the project's own files.
    """
    if path.is_file():
        return [path]
    return [
        candidate
        for candidate in sorted(path.rglob("*"))
        if candidate.is_file()
        and not candidate.is_symlink()
        and not is_excluded(candidate.relative_to(path))
    ]


def is_excluded(relative: Path) -> bool:
    return any(
        part in EXCLUDED_FOLDERS or part.endswith(EXCLUDED_SUFFIXES)
        for part in relative.parts
    )


def build_zip(output: Path, root: Path = PROJECT_ROOT) -> tuple[ZipEntry, ...]:
    """Write autograder.zip to output and return its entries."""
    entries = zip_entries(root)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            archive.writestr(zip_info(entry), entry.source.read_bytes())
    return entries


def zip_info(entry: ZipEntry) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(entry.name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    # The Unix file type and mode sit in the high 16 bits, where unzip reads them.
    info.create_system = UNIX_SYSTEM
    info.external_attr = (stat.S_IFREG | entry.mode) << 16
    return info


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build Gradescope's autograder.zip.")
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the zip (default: {DEFAULT_OUTPUT.name} in the project)",
    )
    options = parser.parse_args(argv)
    try:
        entries = build_zip(options.output)
    except OSError as error:
        print(f"Cannot build {options.output}: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {options.output} with {len(entries)} files.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
