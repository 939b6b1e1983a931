"""Tests for reading and judging the reflection answers."""

from __future__ import annotations

import dataclasses
import encodings
import encodings.aliases
import pkgutil
import random
from pathlib import Path

import pytest

from grader.reflections import (
    QUESTION_COUNT,
    QUESTIONS,
    Answer,
    find_problem,
    read_answers,
)

ROOT = Path(__file__).parents[2]
STARTER = ROOT / "submission" / "tensorboard_starter.py"
REFERENCE = ROOT / "fixtures" / "submissions" / "reference" / "tensorboard_starter.py"
NUMBERS = range(1, QUESTION_COUNT + 1)

GOOD_ANSWERS = {
    1: "The loss jumps up and down and never settles near a minimum.",
    2: "A ratio far below one means the model memorises its training data.",
    3: "Separate folders keep each run apart so the curves never mix.",
    4: "Healthy weights spread smoothly while dead neurons stay stuck at zero.",
}
CODE_ABOVE = 'import os\n\n\ndef main():\n    print("hello")\n\n\n'


def reflection_block(answers: dict[int, str]) -> str:
    """Build a reflection block like the starter's, with the given answer lines."""
    lines = [
        "# " + "=" * 75,
        "# REFLECTION QUESTIONS",
        "# Write each answer in your own words on the comment lines after its line.",
        "# " + "=" * 75,
        "#",
    ]
    for number, question in enumerate(QUESTIONS, start=1):
        lines.append(f"# Q{number}: {question}")
        if number in answers:
            lines.append(f"# A{number}: {answers[number]}")
        lines.append("#")
    return "\n".join(lines) + "\n"


def read_text(text: str) -> dict[int, Answer]:
    return read_answers(text.encode("utf-8"))


def test_reference_file_has_four_answers() -> None:
    answers = read_answers(REFERENCE.read_bytes())
    assert sorted(answers) == [1, 2, 3, 4]


@pytest.mark.parametrize("number", NUMBERS)
def test_reference_answer_counts(number: int) -> None:
    answers = read_answers(REFERENCE.read_bytes())
    assert find_problem(number, answers) is None


@pytest.mark.parametrize("number", NUMBERS)
def test_starter_answer_is_placeholder(number: int) -> None:
    answers = read_answers(STARTER.read_bytes())
    problem = find_problem(number, answers)
    assert problem is not None
    assert problem.startswith(f"Answer {number} is a placeholder")
    assert "found 'TODO'" in problem
    assert f"'# A{number}:'" in problem


def test_starter_answer_lines() -> None:
    lines = STARTER.read_text(encoding="utf-8").splitlines()
    answers = read_answers(STARTER.read_bytes())
    for number, answer in answers.items():
        assert lines[answer.line - 1] == f"# A{number}: TODO"


def test_multiline_answer_joined() -> None:
    answers = read_answers(REFERENCE.read_bytes())
    assert answers[3].text == (
        "Each run gets its own folder, so TensorBoard shows them as separate "
        "curves. Runs that share a folder mix their events and the plots zigzag."
    )


def test_indented_continuation_collapsed() -> None:
    text = "# A1: first   part\n#       second\tpart\n#\n#  third part\n"
    answers = read_text(text)
    assert answers[1].text == "first part second part third part"


def test_marker_in_string_ignored() -> None:
    text = (
        'NOTES = """\n# A1: this line sits inside a string literal\n"""\n\n'
        + reflection_block(GOOD_ANSWERS)
    )
    answers = read_text(text)
    assert answers[1].text == GOOD_ANSWERS[1]


def test_marker_in_string_only() -> None:
    text = 'NOTES = """\n# A1: this line sits inside a string literal\n"""\n'
    assert read_text(text) == {}


def test_syntax_error_above_block() -> None:
    text = "def f(:\n    pass\n\n" + reflection_block(GOOD_ANSWERS)
    answers = read_text(text)
    assert {number: answer.text for number, answer in answers.items()} == (GOOD_ANSWERS)


def test_unterminated_string_above_block() -> None:
    text = 'x = """this string is never closed\n\n' + reflection_block(GOOD_ANSWERS)
    answers = read_text(text)
    assert {number: answer.text for number, answer in answers.items()} == (GOOD_ANSWERS)


