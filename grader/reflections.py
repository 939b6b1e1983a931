"""Read the reflection answers at the end of a student's file and judge each one.

The answers are comment lines such as ``# A1: ...`` below the question comments
``# Q1: ...``. Only the standard library is used, so that reading the answers
works even when TensorFlow is missing or the student's code does not import.
"""

from __future__ import annotations

import difflib
import enum
import io
import re
import tokenize
from dataclasses import dataclass

QUESTION_COUNT = 4
QUESTIONS: tuple[str, ...] = (
    "What happens to the training curve when the learning rate is too high (0.1)?",
    (
        "How does the loss ratio help detect overfitting early, and at what value "
        "should you worry?"
    ),
    (
        "Why use unique timestamps in log directories, and what happens when runs "
        "share one?"
    ),
    (
        "In the Distributions tab, what do healthy weight distributions look like, "
        "and what would dead neurons look like?"
    ),
)

MIN_WORDS = 5
QUOTE_LENGTH = 60
COPY_RATIO = 0.8
DUPLICATE_RATIO = 0.9
# SequenceMatcher.ratio is quadratic in the worst case, so only this many
# characters of each normalised text take part in a similarity ratio.
RATIO_CHARACTERS = 2000

# "A1:" may be written without a space after the colon, but "A1." and "A1 -"
# need one, so that text such as "a 1.5 ratio" or "a 1-d array" is no marker.
_SEPARATOR = r"(?:\s*:|\s*[.)\-\u2013\u2014](?=\s|$)|\s*$)"
_ANSWER_RE = re.compile(
    rf"(?:answer|a)\s*(?P<number>[0-9]{{1,4}}){_SEPARATOR}\s*(?P<text>.*)",
    re.IGNORECASE,
)
_QUESTION_RE = re.compile(rf"(?:question|q)\s*[0-9]{{1,4}}{_SEPARATOR}", re.IGNORECASE)
_RULE_RE = re.compile(r"[=\-*_~]{3,}")
_HEADER_RE = re.compile(r"reflection\s+questions", re.IGNORECASE)
_LETTER_WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_TOKEN_WORD_RE = re.compile(r"\w+")

