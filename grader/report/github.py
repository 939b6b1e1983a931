"""GitHub Classroom and GitHub Actions output, rendered from a GradeResult.

classroom_payload    the base64 JSON that GitHub Classroom's grading reporter reads
step_summary         a Markdown table for $GITHUB_STEP_SUMMARY
annotations          ::error workflow commands placed on the student's file
wrap_in_stop_commands, commands_stopped
                     keep text the student influenced from issuing commands
write_github_outputs result= to $GITHUB_OUTPUT, the table to $GITHUB_STEP_SUMMARY

The formats were read in these sources (repository, commit, file):

classroom-resources/autograding-grading-reporter, tag v1 at d13b5912daf5 (the
dist/main.js that v1 runs) and main at 43c2d9f524d3 (src/main.js,
src/notify-classroom.js, src/console-results.js, src/helpers/test-helpers.js):
- For each id in its `runners` input it reads the variable
  `<ID uppercased>_RESULTS`, decodes it with Buffer.from(value, "base64") as
  UTF-8 and parses the JSON.
- The points it gives GitHub Classroom: for each runner with a non-zero
  max_score it adds max_score to the maximum and every test's `score` to the
  total, then prints the notice "Points <total>/<maximum>" titled "Autograding
  complete". Its console table shows (passed tests / tests) * max_score
  instead, which differs from the points when checks carry unequal points.
- It fails its step when the top-level status is "fail" or "error".
- In the log it prints each test's name, " - line <line_no>" unless line_no is
  0, the message of a test whose status is "error", and test_code when it is
  not empty.
classroom-resources/autograding-io-grader at 0b167f28d740 (v1 at 059171be2cf0,
same src/main.js) writes version 1 with tests of name, status, message,
test_code, filename, line_no, execution_time ("<seconds>s") and score. It sets
the base64 of the JSON as the step output `result` (core.setOutput).
classroom-resources/autograding-command-grader at 7712c71cba0d (v1 at
d5b3fa6f50f7, same src/main.js): the same fields with `duration` for
execution_time. classroom-resources/autograding-python-grader at 6599fc9a86b7
(v1 at e7b43bb6c646), bin/run.sh: `echo "result=$(jq -c . results.json | jq -sRr
@base64)" >> "$GITHUB_OUTPUT"`, the form write_github_outputs uses.
actions/toolkit at 4b9afa4c890d, packages/core/src/command.ts: command data
escapes % \\r \\n as %25 %0D %0A, properties also : and , as %3A %2C;
docs/problem-matchers.md: at most 10 error annotations a step, 50 a job.
actions/runner at 258d6c857db3: src/Runner.Common/ActionCommand.cs reads a line
as a command when it starts with "::" once leading white space is trimmed, or
when it contains "##[" anywhere (the older form), and unescapes % last;
src/Runner.Worker/ActionCommandManager.cs: after ::stop-commands::<token> no
command runs until ::<token>::, and the token may be neither empty, nor a
command name, nor "pause-logging".
"""

from __future__ import annotations

import ast
import base64
import json
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TextIO

from grader.reflections import read_answers
from grader.result import CheckResult, GradeResult
from grader.rubric import RUBRIC

RUNNER_ID = "grade"
PAYLOAD_VERSION = 1
RUN_STATUS = {0: "pass", 1: "fail", 2: "error"}
TEST_STATUS = {"passed": "pass", "failed": "fail", "error": "error"}
SUMMARY_STATUS = {"passed": "✅ passed", "failed": "❌ failed", "error": "⚠️ error"}
MAX_ANNOTATIONS = 10
# The payload reaches the reporter as one environment variable. Linux rejects a
# variable longer than MAX_ARG_STRLEN (32 pages, 128 KiB with 4 KiB pages).
PAYLOAD_LIMIT_BYTES = 100_000
PAYLOAD_MESSAGE_CHARS = 800
SUMMARY_MESSAGE_CHARS = 2_000
ANNOTATION_MESSAGE_CHARS = 2_000
ELLIPSIS = " …"
SAME_REASON = "(same reason as above)"
# A zero-width space inside a leading "::" or any "##[" keeps a line from being
# read as a command. U+200B is in category Cf, which .NET's Char.IsWhiteSpace
# (and so TrimStart) does not count as white space.
ZERO_WIDTH_SPACE = "\u200b"
RUBRIC_ORDER = {item.id: index for index, item in enumerate(RUBRIC)}