def test_unclosed_bracket_below_block() -> None:
    text = reflection_block(GOOD_ANSWERS) + "\nvalues = [1, 2,\n"
    answers = read_text(text)
    assert answers[4].text == GOOD_ANSWERS[4]


def test_bad_indentation_above_block() -> None:
    text = "if True:\n        x = 1\n    y = 2\n\n" + reflection_block(GOOD_ANSWERS)
    answers = read_text(text)
    assert answers[2].text == GOOD_ANSWERS[2]


def test_nul_after_indented_line() -> None:
    # The C tokenizer of Python 3.12.1 raises SystemError on this NUL byte.
    text = "def main():\n    pass\n\x00\n" + reflection_block(GOOD_ANSWERS)
    answers = read_text(text)
    assert answers[1].text == GOOD_ANSWERS[1]


def test_fallback_without_header() -> None:
    text = 'x = """never closed\n\n# Q1: What?\n# A1: ' + GOOD_ANSWERS[1] + "\n"
    answers = read_text(text)
    assert answers[1].text == GOOD_ANSWERS[1]


def test_fallback_keeps_line_numbers() -> None:
    text = "def f(:\n    pass\n\n# Q1: What?\n# A1: " + GOOD_ANSWERS[1] + "\n"
    answers = read_text(text)
    assert answers[1].line == 5


def test_non_utf8_bytes_read() -> None:
    source = b"# broken bytes \xff\xfe here\n" + reflection_block(GOOD_ANSWERS).encode()
    answers = read_answers(source)
    assert answers[1].text == GOOD_ANSWERS[1]


def test_non_utf8_answer_replaced() -> None:
    source = b"# A1: The caf\xe9 loss curve jumps around a lot.\n"
    answers = read_answers(source)
    assert answers[1].text == "The caf\ufffd loss curve jumps around a lot."


def test_encoding_cookie_used() -> None:
    source = b"# -*- coding: latin-1 -*-\n# A1: The caf\xe9 loss curve jumps a lot.\n"
    answers = read_answers(source)
    assert answers[1].text == "The caf\xe9 loss curve jumps a lot."


@pytest.mark.parametrize("codec", ["idna", "punycode", "undefined"])
def test_cookie_codec_failing_falls_back(codec: str) -> None:
    # These codecs raise UnicodeError on errors="replace" or on non-ASCII bytes.
    cookie = f"# -*- coding: {codec} -*-\n".encode()
    source = cookie + f"# A1: {GOOD_ANSWERS[1]}\n".encode() + b"# \xff\n"
    answers = read_answers(source)
    assert answers[1].text == GOOD_ANSWERS[1] + " \ufffd"


# The unicode_escape codec warns about the backslash escapes in bytes 0 to 255.
@pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")
def test_any_cookie_codec_no_crash() -> None:
    codecs = {module.name for module in pkgutil.iter_modules(encodings.__path__)}
    codecs |= set(encodings.aliases.aliases)
    body = f"# A1: {GOOD_ANSWERS[1]}\n".encode() + bytes(range(256))
    for codec in sorted(codecs):
        answers = read_answers(f"# -*- coding: {codec} -*-\n".encode() + body)
        assert set(answers) <= set(NUMBERS), codec


def test_byte_order_mark_skipped() -> None:
    source = b"\xef\xbb\xbf# A1: " + GOOD_ANSWERS[1].encode() + b"\n"
    answers = read_answers(source)
    assert answers[1].text == GOOD_ANSWERS[1]


def test_crlf_line_endings() -> None:
    text = reflection_block(GOOD_ANSWERS).replace("\n", "\r\n")
    answers = read_text(text)
    assert answers[2].text == GOOD_ANSWERS[2]


def test_empty_bytes_no_answers() -> None:
    assert read_answers(b"") == {}


def test_random_bytes_never_raise() -> None:
    generator = random.Random(20240601)
    block = reflection_block(GOOD_ANSWERS).encode()
    for _ in range(300):
        noise = generator.randbytes(generator.randrange(0, 120))
        for source in (noise, noise + b"\n" + block, b'"""\n' + block + noise):
            answers = read_answers(source)
            problems = [find_problem(number, answers) for number in NUMBERS]
            assert len(problems) == QUESTION_COUNT