_PLACEHOLDERS = frozenset(
    {
        "todo",
        "tbd",
        "tbc",
        "fixme",
        "your answer here",
        "write your answer here",
        "answer here",
        "n a",
        "na",
        "none",
        "lorem ipsum",
    }
)
# An answer that starts with one of these marks is still a placeholder when the
# mark is in capitals ("TODO write this after the runs"), is followed by a colon
# or dash ("todo: finish"), or has fewer than MIN_WORDS words after it. Spanish
# "Todo el entrenamiento ..." is a real answer.
_PLACEHOLDER_PREFIXES = frozenset({"todo", "tbd", "tbc", "fixme", "xxx"})
_MARK_RE = re.compile(r"\s*(todo|tbd|tbc|fixme|xxx)\b(\s*[:\-\u2013\u2014])?", re.I)
# An answer of fewer than NON_ANSWER_WORDS words that says the student does
# not know is not an answer yet ("I have no idea about this one."); a longer
# one ("Not sure, but the ratio fell below 0.7 ...") goes on to say something.
_NON_ANSWER_RE = re.compile(
    r"\b(no idea|not sure|no clue|(don'?t|do not|didn'?t|did not) (know|get to)"
    r"|i give up|skipp?ed|skip this)\b",
    re.IGNORECASE,
)
NON_ANSWER_WORDS = 12
# Scripts written without spaces between words; an answer in them counts by
# characters, CJK_CHARACTERS_PER_WORD to a word.
_NO_SPACE_SCRIPT_RE = re.compile(
    "[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
)
CJK_CHARACTERS_PER_WORD = 2
_NON_CODE_TOKENS = frozenset(
    {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
)
# Python 3.11 raises TokenError for an unterminated string or bracket and
# IndentationError, a SyntaxError, for a bad dedent. Python 3.12 turns a plain
# SyntaxError of its C tokenizer into TokenError, but raises SystemError for a
# NUL byte after an indented line (CPython bug gh-140576, seen on 3.12.1 and
# 3.13.0).
# NOTE: only 3.11 is tested. ValueError is a precaution for null bytes elsewhere.
_TOKENIZE_ERRORS = (tokenize.TokenError, SyntaxError, ValueError, SystemError)


@dataclass(frozen=True)
class Answer:
    """One reflection answer as found in the student's file."""

    number: int
    text: str
    line: int


class _Kind(enum.Enum):
    COMMENT = "comment"
    BLANK = "blank"
    CODE = "code"


@dataclass(frozen=True)
class _Line:
    number: int
    kind: _Kind
    body: str


def read_answers(source: bytes) -> dict[int, Answer]:
    """Read the answers A1 to A4 from a student's file, keyed by number.

    Never raises on bytes input. When a number has several "A<n>:" markers,
    the first one counts.
    """
    lines = _split_lines(_decode(bytes(source)))
    return _collect_answers(_classify(lines))


def find_problem(number: int, answers: dict[int, Answer]) -> str | None:
    """Return why answer `number` does not count, or None when it counts.

    Raises ValueError when `number` is not between 1 and QUESTION_COUNT.
    """
    if not 1 <= number <= QUESTION_COUNT:
        raise ValueError(
            f"Question number {number} is out of range. Expected 1 to {QUESTION_COUNT}."
        )
    answer = answers.get(number)
    if answer is None:
        return _missing_message(number)
    checks = (
        _empty_problem,
        _placeholder_problem,
        _non_answer_problem,
        _length_problem,
    )
    for check in checks:
        problem = check(number, answer.text)
        if problem is not None:
            return problem
    problem = _copied_problem(number, answer.text)
    if problem is not None:
        return problem
    return _duplicate_problem(number, answer.text, answers)


def _decode(source: bytes) -> str:
    """Decode with the file's encoding cookie or UTF-8, replacing invalid bytes."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError:
        # Raised for invalid UTF-8 in the first two lines or a bad cookie.
        encoding = "utf-8-sig"
    try:
        text = source.decode(encoding, errors="replace")
    except (LookupError, UnicodeError):
        # The cookie names a codec that does not decode bytes to text ("hex"),
        # or one that rejects errors="replace" ("idna", "undefined") or
        # non-ASCII input ("punycode").
        text = source.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff")


def _split_lines(text: str) -> list[str]:
    """Split at the line ends Python source uses, without the line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _classify(lines: list[str]) -> list[_Line]:
    """Classify the lines with tokenize, falling back when the code is broken."""
    try:
        return _classify_tokens(lines, 0)
    except _TOKENIZE_ERRORS:
        pass
    start = _find_fallback_start(lines)
    if start is None:
        return []
    try:
        return _classify_tokens(lines, start)
    except _TOKENIZE_ERRORS:
        return _classify_plain(lines, start)


def _classify_tokens(lines: list[str], start: int) -> list[_Line]:
    """Classify lines[start:] from their tokens. Raises what tokenize raises."""
    chunk = lines[start:]
    readline = iter([line + "\n" for line in chunk]).__next__
    comments: dict[int, str] = {}
    code_rows: set[int] = set()
    for token in tokenize.generate_tokens(readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string
        elif token.type not in _NON_CODE_TOKENS:
            code_rows.update(range(token.start[0], token.end[0] + 1))

    classified = []
    for row, text in enumerate(chunk, start=1):
        if row in comments and row not in code_rows:
            kind, body = _Kind.COMMENT, _comment_body(comments[row])
        elif text.strip():
            kind, body = _Kind.CODE, ""
        else:
            kind, body = _Kind.BLANK, ""
        classified.append(_Line(start + row, kind, body))
    return classified


def _classify_plain(lines: list[str], start: int) -> list[_Line]:
    """Classify lines[start:] by their first character, for untokenizable text."""
    classified = []
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if stripped.startswith("#"):
            kind, body = _Kind.COMMENT, _comment_body(stripped)
        elif stripped:
            kind, body = _Kind.CODE, ""
        else:
            kind, body = _Kind.BLANK, ""
        classified.append(_Line(index + 1, kind, body))
    return classified


def _find_fallback_start(lines: list[str]) -> int | None:
    """Return the index of the reflection header, else of the first Q/A marker."""
    comment_indexes = [
        index for index, line in enumerate(lines) if line.lstrip().startswith("#")
    ]
    for index in comment_indexes:
        if _HEADER_RE.search(lines[index]):
            return index
    for index in comment_indexes:
        body = _comment_body(lines[index].strip())
        if _ANSWER_RE.match(body) or _QUESTION_RE.match(body):
            return index
    return None


def _comment_body(comment: str) -> str:
    return comment.lstrip("#").strip()


def _collect_answers(lines: list[_Line]) -> dict[int, Answer]:
    answers: dict[int, Answer] = {}
    marker: tuple[int, int] | None = None
    parts: list[str] = []
    for line in lines:
        if line.kind is _Kind.COMMENT and not line.body:
            continue
        match = _ANSWER_RE.match(line.body) if line.kind is _Kind.COMMENT else None
        if line.kind is _Kind.COMMENT and not match and not _ends_answer(line.body):
            if marker is not None:
                parts.append(line.body)
            continue
        _store_answer(answers, marker, parts)
        marker, parts = None, []
        if match:
            marker = (int(match.group("number")), line.number)
            parts = [match.group("text")]
    _store_answer(answers, marker, parts)
    return answers


def _ends_answer(body: str) -> bool:
    return bool(
        _QUESTION_RE.match(body) or _RULE_RE.fullmatch(body) or _HEADER_RE.search(body)
    )


def _store_answer(
    answers: dict[int, Answer], marker: tuple[int, int] | None, parts: list[str]
) -> None:
    """Store the answer begun at `marker` (number, line) unless it is out of range."""
    if marker is None:
        return
    number, line = marker
    if 1 <= number <= QUESTION_COUNT and number not in answers:
        answers[number] = Answer(number, " ".join(" ".join(parts).split()), line)


def _missing_message(number: int) -> str:
    return (
        f"Answer {number} is missing: found no '# A{number}:' line. "
        f"Expected a comment line starting with '# A{number}:' below question "
        f"{number}, followed by your answer. Add that line and write your answer "
        "after it."
    )


def _empty_problem(number: int, text: str) -> str | None:
    if text:
        return None
    return (
        f"Answer {number} is empty: found '# A{number}:' with no text after it. "
        f"{_expected_sentence(number)} Write your answer on that line or on the "
        "comment lines below it."
    )


def _placeholder_problem(number: int, text: str) -> str | None:
    if not _is_placeholder(text):
        return None
    return (
        f"Answer {number} is a placeholder: found {_quote(text)}. "
        f"{_expected_sentence(number)} Replace the placeholder with your "
        "observation."
    )


def _non_answer_problem(number: int, text: str) -> str | None:
    if _word_count(text) >= NON_ANSWER_WORDS or not _NON_ANSWER_RE.search(text):
        return None
    return (
        f"Answer {number} says it has no answer yet: found {_quote(text)}. "
        f"{_expected_sentence(number)} Run the experiment, look at it in "
        "TensorBoard, and describe what you saw."
    )


def _length_problem(number: int, text: str) -> str | None:
    count = _word_count(text)
    if count >= MIN_WORDS:
        return None
    noun = "word" if count == 1 else "words"
    return (
        f"Answer {number} is too short: found {_quote(text)}, which has {count} "
        f"{noun}. {_expected_sentence(number)} Explain your observation in a "
        "full sentence."
    )


def _copied_problem(number: int, text: str) -> str | None:
    if not _is_copied_question(text, QUESTIONS[number - 1]):
        return None
    return (
        f"Answer {number} repeats question {number}: found {_quote(text)}. "
        f"Expected your own answer under '# A{number}:', not the words of the "
        "question. Replace it with what you observed."
    )


def _duplicate_problem(
    number: int, text: str, answers: dict[int, Answer]
) -> str | None:
    for other_number in sorted(answers):
        other = answers[other_number]
        if other_number != number and _is_same_text(text, other.text):
            return (
                f"Answer {number} is the same as answer {other_number}: found "
                f"{_quote(text)}. Expected a separate answer to question {number} "
                f"under '# A{number}:'. Rewrite it so that it answers question "
                f"{number}."
            )
    return None


def _expected_sentence(number: int) -> str:
    return (
        f"Expected a sentence of at least {MIN_WORDS} words in your own words "
        f"under '# A{number}:'."
    )


def _is_placeholder(text: str) -> bool:
    words = _TOKEN_WORD_RE.findall(text.lower())
    if not words:
        # Only punctuation, such as "...", "-" or "???".
        return True
    joined = " ".join(words)
    if joined in _PLACEHOLDERS or re.fullmatch(r"x{3,}", joined):
        return True
    if joined.startswith("lorem ipsum"):
        return True
    if words[0] not in _PLACEHOLDER_PREFIXES:
        return False
    mark = _MARK_RE.match(text)
    if mark is not None and (mark[1].isupper() or mark[2]):
        return True
    return len(_letter_words(" ".join(words[1:]))) < MIN_WORDS


def _is_copied_question(text: str, question: str) -> bool:
    if _is_similar(_normalise(text), _normalise(question), COPY_RATIO):
        return True
    answer_words = set(_letter_words(text.lower()))
    question_words = set(_letter_words(question.lower()))
    return bool(answer_words) and answer_words <= question_words


def _is_same_text(text: str, other: str) -> bool:
    return _is_similar(_normalise(text), _normalise(other), DUPLICATE_RATIO)


def _is_similar(first: str, second: str, threshold: float) -> bool:
    if first == second:
        return True
    # With autojunk, a text of 200 or more characters loses every character
    # that makes up over 1% of it, so long prose would look unrelated.
    matcher = difflib.SequenceMatcher(
        None, first[:RATIO_CHARACTERS], second[:RATIO_CHARACTERS], autojunk=False
    )
    return (
        matcher.real_quick_ratio() >= threshold
        and matcher.quick_ratio() >= threshold
        and matcher.ratio() >= threshold
    )


def _normalise(text: str) -> str:
    return " ".join(_TOKEN_WORD_RE.findall(text.lower()))


def _word_count(text: str) -> int:
    """Count words, and characters of scripts without spaces by pairs."""
    spaced = _NO_SPACE_SCRIPT_RE.sub(" ", text)
    unspaced = len(_NO_SPACE_SCRIPT_RE.findall(text))
    return len(_letter_words(spaced)) + unspaced // CJK_CHARACTERS_PER_WORD


def _letter_words(text: str) -> list[str]:
    return _LETTER_WORD_RE.findall(text)


def _quote(text: str) -> str:
    """Quote `text`, cut at a word boundary to at most QUOTE_LENGTH characters."""
    if len(text) > QUOTE_LENGTH:
        cut = text[: QUOTE_LENGTH - 3]
        space = cut.rfind(" ")
        if space > QUOTE_LENGTH // 2:
            cut = cut[:space]
        text = cut.rstrip(" ,;:") + "..."
    return f"'{text}'"