# The functions and classes that each check is about, by part and by check id.
# The first name found in the student's file gives the line.
PART_ANCHORS: dict[str, tuple[str, ...]] = {
    "callback": ("create_tensorboard_callback", "basic_test"),
    "custom_metrics": ("CustomMetricsCallback", "custom_metrics_test"),
    "comparison": ("compare_learning_rates",),
    "layout": ("create_tensorboard_callback",),
}
CHECK_ANCHORS: dict[str, tuple[str, ...]] = {
    "basic_run_curves": ("basic_test", "create_tensorboard_callback"),
    "basic_run_histograms": ("basic_test", "create_tensorboard_callback"),
    "basic_run_model_description": ("basic_test", "create_tensorboard_callback"),
    "custom_run_curves": ("custom_metrics_test", "CustomMetricsCallback"),
}
REFLECTION_PREFIX = "reflection_"

_DEFINITION_RE = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+([^\W\d]\w*)")
_REFLECTION_HEADER_RE = re.compile(r"^[ \t]*#.*reflection\s+questions", re.I)
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
_ANSI_ESCAPE_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Characters with a meaning in GitHub's Markdown inside a table cell: the cell
# separator, escapes, code, emphasis, links, HTML and entities, emoji codes,
# mentions, issue references and math. Numeric references make them text.
_MARKDOWN_SPECIAL = frozenset("\\`*_~[]!<>&:@#$|^")


# ---------------------------------------------------------------- Classroom


def classroom_results(
    result: GradeResult, submission_source: str = "", path_in_repo: str = ""
) -> dict:
    """Return the JSON object the grading reporter reads, as a dict.

    With the student's source, each test names the line its check points to.
    """
    lines = check_lines(result.checks, submission_source) if submission_source else {}
    tests = [
        _classroom_test(check, result, lines, path_in_repo) for check in result.checks
    ]
    return {
        "version": PAYLOAD_VERSION,
        "status": RUN_STATUS[result.exit_code],
        "max_score": result.maximum,
        "tests": tests,
    }


def classroom_payload(
    result: GradeResult, submission_source: str = "", path_in_repo: str = ""
) -> str:
    """Return the base64 of the reporter's JSON, for `<RUNNER ID>_RESULTS`.

    Messages are shortened, or left out if the payload would still be too long
    for an environment variable.
    """
    results = classroom_results(result, submission_source, path_in_repo)
    payload = _encode(results)
    if len(payload) > PAYLOAD_LIMIT_BYTES:
        for test in results["tests"]:
            test["message"] = ""
        payload = _encode(results)
    return payload


