"""Tests of the GitHub Classroom payload, step summary, annotations and outputs.

The golden file is tests/unit/golden/step_summary.md. After an intended change
of the format, rewrite it with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from grader.report.github import (
    MAX_ANNOTATIONS,
    PAYLOAD_LIMIT_BYTES,
    RUNNER_ID,
    annotations,
    check_lines,
    classroom_payload,
    commands_stopped,
    escape_data,
    escape_property,
    inert_text,
    markdown_cell,
    path_in_repository,
    read_submission_source,
    step_summary,
    stop_commands_token,
    wrap_in_stop_commands,
    write_github_outputs,
)
from grader.result import CheckResult, GradeResult, TaskRun, errored_checks
from grader.rubric import RUBRIC, RUBRIC_BY_ID, RubricItem

GOLDEN = Path(__file__).parent / "golden" / "step_summary.md"
PATH = "submission/tensorboard_starter.py"
FORGED_NOTICE = "::notice title=Autograding complete::Points 100/100"
SPECIAL_MESSAGE = (
    "Expected 100% of runs under logs/<name>_<YYYYMMDD-HHMMSS>\n"
    "Found: logs/basic | logs/basic\r\n"
    f"{FORGED_NOTICE}\n"
    "  ##[error]printed by the student, with `code`, **bold** and :smile:\n"
    "<script>alert(1)</script> [link](https://example.invalid) @someone #1 $x$"
)
FAILURES = {
    "log_dir_format": SPECIAL_MESSAGE,
    "loss_ratio_value": "Expected loss_ratio = loss / val_loss.\nFound: 0.5.",
    "loss_ratio_zero_val_loss": "Expected loss_ratio = loss / val_loss.\nFound: 0.5.",
    "reflection_2": "Answer 2 is too short: found 'idk', which has 1 word.",
}
ERROR_MESSAGE = "The grader could not read the event files: KeyError: 'step'"
TASKS = (
    TaskRun("callback", "finished", 0, 12.25, "finished in 12.2 s"),
    TaskRun("custom_metrics", "finished", 0, 20.5, "finished in 20.5 s"),
    TaskRun("comparison", "finished", 0, 31.0, "finished in 31.0 s"),
)
SUMMARY_TAGS = {"h2", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "br"}
PAYLOAD_KEYS = {
    "name",
    "status",
    "score",
    "message",
    "line_no",
    "test_code",
    "filename",
    "execution_time",
}
SOURCE = """\
import keras


def create_tensorboard_callback(experiment_name):
    return keras.callbacks.TensorBoard(log_dir="logs")


class Helper:
    def basic_test(self):
        return None


def basic_test():
    create_tensorboard_callback("basic")


