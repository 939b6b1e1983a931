"""Property-based tests for reading folders of damaged or oddly named event files.

An event file is a sequence of TFRecords: an 8-byte little-endian length, the
masked CRC-32C of those 8 bytes, the payload (one serialized Event), and the
masked CRC-32C of the payload. The reader stops at the first record that is
truncated or fails a checksum, so a damaged file yields its records before the
damage. A record whose checksums pass but whose payload is no Event makes
tbparse raise, so read_events lists the file as unreadable.
"""

from __future__ import annotations

import collections
import functools
import os
import struct
import tempfile
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

from grader.events import COLUMNS, EVENT_FILE_MARK, EventTable, read_events

WORKDIR = Path(__file__).resolve().parents[1] / "data" / "reference_run" / "workdir"
REAL_FILES = sorted(WORKDIR.rglob(f"*{EVENT_FILE_MARK}*"))
# No example database, so that a run never replays examples saved by another.
# Hypothesis still caches constants in .hypothesis/, which .gitignore lists.
# A tree example reads up to five files with tbparse, which can exceed
# the default 200 ms deadline on a loaded machine, hence no deadline.
TREE_SETTINGS = settings(max_examples=100, deadline=None, database=None)
FILE_SETTINGS = settings(max_examples=100, deadline=None, database=None)

HEADER_SIZE = 8 + 4
FOOTER_SIZE = 4
# Field number 0 with wire type 7 is invalid protobuf, so a record containing this
# payload always fails to parse as an Event.
INVALID_PAYLOAD = b"\x07"

Key = tuple[str, int, float]
Row = tuple[str, int, float, object]
# (path relative to the root, kind, file bytes, index in REAL_FILES or None)
Entry = tuple[PurePosixPath, str, bytes, int | None]


def frame_record(payload: bytes) -> bytes:
    """Wrap `payload` in a TFRecord with valid checksums."""
    length = struct.pack("<Q", len(payload))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + payload
        + struct.pack("<I", masked_crc32c(payload))
    )


def split_records(data: bytes) -> list[bytes]:
    """Return the payloads of an intact event file, checking its framing."""
    payloads = []
    offset = 0
    while offset < len(data):
        (length,) = struct.unpack_from("<Q", data, offset)
        start = offset + HEADER_SIZE
        payloads.append(data[start : start + length])
        offset = start + length + FOOTER_SIZE
    assert offset == len(data), "event file ends inside a record"
    return payloads


def count_whole_records(data: bytes, size: int) -> int:
    """Count the records of an intact event file that end within `size` bytes."""
    count = 0
    end = 0
    for payload in split_records(data):
        end += HEADER_SIZE + len(payload) + FOOTER_SIZE
        if end > size:
            break
        count += 1
    return count


def record_keys(payloads: list[bytes]) -> collections.Counter[Key]:
    """Count the (tag, step, wall_time) of each summary value in the records.

    The protobuf is parsed here without tbparse, so this is an independent
    account of what the reader should return.
    """
    keys: collections.Counter[Key] = collections.Counter()
    for payload in payloads:
        event = Event.FromString(payload)
        for value in event.summary.value:
            keys[(value.tag, event.step, event.wall_time)] += 1
    return keys


def row_keys(rows: collections.Counter[Row]) -> collections.Counter[Key]:
    keys: collections.Counter[Key] = collections.Counter()
    for (tag, step, wall_time, _), count in rows.items():
        keys[(tag, step, wall_time)] += count
    return keys


def hashable_value(value: object) -> object:
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, float):
        # The packed bits make NaN equal to itself and tell 0.0 from -0.0.
        return struct.pack("<d", value)
    return value


def rows_by_file(table: EventTable) -> dict[str, collections.Counter[Row]]:
    """Count each (tag, step, wall_time, value) row of each file in the table."""
    counts: dict[str, collections.Counter[Row]] = collections.defaultdict(
        collections.Counter
    )
    for row in table.frame.itertuples(index=False):
        key = (row.tag, int(row.step), float(row.wall_time), hashable_value(row.value))
        counts[row.file][key] += 1
    return counts