def _encode(results: dict) -> str:
    text = json.dumps(results, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _classroom_test(
    check: CheckResult,
    result: GradeResult,
    lines: Mapping[str, int],
    path_in_repo: str,
) -> dict:
    line = lines.get(check.id, 0)
    message = "" if check.status == "passed" else check.message
    return {
        "name": inert_text(f"{check.title} ({check.points}/{check.max_points})"),
        "status": TEST_STATUS.get(check.status, "error"),
        "score": check.points,
        "message": inert_text(shorten(message, PAYLOAD_MESSAGE_CHARS)),
        "line_no": line,
        "test_code": "",
        "filename": path_in_repo if line else "",
        "execution_time": f"{_group_duration(result, check.part):.3f}s",
    }


def _group_duration(result: GradeResult, part: str) -> float:
    """Return the wall time of the task group whose run the check reads, or 0."""
    durations = {task.group: task.duration_s for task in result.tasks}
    return durations.get(part, 0.0)


def inert_text(text: str) -> str:
    """Return text in which no line is a workflow command for GitHub's runner.

    The reporter prints test names and some messages to the log, so a line of
    the student's output there could otherwise add a notice with made-up
    points.
    """
    lines = _LINE_BREAK_RE.split(text)
    return "\n".join(_inert_line(line) for line in lines)


def _inert_line(line: str) -> str:
    line = line.replace("##[", "#" + ZERO_WIDTH_SPACE + "#[")
    stripped = line.lstrip()
    if stripped.startswith("::"):
        start = len(line) - len(stripped)
        line = line[: start + 1] + ZERO_WIDTH_SPACE + line[start + 1 :]
    return line


def shorten(text: str, limit: int) -> str:
    """Return text cut to at most limit characters, ending in " …" when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)] + ELLIPSIS


# ------------------------------------------------------------- Step summary


def step_summary(result: GradeResult) -> str:
    """Return a Markdown report: the score, then one table row per check."""
    lines = [f"## Autograding: {result.total}/{result.maximum} points", ""]
    if result.grader_error is not None:
        error = markdown_cell(shorten(result.grader_error, SUMMARY_MESSAGE_CHARS))
        lines += [f"**The grader failed:** {error}", ""]
    lines += ["| Check | Points | Status | Message |", "| --- | ---: | --- | --- |"]
    previous = None
    for check in sorted(result.checks, key=_rubric_position):
        lines.append(_summary_row(check, previous))
        if check.status != "passed":
            previous = check.message
    return "\n".join(lines) + "\n"


def _rubric_position(check: CheckResult) -> int:
    return RUBRIC_ORDER.get(check.id, len(RUBRIC))


def _summary_row(check: CheckResult, previous: str | None) -> str:
    message = "" if check.status == "passed" else check.message
    if message and message == previous:
        message = SAME_REASON
    cells = (
        markdown_cell(check.title),
        f"{check.points}/{check.max_points}",
        SUMMARY_STATUS.get(check.status, markdown_cell(check.status)),
        markdown_cell(shorten(message, SUMMARY_MESSAGE_CHARS)),
    )
    return "| " + " | ".join(cells) + " |"


def markdown_cell(text: str) -> str:
    """Escape text for one cell of a GitHub Markdown table, so it renders as text.

    Line breaks become <br>, every character with a Markdown or HTML meaning a
    numeric character reference, and other control characters spaces.
    """
    text = _CONTROL_RE.sub(" ", plain_text(text).replace("\t", " "))
    return "<br>".join(_escape_markdown(line) for line in text.split("\n"))


def plain_text(text: str) -> str:
    """Remove ANSI escape sequences and use \\n line ends."""
    return _LINE_BREAK_RE.sub("\n", _ANSI_ESCAPE_RE.sub("", text))


def _escape_markdown(line: str) -> str:
    return "".join(f"&#{ord(c)};" if c in _MARKDOWN_SPECIAL else c for c in line)


# -------------------------------------------------------------- Annotations


@dataclass(frozen=True)
class _Annotation:
    line: int
    message: str
    checks: tuple[CheckResult, ...]

    @property
    def points_lost(self) -> int:
        return sum(check.max_points - check.points for check in self.checks)


def annotations(
    result: GradeResult, submission_source: str, path_in_repo: str
) -> list[str]:
    """Return ::error commands for the failed checks, at most MAX_ANNOTATIONS.

    Failed checks with the same message at the same line share one annotation.
    The annotations that cost the most points come first.
    """
    failed = [check for check in result.checks if check.status == "failed"]
    lines = check_lines(failed, submission_source)
    groups: dict[tuple[int, str], list[CheckResult]] = {}
    for check in sorted(failed, key=_rubric_position):
        groups.setdefault((lines.get(check.id, 1), check.message), []).append(check)
    found = [
        _Annotation(line, msg, tuple(group)) for (line, msg), group in groups.items()
    ]
    found.sort(key=lambda item: -item.points_lost)
    return [_error_command(item, path_in_repo) for item in found[:MAX_ANNOTATIONS]]


def _error_command(annotation: _Annotation, path_in_repo: str) -> str:
    checks = annotation.checks
    if len(checks) == 1:
        check = checks[0]
        title = f"{check.title} ({check.points}/{check.max_points} points)"
        message = check.message
    else:
        title = f"{len(checks)} checks failed, {annotation.points_lost} points lost"
        names = "\n".join(f"- {c.title} ({c.points}/{c.max_points})" for c in checks)
        message = f"{annotation.message}\n\nChecks:\n{names}"
    properties = {"file": path_in_repo, "line": str(annotation.line), "title": title}
    message = shorten(plain_text(message), ANNOTATION_MESSAGE_CHARS)
    return workflow_command("error", properties, message)


def workflow_command(name: str, properties: Mapping[str, str], message: str) -> str:
    """Return `::name key=value,...::message` with GitHub's escaping."""
    pairs = ",".join(
        f"{key}={escape_property(value)}" for key, value in properties.items()
    )
    head = f"{name} {pairs}" if pairs else name
    return f"::{head}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """Escape the data of a workflow command as @actions/core's escapeData does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property as @actions/core's escapeProperty does."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def check_lines(checks: Sequence[CheckResult], source: str) -> dict[str, int]:
    """Map check ids to the line of the student's file that each check is about.

    Checks whose function, class or answer is not in the file are left out.
    """
    definitions = definition_lines(source)
    reflections = reflection_lines(source)
    lines: dict[str, int] = {}
    for check in checks:
        line = _check_line(check, definitions, reflections)
        if line is not None:
            lines[check.id] = line
    return lines


def _check_line(
    check: CheckResult, definitions: Mapping[str, int], reflections: Mapping[int, int]
) -> int | None:
    if check.id.startswith(REFLECTION_PREFIX):
        number = check.id.removeprefix(REFLECTION_PREFIX)
        answer_line = reflections.get(int(number)) if number.isdigit() else None
        return answer_line if answer_line is not None else reflections.get(0)
    names = CHECK_ANCHORS.get(check.id, PART_ANCHORS.get(check.part, ()))
    return next((definitions[name] for name in names if name in definitions), None)


def definition_lines(source: str) -> dict[str, int]:
    """Map each function and class name to the line of its first definition.

    The syntax tree is used when the file parses, a text search otherwise.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _scan_definitions(source)
    lines: dict[str, int] = {}
    # ast.walk is breadth first, so top-level definitions come before methods.
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            lines.setdefault(node.name, node.lineno)
    return lines


def _scan_definitions(source: str) -> dict[str, int]:
    """Find `def` and `class` lines by text, preferring unindented ones to methods."""
    found: dict[str, tuple[bool, int]] = {}
    for number, line in enumerate(_LINE_BREAK_RE.split(source), start=1):
        match = _DEFINITION_RE.match(line)
        if match:
            key = (line[:1] in " \t", number)
            found[match.group(1)] = min(found.get(match.group(1), key), key)
    return {name: number for name, (_, number) in found.items()}


def reflection_lines(source: str) -> dict[int, int]:
    """Map each answer number to the line of its `# A<n>:` marker.

    Key 0 maps to the line of the reflection questions' header, if there is one.
    """
    answers = read_answers(source.encode("utf-8", errors="replace"))
    lines = {number: answer.line for number, answer in answers.items()}
    for number, line in enumerate(_LINE_BREAK_RE.split(source), start=1):
        if _REFLECTION_HEADER_RE.match(line):
            lines[0] = number
            break
    return lines


# ------------------------------------------------------------ Stop-commands


def stop_commands_token() -> str:
    """Return a fresh token of 128 random bits, which no printed text can guess."""
    return secrets.token_hex(16)


def wrap_in_stop_commands(text: str, token: str | None = None) -> str:
    """Return text between ::stop-commands::<token> and ::<token>::.

    The runner runs no workflow command that the text contains. Raises
    ValueError when the text contains the token, which would end the pause
    early.
    """
    token = token or stop_commands_token()
    if token in text:
        raise ValueError(
            "invalid stop-commands token: the text contains it; use a fresh token"
        )
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"::stop-commands::{token}\n{body}::{token}::\n"


@contextmanager
def commands_stopped(stream: TextIO) -> Iterator[str]:
    """Pause workflow commands while the block writes to stream; yield the token."""
    token = stop_commands_token()
    stream.write(f"::stop-commands::{token}\n")
    stream.flush()
    try:
        yield token
    finally:
        stream.write(f"::{token}::\n")
        stream.flush()


# ------------------------------------------------------------------ Outputs


def write_github_outputs(
    result: GradeResult,
    environ: Mapping[str, str],
    submission_source: str = "",
    path_in_repo: str = "",
) -> None:
    """Append the step outputs and the step summary to GitHub's files.

    Writes `result`, `total` and `maximum` to the file named by GITHUB_OUTPUT
    and the summary to the one named by GITHUB_STEP_SUMMARY; a variable that
    is unset or empty is skipped. Base64 has no line break, so `name=value`
    lines suffice.
    """
    output = environ.get("GITHUB_OUTPUT")
    if output:
        payload = classroom_payload(result, submission_source, path_in_repo)
        outputs = {"result": payload, "total": result.total, "maximum": result.maximum}
        _append(Path(output), "".join(f"{k}={v}\n" for k, v in outputs.items()))
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        _append(Path(summary), step_summary(result))


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="\n") as file:
        file.write(text)


def path_in_repository(path: str, environ: Mapping[str, str]) -> str:
    """Return path relative to GITHUB_WORKSPACE with / separators, for annotations.

    A path outside the workspace, or any path when the variable is unset, is
    returned as given.
    """
    workspace = environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return PurePath(path).as_posix()
    try:
        relative = Path(path).resolve().relative_to(Path(workspace).resolve())
    except ValueError:
        return PurePath(path).as_posix()
    return relative.as_posix()


def read_submission_source(path: str) -> str:
    """Return the text of the student's file, or "" when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