class CustomMetricsCallback(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass


def custom_metrics_test():
    pass


def compare_learning_rates():
    pass


# =====================================================================
# REFLECTION QUESTIONS
# =====================================================================
# Q1: What happens to the training curve when the learning rate is too high?
# A1: The loss jumps up and down and never settles on a low value.
# Q2: How does the loss ratio help detect overfitting early?
# Q3: Why use unique timestamps in log directories?
# A3: Runs that share a folder write over each other's curves.
"""
BROKEN_SOURCE = SOURCE.replace("    pass\n", "    pass(\n", 1)


def check(item_id: str, status: str = "passed", message: str = "") -> CheckResult:
    item = RUBRIC_BY_ID[item_id]
    points = item.points if status == "passed" else 0
    return CheckResult(
        item.id, item.title, item.part, points, item.points, status, message
    )


def sample_check(item_id: str, errors: dict[str, str]) -> CheckResult:
    if item_id in errors:
        return check(item_id, "error", errors[item_id])
    if item_id in FAILURES:
        return check(item_id, "failed", FAILURES[item_id])
    return check(item_id)


def sample_result(**errors: str) -> GradeResult:
    """Return a grade with FAILURES failed and the checks named in errors errored."""
    checks = tuple(sample_check(item.id, errors) for item in RUBRIC)
    return GradeResult(PATH, "2024-01-01T12:00:00+00:00", 64.0, checks, TASKS)


def only(*checks: CheckResult) -> GradeResult:
    return replace(full_marks(), checks=checks)


def full_marks() -> GradeResult:
    checks = tuple(check(item.id) for item in RUBRIC)
    return GradeResult(PATH, "2024-01-01T12:00:00+00:00", 64.0, checks, TASKS)


def all_failed(message: str) -> GradeResult:
    checks = tuple(check(item.id, "failed", message) for item in RUBRIC)
    return GradeResult(PATH, "2024-01-01T12:00:00+00:00", 64.0, checks, TASKS)


def decode(payload: str) -> dict:
    return json.loads(base64.b64decode(payload, validate=True).decode("utf-8"))


def payload_test(results: dict, check_id: str) -> dict:
    title = RUBRIC_BY_ID[check_id].title
    return next(test for test in results["tests"] if test["name"].startswith(title))


def line_of(source: str, text: str) -> int:
    lines = source.splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def runner_commands(log: str) -> list[str]:
    """Return the names of the workflow commands GitHub's runner would run.

    A model of ActionCommand.TryParseV2 and TryParse and of the stop-commands
    branch of ActionCommandManager in actions/runner: a command is a line that
    starts with "::" after its leading white space, or that contains "##[" anywhere;
    after ::stop-commands::<token> only ::<token>:: counts, and it resumes.
    """
    names: list[str] = []
    stop_token = None
    for line in log.splitlines():
        name, data = parse_command(line)
        if name is None:
            continue
        if stop_token is not None:
            if name.lower() == stop_token.lower():
                stop_token = None
            continue
        if name == "stop-commands":
            stop_token = data
            continue
        names.append(name)
    return names


def parse_command(line: str) -> tuple[str | None, str]:
    trimmed = line.lstrip()
    end = trimmed.find("::", 2)
    if trimmed.startswith("::") and end >= 0:
        return trimmed[2:end].split(" ", 1)[0], trimmed[end + 2 :]
    start = line.find("##[")
    close = line.find("]", start)
    if start >= 0 and close >= 0:
        return line[start + 3 : close].split(" ", 1)[0], line[close + 1 :]
    return None, ""


def render_markdown(text: str) -> str:
    """Render CommonMark with GitHub's tables, raw HTML allowed as on GitHub."""
    return MarkdownIt("commonmark").enable("table").render(text)


def summary_rows(summary: str) -> list[list[str]]:
    """Render the summary; return each table row's cells as HTML."""
    rendered = render_markdown(summary)
    rows = re.findall(r"<tr>(.*?)</tr>", rendered, re.S)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in rows]


def cell_text(cell: str) -> str:
    return html.unescape(cell.replace("<br>", "\n"))


# ------------------------------------------------------------------ payload


def test_payload_is_base64() -> None:
    assert re.fullmatch(r"[A-Za-z0-9+/]+=*", classroom_payload(sample_result()))


def test_runner_id() -> None:
    assert f"{RUNNER_ID.upper()}_RESULTS" == "GRADE_RESULTS"


def test_payload_version() -> None:
    assert decode(classroom_payload(sample_result()))["version"] == 1


def test_payload_max_score() -> None:
    assert decode(classroom_payload(sample_result()))["max_score"] == 100


def test_scores_sum_to_total() -> None:
    result = sample_result()
    tests = decode(classroom_payload(result))["tests"]
    assert sum(test["score"] for test in tests) == result.total


def test_one_test_per_check() -> None:
    assert len(decode(classroom_payload(sample_result()))["tests"]) == len(RUBRIC)


@pytest.mark.parametrize("item", RUBRIC, ids=lambda item: item.id)
def test_test_fields(item: RubricItem) -> None:
    results = decode(classroom_payload(sample_result()))
    assert set(payload_test(results, item.id)) == PAYLOAD_KEYS