def read_rows(name: str, data: bytes) -> collections.Counter[Row]:
    """Write `data` as one event file in a fresh folder and read its rows."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / name).write_bytes(data)
        table = read_events(Path(folder))
    assert table.unreadable == ()
    return rows_by_file(table).get(name, collections.Counter())


@functools.cache
def original_rows(index: int) -> collections.Counter[Row]:
    path = REAL_FILES[index]
    return read_rows(path.name, path.read_bytes())


def is_utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Names with any character a Linux file name may contain, plus names made of bytes
# that are not UTF-8, which Python decodes to lone surrogates.
UNICODE_NAMES = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="/\x00"),
    min_size=1,
    max_size=12,
)
BYTE_NAMES = st.binary(min_size=1, max_size=12).map(
    lambda name: os.fsdecode(name.replace(b"/", b"_").replace(b"\x00", b"_"))
)
NAMES = st.one_of(UNICODE_NAMES, BYTE_NAMES).filter(
    lambda name: name not in (".", "..") and EVENT_FILE_MARK not in name
)
EVENT_FILE_NAMES = st.builds(
    lambda prefix, suffix: prefix + EVENT_FILE_MARK + suffix,
    st.one_of(st.just(""), NAMES),
    st.one_of(st.just("."), NAMES.map(lambda name: "." + name), st.just("")),
)

# Kinds of event file in a tree.
INTACT = "intact copy"
TRUNCATED = "truncated copy"
FLIPPED = "copy with one bit flipped"
EMPTY = "empty file"
RANDOM = "random bytes"
INVALID = "records ending in an invalid payload"
MUTATED = "records with one byte replaced"
EVENT_FILE_KINDS = (INTACT, TRUNCATED, FLIPPED, EMPTY, RANDOM, INVALID, MUTATED)
# Entries that the reader must skip.
OTHER_FILE = "file without the mark"
MARK_FOLDER = "folder named like an event file"
EMPTY_FOLDER = "empty folder"
MISSING_LINK = "symbolic link to a missing file"
LOOP_LINK = "symbolic link to itself"
SKIPPED_KINDS = (OTHER_FILE, MARK_FOLDER, EMPTY_FOLDER, MISSING_LINK, LOOP_LINK)


@st.composite
def event_file_contents(draw: st.DrawFn, kind: str) -> tuple[bytes, int | None]:
    """Draw the bytes of one event file, with the real file it came from."""
    if kind == EMPTY:
        return b"", None
    if kind == RANDOM:
        return draw(st.binary(max_size=300)), None
    index = draw(st.integers(min_value=0, max_value=len(REAL_FILES) - 1))
    data = REAL_FILES[index].read_bytes()
    if kind == TRUNCATED:
        return data[: draw(st.integers(min_value=0, max_value=len(data)))], index
    if kind == FLIPPED:
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        bit = draw(st.integers(min_value=0, max_value=7))
        flipped = bytearray(data)
        flipped[position] ^= 1 << bit
        return bytes(flipped), index
    payloads = split_records(data)
    if kind == INVALID:
        count = draw(st.integers(min_value=0, max_value=len(payloads)))
        valid_payloads = payloads[:count]
        return b"".join(map(frame_record, [*valid_payloads, INVALID_PAYLOAD])), index
    if kind == MUTATED:
        record = draw(st.integers(min_value=0, max_value=len(payloads) - 1))
        payload = bytearray(payloads[record])
        if payload:
            position = draw(st.integers(min_value=0, max_value=len(payload) - 1))
            payload[position] = draw(st.integers(min_value=0, max_value=255))
        payloads[record] = bytes(payload)
        return b"".join(map(frame_record, payloads)), index
    return data, index


@st.composite
def trees(draw: st.DrawFn) -> list[Entry]:
    """Draw the entries of a folder tree, some of them event files."""
    entries = []
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        folder = PurePosixPath(*draw(st.lists(NAMES, max_size=3)))
        kind = draw(st.sampled_from(EVENT_FILE_KINDS + SKIPPED_KINDS))
        if kind in EVENT_FILE_KINDS:
            name = draw(EVENT_FILE_NAMES)
            data, index = draw(event_file_contents(kind))
        elif kind == OTHER_FILE:
            name = draw(NAMES)
            data, index = REAL_FILES[0].read_bytes(), None
        elif kind in (MARK_FOLDER, MISSING_LINK, LOOP_LINK):
            name, data, index = draw(EVENT_FILE_NAMES), b"", None
        else:
            name, data, index = draw(NAMES), b"", None
        entries.append((folder / name, kind, data, index))
    return entries


def build_tree(root: Path, entries: list[Entry]) -> dict[str, tuple[str, int | None]]:
    """Create the entries under `root` and return the kind and source of each.

    An entry whose path clashes with an earlier one (a file where a folder is
    needed, or the same name twice) is left out.
    """
    created = {}
    for relative, kind, data, index in entries:
        path = root / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind in (MARK_FOLDER, EMPTY_FOLDER):
                path.mkdir()
            elif kind == MISSING_LINK:
                path.symlink_to(root.with_name(root.name + "-missing"))
            elif kind == LOOP_LINK:
                path.symlink_to(path)
            else:
                with path.open("xb") as file:
                    file.write(data)
        except (FileExistsError, NotADirectoryError):
            continue
        created[relative.as_posix()] = (kind, index)
    return created


def check_columns(table: EventTable) -> None:
    assert list(table.frame.columns) == COLUMNS
    for file, folder in zip(table.frame["file"], table.frame["folder"], strict=True):
        assert folder == PurePosixPath(file).parent.as_posix()


@pytest.mark.parametrize("index", range(len(REAL_FILES)))
def test_real_file_read_fully(index: int) -> None:
    # Every summary value in the recorded files is a tensor that tbparse reads,
    # so each one is a row.
    payloads = split_records(REAL_FILES[index].read_bytes())
    assert record_keys(payloads)
    assert row_keys(original_rows(index)) == record_keys(payloads)


@TREE_SETTINGS
@given(entries=trees())
def test_any_tree_read_without_raising(entries: list[Entry]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        created = build_tree(root, entries)
        table = read_events(root)

    check_columns(table)
    rows = rows_by_file(table)
    unreadable = [file.path for file in table.unreadable]
    assert len(unreadable) == len(set(unreadable))
    assert set(rows).isdisjoint(unreadable)
    for path in [*rows, *unreadable]:
        kind, _ = created.get(path, ("not written by the test", None))
        assert kind in EVENT_FILE_KINDS, path

    for path, (kind, index) in created.items():
        if kind == INVALID:
            assert path in unreadable
        elif path in unreadable:
            # TensorBoard's event file loader encodes the path as strict UTF-8.
            assert kind == MUTATED or not is_utf8(path), path
        found = rows.get(path, collections.Counter())
        if kind == INTACT and path not in unreadable:
            assert found == original_rows(index)
        if kind in (TRUNCATED, FLIPPED):
            assert found <= original_rows(index)
        if kind in (EMPTY, RANDOM):
            assert not found


@FILE_SETTINGS
@given(
    index=st.integers(min_value=0, max_value=len(REAL_FILES) - 1),
    data=st.data(),
)
def test_truncated_file_keeps_whole_records(index: int, data: st.DataObject) -> None:
    original = REAL_FILES[index].read_bytes()
    size = data.draw(st.integers(min_value=0, max_value=len(original)))
    whole_records = split_records(original)[: count_whole_records(original, size)]

    truncated = read_rows(REAL_FILES[index].name, original[:size])
    assert row_keys(truncated) == record_keys(whole_records)
    assert truncated <= original_rows(index)


@FILE_SETTINGS
@given(
    index=st.integers(min_value=0, max_value=len(REAL_FILES) - 1),
    data=st.data(),
)
def test_flipped_bit_ends_reading(index: int, data: st.DataObject) -> None:
    original = REAL_FILES[index].read_bytes()
    position = data.draw(st.integers(min_value=0, max_value=len(original) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=7))
    flipped = bytearray(original)
    flipped[position] ^= 1 << bit
    # CRC-32C detects every one-bit error, so the damaged record is dropped
    # along with every record after it.
    records_before = split_records(original)[: count_whole_records(original, position)]

    damaged = read_rows(REAL_FILES[index].name, bytes(flipped))
    assert row_keys(damaged) == record_keys(records_before)
    assert damaged <= original_rows(index)