def test_missing_answer_flagged() -> None:
    answers = read_text(reflection_block({1: GOOD_ANSWERS[1], 2: GOOD_ANSWERS[2]}))
    problem = find_problem(3, answers)
    assert problem is not None
    assert problem.startswith("Answer 3 is missing")
    assert "'# A3:'" in problem


def test_empty_answer_flagged() -> None:
    answers = read_text("# A2:\n#\n")
    problem = find_problem(2, answers)
    assert answers[2].text == ""
    assert problem is not None
    assert problem.startswith("Answer 2 is empty")


@pytest.mark.parametrize(
    "placeholder",
    [
        "TODO",
        "todo.",
        "TBD",
        "FIXME",
        "Your answer here",
        "<answer here>",
        "...",
        "-",
        "n/a",
        "None",
        "xxx",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
        "TODO: write this",
        "TODO - finish after the run",
    ],
)
def test_placeholder_flagged(placeholder: str) -> None:
    answers = read_text(f"# A1: {placeholder}\n")
    problem = find_problem(1, answers)
    assert problem is not None
    assert problem.startswith("Answer 1 is a placeholder")


def test_todo_before_answer_flagged() -> None:
    answers = read_text(f"# A1: TODO {GOOD_ANSWERS[1]}\n")
    problem = find_problem(1, answers)
    assert problem is not None
    assert problem.startswith("Answer 1 is a placeholder")


def test_long_todo_note_flagged() -> None:
    answers = read_text("# A1: TODO: write this after the runs are done\n")
    assert find_problem(1, answers) is not None


def test_short_answer_flagged() -> None:
    answers = read_text("# A4: It goes up.\n")
    problem = find_problem(4, answers)
    assert problem is not None
    assert problem.startswith("Answer 4 is too short")
    assert "found 'It goes up.', which has 3 words" in problem


def test_numbers_not_counted_as_words() -> None:
    answers = read_text("# A1: Loss 0.1 2.5 3 4 5 6\n")
    problem = find_problem(1, answers)
    assert problem is not None
    assert "which has 1 word." in problem


@pytest.mark.parametrize("number", NUMBERS)
def test_copied_question_flagged(number: int) -> None:
    answers = read_text(f"# A{number}: {QUESTIONS[number - 1]}\n")
    problem = find_problem(number, answers)
    assert problem is not None
    assert problem.startswith(f"Answer {number} repeats question {number}")


def test_question_words_only_flagged() -> None:
    answers = read_text("# A1: the learning rate is too high\n")
    problem = find_problem(1, answers)
    assert problem is not None
    assert problem.startswith("Answer 1 repeats question 1")


def test_copied_question_quote_shortened() -> None:
    answers = read_text(f"# A4: {QUESTIONS[3]}\n")
    problem = find_problem(4, answers)
    assert problem is not None
    assert "found 'In the Distributions tab, what do healthy weight...'" in problem


def test_duplicate_answers_both_flagged() -> None:
    answers = read_text(
        reflection_block({**GOOD_ANSWERS, 3: GOOD_ANSWERS[2].lower() + "!"})
    )
    problem_2 = find_problem(2, answers)
    problem_3 = find_problem(3, answers)
    assert problem_2 is not None
    assert problem_2.startswith("Answer 2 is the same as answer 3")
    assert problem_3 is not None
    assert problem_3.startswith("Answer 3 is the same as answer 2")


def test_near_duplicate_flagged() -> None:
    similar = GOOD_ANSWERS[1].replace("never", "rarely")
    answers = read_text(reflection_block({**GOOD_ANSWERS, 2: similar}))
    problem = find_problem(2, answers)
    assert problem is not None
    assert problem.startswith("Answer 2 is the same as answer 1")


def test_distinct_answers_count() -> None:
    answers = read_text(reflection_block(GOOD_ANSWERS))
    assert [find_problem(number, answers) for number in NUMBERS] == [None] * 4


@pytest.mark.parametrize(
    "marker",
    ["# Answer 3:", "# answer3:", "# A3 -", "# A3.", "#A3:", "# a 3 :", "# A3)"],
)
def test_marker_spelling_accepted(marker: str) -> None:
    answers = read_text(f"{marker} {GOOD_ANSWERS[3]}\n")
    assert answers[3].text == GOOD_ANSWERS[3]