@pytest.mark.parametrize(
    ("result", "status"),
    [
        (full_marks(), "pass"),
        (sample_result(), "fail"),
        (sample_result(comparison_epochs=ERROR_MESSAGE), "error"),
    ],
    ids=["full", "failed", "errored"],
)
def test_run_status(result: GradeResult, status: str) -> None:
    assert decode(classroom_payload(result))["status"] == status


@pytest.mark.parametrize(
    ("check_id", "status"),
    [
        ("callback_type", "pass"),
        ("log_dir_format", "fail"),
        ("comparison_epochs", "error"),
    ],
)
def test_test_status(check_id: str, status: str) -> None:
    result = sample_result(comparison_epochs=ERROR_MESSAGE)
    assert payload_test(decode(classroom_payload(result)), check_id)["status"] == status


def test_grader_error_status() -> None:
    result = GradeResult(PATH, "t", 0.0, errored_checks("boom"), (), "boom")
    assert decode(classroom_payload(result))["status"] == "error"


def test_name_shows_points() -> None:
    test = payload_test(decode(classroom_payload(sample_result())), "log_dir_format")
    assert test["name"].endswith("(0/5)")


def test_failed_message_kept() -> None:
    results = decode(classroom_payload(sample_result()))
    assert payload_test(results, "reflection_2")["message"] == FAILURES["reflection_2"]


def test_passed_message_empty() -> None:
    results = decode(classroom_payload(sample_result()))
    assert payload_test(results, "callback_type")["message"] == ""


def test_execution_time_of_group() -> None:
    results = decode(classroom_payload(sample_result()))
    assert payload_test(results, "comparison_epochs")["execution_time"] == "31.000s"


def test_execution_time_without_group() -> None:
    results = decode(classroom_payload(sample_result()))
    assert payload_test(results, "reflection_1")["execution_time"] == "0.000s"


def test_line_unknown_without_source() -> None:
    results = decode(classroom_payload(sample_result()))
    assert {test["line_no"] for test in results["tests"]} == {0}


def test_line_from_source() -> None:
    results = decode(classroom_payload(sample_result(), SOURCE, PATH))
    test = payload_test(results, "comparison_epochs")
    assert test["line_no"] == line_of(SOURCE, "def compare_learning_rates")


def test_filename_from_source() -> None:
    results = decode(classroom_payload(sample_result(), SOURCE, PATH))
    assert payload_test(results, "comparison_epochs")["filename"] == PATH


def test_filename_empty_without_line() -> None:
    results = decode(classroom_payload(sample_result(), "import keras\n", PATH))
    assert payload_test(results, "comparison_epochs")["filename"] == ""


def test_forged_notice_inert_in_payload() -> None:
    result = all_failed(SPECIAL_MESSAGE)
    messages = "\n".join(
        t["message"] for t in decode(classroom_payload(result))["tests"]
    )
    assert runner_commands(messages) == []


def test_non_ascii_message() -> None:
    result = all_failed("Gefunden: Verlust \u2248 0,5 \u2013 ok \u2705")
    test = decode(classroom_payload(result))["tests"][0]
    assert test["message"] == "Gefunden: Verlust \u2248 0,5 \u2013 ok \u2705"


def test_long_message_shortened() -> None:
    result = all_failed("x" * 50_000)
    test = decode(classroom_payload(result))["tests"][0]
    assert len(test["message"]) < 1_000


def test_payload_fits_variable() -> None:
    result = all_failed("\u2705" * 50_000)
    assert len(classroom_payload(result)) <= PAYLOAD_LIMIT_BYTES


# -------------------------------------------------------------- inert text


def test_inert_leading_colons() -> None:
    assert runner_commands(inert_text(FORGED_NOTICE)) == []


def test_inert_indented_colons() -> None:
    assert runner_commands(inert_text("   \t" + FORGED_NOTICE)) == []


def test_inert_old_form() -> None:
    assert runner_commands(inert_text("text ##[warning]fake")) == []


