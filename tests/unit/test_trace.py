"""Reading the trace pipe as untrusted data: bounds, types, text."""

from __future__ import annotations

import io
import json

from grader.runner import trace


def events_of(text: str) -> list[dict]:
    return list(trace.read_events(io.StringIO(text), "callback"))


def line(**fields: object) -> str:
    return json.dumps(fields) + "\n"


def test_valid_events_kept() -> None:
    text = line(event="fit_start", step="basic_test", time=1.5, epochs=5) + line(
        event="epoch_end", step="basic_test", time=2, epoch=0, logs={"loss": 0.5}
    )
    fit, epoch = events_of(text)
    assert fit["epochs"] == 5
    assert fit["callbacks"] == []
    assert epoch["epoch"] == 0
    assert epoch["logs"] == {"loss": 0.5}


def test_wrong_types_dropped() -> None:
    text = (
        line(event="epoch_end", step="s", time="soon", epoch=0)
        + line(event="epoch_end", step="s", time=1, epoch="x")
        + line(event="fit_start", step="s", time=1, epochs="np.int64(5)")
        + line(event=7, time=1)
        + "[1, 2]\n"
        + "not json\n"
    )
    assert events_of(text) == []


def test_non_numbers_left_out_of_logs() -> None:
    text = line(
        event="epoch_end", time=1, epoch=2, logs={"loss": 0.5, "note": "x", "ok": True}
    )
    (event,) = events_of(text)
    assert event["logs"] == {"loss": 0.5}


def test_long_line_skipped() -> None:
    text = "x" * (trace.MAX_LINE_CHARS * 2 + 5) + "\n" + line(event="done", time=1)
    (event,) = events_of(text)
    assert event["event"] == "done"


def test_deep_nesting_dropped() -> None:
    text = "[" * 100_000 + "\n" + line(event="done", time=1)
    assert [event["event"] for event in events_of(text)] == ["done"]


def test_lone_surrogate_replaced() -> None:
    text = '{"event": "step_end", "time": 1, "message": "\\udcff forged"}\n'
    (event,) = events_of(text)
    assert event["message"] == "? forged"
    event["message"].encode("utf-8")


def test_event_count_bounded(monkeypatch) -> None:
    monkeypatch.setattr(trace, "MAX_EVENTS", 3)
    text = "".join(line(event="epoch_end", time=1, epoch=index) for index in range(10))
    assert [event["epoch"] for event in events_of(text)] == [0, 1, 2]