@pytest.mark.parametrize(
    "continuation", ["#     a 1.5 ratio is fine", "#     a 1-d array here"]
)
def test_numbers_in_text_no_marker(continuation: str) -> None:
    answers = read_text(f"# A2: {GOOD_ANSWERS[2]}\n{continuation}\n")
    assert answers[2].text.endswith(continuation.lstrip("# "))


def test_question_spelling_ends_answer() -> None:
    text = f"# A1: {GOOD_ANSWERS[1]}\n# Question 2: Why?\n#     More question.\n"
    answers = read_text(text)
    assert answers[1].text == GOOD_ANSWERS[1]


def test_answers_any_order() -> None:
    text = "".join(f"# A{number}: {GOOD_ANSWERS[number]}\n" for number in (3, 1, 4, 2))
    answers = read_text(text)
    assert {number: answer.text for number, answer in answers.items()} == (GOOD_ANSWERS)
    assert answers[3].line == 1
    assert answers[2].line == 4


def test_first_marker_wins() -> None:
    text = f"# A1: {GOOD_ANSWERS[1]}\n\n# A1: TODO\n"
    answers = read_text(text)
    assert answers[1].text == GOOD_ANSWERS[1]


def test_answer_ends_before_code() -> None:
    text = f"# A1: {GOOD_ANSWERS[1]}\nx = 1  # not part of it\n# later comment\n"
    answers = read_text(text)
    assert answers[1].text == GOOD_ANSWERS[1]


def test_answer_ends_at_blank_line() -> None:
    text = f"# A1: {GOOD_ANSWERS[1]}\n\n# Unrelated comment.\n"
    answers = read_text(text)
    assert answers[1].text == GOOD_ANSWERS[1]


def test_answer_ends_at_rule_line() -> None:
    text = f"# A1: {GOOD_ANSWERS[1]}\n# =====\n# Unrelated comment.\n"
    answers = read_text(text)
    assert answers[1].text == GOOD_ANSWERS[1]


def test_answer_below_code_read() -> None:
    text = CODE_ABOVE + reflection_block(GOOD_ANSWERS)
    answers = read_text(text)
    assert answers[1].line == CODE_ABOVE.count("\n") + 7


def test_trailing_comment_no_marker() -> None:
    assert read_text(f"x = 1  # A1: {GOOD_ANSWERS[1]}\n") == {}


def test_out_of_range_marker_ignored() -> None:
    answers = read_text(f"# A5: {GOOD_ANSWERS[1]}\n")
    assert answers == {}


def test_find_problem_rejects_number() -> None:
    with pytest.raises(ValueError, match="out of range"):
        find_problem(5, {})


def test_answer_is_frozen() -> None:
    answer = Answer(1, "text", 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.text = "other"  # type: ignore[misc]


def test_long_word_quote_cut() -> None:
    answers = read_text("# A1: " + "x" * 80 + " y\n")
    problem = find_problem(1, answers)
    assert problem is not None
    assert f"found '{'x' * 57}...'" in problem


def test_spanish_todo_counts() -> None:
    text = "# A1: Todo el entrenamiento oscila mucho y la perdida no baja.\n"
    assert find_problem(1, read_text(text)) is None


def test_lowercase_todo_colon_flagged() -> None:
    text = "# A1: todo: the loss drops fast and then jumps around\n"
    assert find_problem(1, read_text(text)) is not None


def test_japanese_answer_counts() -> None:
    text = "# A1: 損失曲線は大きく振動して収束しない\n"
    assert find_problem(1, read_text(text)) is None


@pytest.mark.parametrize(
    "text",
    [
        "I have no idea about this one.",
        "Sorry, I did not get to it.",
        "Not sure what to write here honestly.",
        "I don't know the answer to this.",
    ],
)
def test_short_non_answer_rejected(text: str) -> None:
    answers = read_text(reflection_block({**GOOD_ANSWERS, 2: text}))
    problem = find_problem(2, answers)
    assert problem is not None
    assert "has no answer yet" in problem


def test_long_answer_with_doubt_counts() -> None:
    text = (
        "Not sure, but the ratio fell below 0.7 after epoch six while the "
        "validation loss rose, which looks like overfitting."
    )
    answers = read_text(reflection_block({**GOOD_ANSWERS, 2: text}))
    assert find_problem(2, answers) is None