def test_inert_keeps_plain_text() -> None:
    assert inert_text("Expected: a::b\nFound: c") == "Expected: a::b\nFound: c"


def test_model_sees_forged_notice() -> None:
    assert runner_commands(FORGED_NOTICE) == ["notice"]


# ------------------------------------------------------------- step summary


def test_summary_matches_golden() -> None:
    text = step_summary(sample_result(comparison_epochs=ERROR_MESSAGE))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_summary_score_heading() -> None:
    heading = f"## Autograding: {sample_result().total}/100 points\n"
    assert step_summary(sample_result()).startswith(heading)


def test_summary_row_per_check() -> None:
    assert len(summary_rows(step_summary(sample_result()))) == len(RUBRIC) + 1


def test_summary_four_cells_per_row() -> None:
    rows = summary_rows(step_summary(sample_result()))
    assert {len(row) for row in rows} == {4}


def test_summary_message_renders_as_text() -> None:
    rows = summary_rows(step_summary(sample_result()))
    title = RUBRIC_BY_ID["log_dir_format"].title
    row = next(row for row in rows if cell_text(row[0]) == title)
    assert cell_text(row[3]) == SPECIAL_MESSAGE.replace("\r\n", "\n")


def test_summary_title_renders_as_text() -> None:
    rows = summary_rows(step_summary(sample_result()))
    titles = [cell_text(row[0]) for row in rows[1:]]
    assert titles == [item.title for item in RUBRIC]


def test_summary_has_no_other_html() -> None:
    rendered = render_markdown(step_summary(sample_result()))
    assert set(re.findall(r"<(\w+)", rendered)) <= SUMMARY_TAGS


def test_summary_repeated_message() -> None:
    rows = summary_rows(step_summary(sample_result()))
    title = RUBRIC_BY_ID["loss_ratio_zero_val_loss"].title
    row = next(row for row in rows if cell_text(row[0]) == title)
    assert cell_text(row[3]) == "(same reason as above)"


def test_summary_grader_error() -> None:
    result = GradeResult(PATH, "t", 0.0, errored_checks("boom | `x`"), (), "boom | `x`")
    assert "**The grader failed:** boom &#124; &#96;x&#96;" in step_summary(result)


@pytest.mark.parametrize(
    ("text", "markup"),
    [("a|b", "|"), ("a\nb", "\n"), ("`a`", "`"), ("<b>", "<"), ("*a*", "*"),
     ("[a](b)", "["), ("a\\", "\\"), (":smile:", ":"), ("_a_", "_")],
)  # fmt: skip
def test_cell_escapes(text: str, markup: str) -> None:
    assert markup not in markdown_cell(text)


def test_cell_strips_ansi() -> None:
    assert markdown_cell("\x1b[31mred\x1b[0m") == "red"


# -------------------------------------------------------------- annotations


def test_annotation_on_function() -> None:
    result = only(check("comparison_epochs", "failed", "m"))
    (line,) = annotations(result, SOURCE, PATH)
    assert f",line={line_of(SOURCE, 'def compare_learning_rates')}," in line


@pytest.mark.parametrize(
    ("check_id", "definition"),
    [
        ("callback_type", "def create_tensorboard_callback"),
        ("basic_run_curves", "def basic_test():"),
        ("custom_callback_class", "class CustomMetricsCallback"),
        ("custom_run_curves", "def custom_metrics_test"),
        ("comparison_three_runs", "def compare_learning_rates"),
        ("runs_distinct_folders", "def create_tensorboard_callback"),
        ("reflection_1", "# A1:"),
        ("reflection_3", "# A3:"),
        ("reflection_2", "# REFLECTION QUESTIONS"),
    ],
)
def test_check_line(check_id: str, definition: str) -> None:
    lines = check_lines([check(check_id, "failed", "m")], SOURCE)
    assert lines[check_id] == line_of(SOURCE, definition)


