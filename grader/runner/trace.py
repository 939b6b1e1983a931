"""Read the trace that a task group's driver writes, as untrusted data.

The driver shares its process with the student's code, which can write to the
trace pipe too. So every line is bounded in length, parsed as JSON only, and
reduced to the fields and types the grader reads. A line that does not fit is
dropped, and the events of a group after the first MAX_EVENTS are discarded.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from typing import IO

logger = logging.getLogger(__name__)

# The reference solution's longest trace line is under 2 KB and its trace has
# about 200 events per group.
MAX_LINE_CHARS = 1_000_000
MAX_EVENTS = 50_000


def read_events(stream: IO[str], group: str) -> Iterator[dict]:
    """Yield the valid events of a trace stream, at most MAX_EVENTS of them."""
    count = 0
    for line in bounded_lines(stream, group):
        event = parse_event(line)
        if event is None:
            logger.warning("Ignoring a malformed trace line from %s", group)
            continue
        count += 1
        if count > MAX_EVENTS:
            logger.warning("Ignoring the trace of %s after %d events", group, count)
            drain(stream)
            return
        yield event


def bounded_lines(stream: IO[str], group: str) -> Iterator[str]:
    """Yield each line of at most MAX_LINE_CHARS; skip longer lines whole."""
    while True:
        line = stream.readline(MAX_LINE_CHARS)
        if not line:
            return
        if len(line) == MAX_LINE_CHARS and not line.endswith("\n"):
            logger.warning("Ignoring a trace line too long to read from %s", group)
            while line and not line.endswith("\n"):
                line = stream.readline(MAX_LINE_CHARS)
            continue
        yield line


def drain(stream: IO[str]) -> None:
    """Discard the rest of the stream, so that the writer never waits on a full pipe."""
    while stream.read(MAX_LINE_CHARS):
        pass


def parse_event(line: str) -> dict | None:
    """Return the event on one trace line with its fields checked, or None."""
    try:
        event = clean_text(json.loads(line))
    except (ValueError, RecursionError):
        return None
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return None
    try:
        event["time"] = float(event["time"])
        event["step"] = str(event.get("step", ""))
        if event["event"] == "epoch_end":
            event["epoch"] = int(event["epoch"])
            event["logs"] = numbers_only(event.get("logs"))
        elif event["event"] == "fit_start":
            event["epochs"] = int(event.get("epochs") or 0)
            callbacks = event.get("callbacks")
            event["callbacks"] = [
                callback for callback in callbacks or [] if isinstance(callback, dict)
            ]
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(event["time"]):
        return None
    return event


def numbers_only(logs: object) -> dict[str, float]:
    """Return the entries of a logs mapping whose values are numbers."""
    if not isinstance(logs, dict):
        return {}
    numbers = {}
    for key, value in logs.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers[str(key)] = float(value)
    return numbers


def clean_text(value: object) -> object:
    """Return ``value`` with every string made valid UTF-8 (lone surrogates replaced).

    JSON can spell a lone surrogate ("\\udcff"), which no UTF-8 report file
    can hold.
    """
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [clean_text(item) for item in value]
    if isinstance(value, dict):
        return {str(clean_text(key)): clean_text(item) for key, item in value.items()}
    return value
