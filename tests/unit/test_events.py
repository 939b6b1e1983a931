"""Reading event files: the recorded reference run, odd files, no TensorFlow."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.events import EventTable, read_events, tensorflow_hidden
from tests.recorded_run import RECORDING

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKDIR = RECORDING / "workdir"


@pytest.fixture(scope="module")
def table() -> EventTable:
    return read_events(WORKDIR)


def test_run_folders(table: EventTable) -> None:
    names = [folder.rsplit("_", 1)[0] for folder in table.run_folders()]
    assert names == [
        "logs/basic_test", "logs/custom_metrics_test",
        "logs/lr_0.001", "logs/lr_0.01", "logs/lr_0.1",
    ]  # fmt: skip


def test_keras_train_tags(table: EventTable) -> None:
    (folder,) = [
        f
        for f in table.folders()
        if f.startswith("logs/basic_test_") and f.endswith("/train")
    ]
    tags = table.tags(folder)
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "keras"} <= tags
    assert any(tag.endswith("/kernel/histogram") for tag in tags)


def test_custom_scalars(table: EventTable) -> None:
    steps = [
        step for step, _ in table.scalars("logs/custom_metrics_test", "loss_ratio")
    ]
    assert steps == list(range(10))


def test_text_value_is_nan_scalar(table: EventTable) -> None:
    (folder,) = [
        f
        for f in table.folders()
        if f.startswith("logs/basic_test_") and f.endswith("/train")
    ]
    assert table.scalars(folder, "keras")[0][1] != table.scalars(folder, "keras")[0][1]


def test_empty_folder(tmp_path: Path) -> None:
    table = read_events(tmp_path)
    assert table.frame.empty
    assert table.run_folders() == []
    assert table.scalars("logs", "loss_ratio") == []


def test_truncated_file(tmp_path: Path) -> None:
    source = next((WORKDIR / "logs" / "custom_metrics_test").iterdir())
    target = tmp_path / "logs" / "custom_metrics_test" / source.name
    target.parent.mkdir(parents=True)
    target.write_bytes(source.read_bytes()[:-7])
    table = read_events(tmp_path)
    assert len(table.scalars("logs/custom_metrics_test", "loss_ratio")) < 10


def test_garbage_file(tmp_path: Path) -> None:
    target = tmp_path / "logs" / "run" / "events.out.tfevents.forged"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\x00\xff not an event file " * 50)
    table = read_events(tmp_path)
    assert table.frame.empty or set(table.frame["folder"]) == {"logs/run"}


def test_copy_keeps_values(tmp_path: Path, table: EventTable) -> None:
    shutil.copytree(WORKDIR / "probes", tmp_path / "probes")
    copied = read_events(tmp_path)
    folder = "probes/custom_metrics"
    assert copied.scalars(folder, "loss_ratio") == table.scalars(folder, "loss_ratio")


def test_reading_skips_tensorflow() -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from grader.events import read_events\n"
        f"read_events(Path({str(WORKDIR)!r}))\n"
        "import grader.cli, grader.plugin\n"
        "print('tensorflow' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
        text=True, check=True,
    ).stdout  # fmt: skip
    assert output.strip() == "False"


def write_declared_tensor(path: Path, elements: int) -> None:
    """Write one event whose tensor declares ``elements`` values but stores one."""
    with tensorflow_hidden():
        from tensorboard.compat.proto import (
            event_pb2,
            summary_pb2,
            tensor_pb2,
            tensor_shape_pb2,
            types_pb2,
        )
        from tensorboard.summary.writer.record_writer import RecordWriter

    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=elements)]
    )
    tensor = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_FLOAT, float_val=[1.0], tensor_shape=shape
    )
    value = summary_pb2.Summary.Value(tag="epoch_loss", tensor=tensor)
    event = event_pb2.Event(
        wall_time=1.0, step=0, summary=summary_pb2.Summary(value=[value])
    )
    with path.open("wb") as stream:
        RecordWriter(stream).write(event.SerializeToString())


def test_huge_declared_tensor_unreadable(tmp_path: Path) -> None:
    write_declared_tensor(tmp_path / "events.out.tfevents.1.host", 10**8)
    table = read_events(tmp_path)
    assert table.frame.empty
    (unreadable,) = table.unreadable
    assert "declares a tensor of 100000000 values" in unreadable.error


def test_small_declared_tensor_read(tmp_path: Path) -> None:
    write_declared_tensor(tmp_path / "events.out.tfevents.1.host", 30)
    table = read_events(tmp_path)
    assert table.unreadable == ()
    assert len(table.frame) == 1