@pytest.mark.parametrize(
    ("check_id", "definition"),
    [
        ("basic_run_curves", "def basic_test():"),
        ("comparison_epochs", "def compare_learning_rates"),
        ("reflection_3", "# A3:"),
    ],
)
def test_check_line_syntax_error(check_id: str, definition: str) -> None:
    lines = check_lines([check(check_id, "failed", "m")], BROKEN_SOURCE)
    assert lines[check_id] == line_of(BROKEN_SOURCE, definition)


def test_missing_function_on_line_one() -> None:
    result = only(check("comparison_epochs", "failed", "m"))
    (line,) = annotations(result, "import keras\n", PATH)
    assert ",line=1," in line


def test_at_most_ten_annotations() -> None:
    result = only(*(check(i.id, "failed", f"reason {i.id}") for i in RUBRIC))
    assert len(annotations(result, SOURCE, PATH)) == MAX_ANNOTATIONS


def test_most_points_first() -> None:
    result = only(*(check(i.id, "failed", f"reason {i.id}") for i in RUBRIC))
    lost = [
        RUBRIC_BY_ID[re.search(r"::reason (\w+)", line).group(1)].points
        for line in annotations(result, SOURCE, PATH)
    ]
    assert lost == sorted(lost, reverse=True)


def test_kept_annotations_most_valuable() -> None:
    result = only(*(check(i.id, "failed", f"reason {i.id}") for i in RUBRIC))
    kept_points = sum(
        RUBRIC_BY_ID[re.search(r"::reason (\w+)", line).group(1)].points
        for line in annotations(result, SOURCE, PATH)
    )
    top_ten = sum(sorted((item.points for item in RUBRIC), reverse=True)[:10])
    assert kept_points == top_ten


def test_same_reason_shares_annotation() -> None:
    result = sample_result()
    lines = [line for line in annotations(result, SOURCE, PATH) if "loss_ratio" in line]
    assert len(lines) == 1


def test_shared_annotation_title() -> None:
    result = sample_result()
    line = next(
        line for line in annotations(result, SOURCE, PATH) if "loss_ratio" in line
    )
    assert "title=2 checks failed%2C 9 points lost::" in line


def test_passed_and_errored_not_annotated() -> None:
    result = sample_result(comparison_epochs=ERROR_MESSAGE)
    assert not [
        line for line in annotations(result, SOURCE, PATH) if "event files" in line
    ]


@pytest.mark.parametrize("line_break", ["\n", "\r"], ids=["lf", "cr"])
def test_annotation_is_one_line(line_break: str) -> None:
    lines = annotations(sample_result(), SOURCE, PATH)
    assert not [line for line in lines if line_break in line]


def test_annotation_data_escaped() -> None:
    result = only(check("log_dir_format", "failed", SPECIAL_MESSAGE))
    (line,) = annotations(result, SOURCE, PATH)
    assert line.endswith("::" + escape_data(SPECIAL_MESSAGE.replace("\r\n", "\n")))


def test_annotation_makes_one_command() -> None:
    result = only(check("log_dir_format", "failed", SPECIAL_MESSAGE))
    assert runner_commands("\n".join(annotations(result, SOURCE, PATH))) == ["error"]


def test_annotation_title_escaped() -> None:
    result = only(check("reflection_2", "failed", "m"))
    (line,) = annotations(result, SOURCE, PATH)
    assert "title=Q2%3A loss ratio and overfitting (0/3 points)::" in line


def test_annotation_file_escaped() -> None:
    result = only(check("reflection_2", "failed", "m"))
    (line,) = annotations(result, SOURCE, "dir,with:odd%name.py")
    assert "file=dir%2Cwith%3Aodd%25name.py," in line


def test_escape_data() -> None:
    assert escape_data("100%\r\n:,") == "100%25%0D%0A:,"


def test_escape_property() -> None:
    assert escape_property("100%\r\n:,") == "100%25%0D%0A%3A%2C"


# ------------------------------------------------------------ stop-commands


def test_token_length() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", stop_commands_token())


def test_tokens_differ() -> None:
    assert stop_commands_token() != stop_commands_token()


