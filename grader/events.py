"""Read TensorBoard event files with tbparse, without importing TensorFlow.

tbparse 0.0.9 imports TensorFlow when it can, which takes about 5 s. Without
it, tbparse falls back to the TensorBoard package's own protobuf stub, which
parses the ``tensors`` events that TensorFlow 2 writes for scalars, histograms
and text. So TensorFlow is hidden while tbparse is imported and while it reads,
because TensorBoard's ``tensorboard.compat.tf`` also imports it lazily.

Measured with TensorFlow 2.21 and Keras 3.15: the Keras TensorBoard callback
writes ``<run>/train`` and ``<run>/validation`` with ``epoch_loss``,
``epoch_accuracy`` and (train only) ``epoch_learning_rate``; weight histograms
are tagged ``<layer path>/histogram`` with an (n, 3) array per step; the model
description is a ``keras`` tag holding JSON bytes. Keras 3.12.4, which pip
installs on Python 3.10, tags the histograms by variable name only
(``kernel/histogram``), so two layers share a tag in one folder.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

logger = logging.getLogger(__name__)

EVENT_FILE_MARK = "events.out.tfevents"
COLUMNS = ["folder", "file", "tag", "step", "value", "wall_time"]


@contextlib.contextmanager
def tensorflow_hidden() -> Iterator[None]:
    """Make "import tensorflow" fail inside the block, unless it is imported already."""
    hidden = "tensorflow" not in sys.modules
    if hidden:
        sys.modules["tensorflow"] = None
    try:
        yield
    finally:
        if hidden:
            del sys.modules["tensorflow"]


with tensorflow_hidden():
    from tbparse import SummaryReader
    from tensorboard.backend.event_processing.event_file_loader import (
        RawEventFileLoader,
    )
    from tensorboard.compat.proto import event_pb2

# Far above what Keras writes (a histogram is 30 x 3 numbers) and far below
# what would exhaust the grader's memory. tbparse expands a tensor that
# declares a large shape but stores one value to its full size, 400 MB for
# 10^8 floats.
MAX_TENSOR_ELEMENTS = 1_000_000


@dataclass(frozen=True)
class UnreadableFile:
    path: str
    error: str


@dataclass(frozen=True)
class EventTable:
    """Every event of every event file under one root folder.

    ``frame`` has one row per (file, tag, step) with the columns COLUMNS;
    ``folder`` is the file's parent folder relative to the root, in POSIX form.
    """

    root: Path
    frame: pd.DataFrame
    unreadable: tuple[UnreadableFile, ...] = field(default=())
    # Files whose events were dropped because they were written before or after
    # the grading run (grader/provenance.py).
    stale: tuple[str, ...] = field(default=())

    def folders(self) -> list[str]:
        return sorted(self.frame["folder"].unique())

    def tags(self, folder: str) -> set[str]:
        return set(self.frame.loc[self.frame["folder"] == folder, "tag"])

    def values(self, folder: str, tag: str) -> list[tuple[int, object]]:
        """Return (step, value) pairs of one tag in one folder, sorted by step."""
        rows = self.frame[(self.frame["folder"] == folder) & (self.frame["tag"] == tag)]
        rows = rows.sort_values(["step", "wall_time"], kind="stable")
        return list(zip(rows["step"].astype(int), rows["value"], strict=True))

    def scalars(self, folder: str, tag: str) -> list[tuple[int, float]]:
        """Return (step, float) pairs; a value that is not a number becomes NaN."""
        return [(step, to_float(value)) for step, value in self.values(folder, tag)]

    def files(self) -> list[str]:
        return sorted(self.frame["file"].unique())

    def run_folders(self, under: str | None = None) -> list[str]:
        """Return the folders that hold a train or validation folder of events.

        With ``under``, only folders below that top-level folder count.
        """
        runs = set()
        for folder in self.folders():
            path = PurePosixPath(folder)
            if path.name not in ("train", "validation"):
                continue
            if under is None or is_under(path.parent, under):
                runs.add(str(path.parent))
        return sorted(runs)


def is_under(path: PurePosixPath, root: str) -> bool:
    return path.parts[:1] == (root,) and len(path.parts) > 1


def to_float(value: object) -> float:
    try:
        number = float(value)  # numpy scalars and 0-d arrays included
    except (TypeError, ValueError):
        return math.nan
    return number


def find_event_files(root: Path) -> list[Path]:
    """Return the event files under ``root``, never following a symbolic link.

    A link could lead the reader to logs outside the working directory.
    """
    found = []
    for folder, _, names in os.walk(root, followlinks=False):
        for name in names:
            path = Path(folder, name)
            if EVENT_FILE_MARK in name and path.is_file() and not path.is_symlink():
                found.append(path)
    return sorted(found)


def oversized_tensor(path: Path) -> str | None:
    """Return why an event file declares a tensor too large to read, or None.

    A record that cannot be parsed is left for tbparse to report.
    """
    try:
        with tensorflow_hidden():
            records = list(RawEventFileLoader(str(path)).Load())
        for record in records:
            event = event_pb2.Event.FromString(record)
            for value in event.summary.value:
                elements = math.prod(dim.size for dim in value.tensor.tensor_shape.dim)
                if elements > MAX_TENSOR_ELEMENTS:
                    return (
                        f"the tag {value.tag!r} declares a tensor of {elements} "
                        f"values; the grader reads at most {MAX_TENSOR_ELEMENTS}"
                    )
    except Exception:  # corrupt input: tbparse raises its own error for it
        return None
    return None


def read_event_file(path: Path) -> pd.DataFrame:
    reason = oversized_tensor(path)
    if reason is not None:
        raise ValueError(reason)
    with tensorflow_hidden(), warnings.catch_warnings():
        # tbparse 0.0.9 calls sort_values(inplace=True), which pandas 3.1 deprecates.
        warnings.simplefilter("ignore", DeprecationWarning)
        reader = SummaryReader(str(path), pivot=False, extra_columns={"wall_time"})
        return reader.tensors


def read_events(root: Path) -> EventTable:
    """Read every event file under ``root``; an unreadable file is listed, not fatal."""
    frames = []
    unreadable = []
    for path in find_event_files(root):
        relative = path.relative_to(root)
        try:
            frame = read_event_file(path)
        except Exception as error:  # tbparse raises many types on corrupt input
            logger.warning("Cannot read event file %s: %s", relative, error)
            unreadable.append(UnreadableFile(relative.as_posix(), repr(error)))
            continue
        if frame.empty:
            continue
        frame = frame.assign(
            folder=relative.parent.as_posix(), file=relative.as_posix()
        )
        frames.append(frame[COLUMNS])

    if frames:
        table = pd.concat(frames, ignore_index=True)
    else:
        table = pd.DataFrame({name: pd.Series(dtype=object) for name in COLUMNS})
    return EventTable(root, table, tuple(unreadable))