def test_wrapped_notice_inert() -> None:
    log = wrap_in_stop_commands(f"Score: 0/100\n{FORGED_NOTICE}\n")
    assert runner_commands(log + "::error::after the block") == ["error"]


def test_wrapped_old_form_inert() -> None:
    log = wrap_in_stop_commands("x ##[error]fake")
    assert runner_commands(log) == []


def test_wrap_keeps_text() -> None:
    assert (
        wrap_in_stop_commands("a\nb", "t0k3n")
        == "::stop-commands::t0k3n\na\nb\n::t0k3n::\n"
    )


def test_wrap_rejects_token_in_text() -> None:
    with pytest.raises(ValueError):
        wrap_in_stop_commands("resume ::t0k3n::", "t0k3n")


def test_commands_stopped_block() -> None:
    stream = io.StringIO()
    with commands_stopped(stream):
        stream.write(FORGED_NOTICE + "\n")
    assert runner_commands(stream.getvalue()) == []


def test_commands_resume_after_block() -> None:
    stream = io.StringIO()
    with commands_stopped(stream):
        stream.write(FORGED_NOTICE + "\n")
    stream.write("::error::after\n")
    assert runner_commands(stream.getvalue()) == ["error"]


# ------------------------------------------------------------------ outputs


def outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_output_result(tmp_path: Path) -> None:
    path = tmp_path / "output"
    write_github_outputs(sample_result(), {"GITHUB_OUTPUT": str(path)})
    assert decode(outputs(path)["result"])["status"] == "fail"


def test_output_total(tmp_path: Path) -> None:
    path = tmp_path / "output"
    write_github_outputs(sample_result(), {"GITHUB_OUTPUT": str(path)})
    assert outputs(path)["total"] == str(sample_result().total)


def test_output_appends(tmp_path: Path) -> None:
    path = tmp_path / "output"
    path.write_text("earlier=1\n", encoding="utf-8")
    write_github_outputs(sample_result(), {"GITHUB_OUTPUT": str(path)})
    assert outputs(path)["earlier"] == "1"


def test_output_lines_single(tmp_path: Path) -> None:
    path = tmp_path / "output"
    write_github_outputs(all_failed("a\nb\n" * 100), {"GITHUB_OUTPUT": str(path)})
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


def test_output_with_source_lines(tmp_path: Path) -> None:
    path = tmp_path / "output"
    write_github_outputs(sample_result(), {"GITHUB_OUTPUT": str(path)}, SOURCE, PATH)
    test = payload_test(decode(outputs(path)["result"]), "comparison_epochs")
    assert test["line_no"] == line_of(SOURCE, "def compare_learning_rates")


def test_summary_written(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    write_github_outputs(sample_result(), {"GITHUB_STEP_SUMMARY": str(path)})
    assert path.read_text(encoding="utf-8") == step_summary(sample_result())


def test_empty_variables_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_github_outputs(
        sample_result(), {"GITHUB_OUTPUT": "", "GITHUB_STEP_SUMMARY": ""}
    )
    assert list(tmp_path.iterdir()) == []


def test_path_in_workspace(tmp_path: Path) -> None:
    environ = {"GITHUB_WORKSPACE": str(tmp_path)}
    path = str(tmp_path / "submission" / "tensorboard_starter.py")
    assert path_in_repository(path, environ) == PATH


def test_path_outside_workspace(tmp_path: Path) -> None:
    environ = {"GITHUB_WORKSPACE": str(tmp_path / "workspace")}
    assert path_in_repository("/elsewhere/file.py", environ) == "/elsewhere/file.py"


def test_path_without_workspace() -> None:
    assert path_in_repository(PATH, {}) == PATH


def test_read_missing_source(tmp_path: Path) -> None:
    assert read_submission_source(str(tmp_path / "missing.py")) == ""


def test_read_source_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "file.py"
    path.write_bytes(b"def basic_test():\xff\n")
    assert read_submission_source(str(path)) == "def basic_test():\ufffd\n"
