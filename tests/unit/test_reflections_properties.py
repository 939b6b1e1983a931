"""Property-based tests for reading the reflection answers from arbitrary bytes."""

from __future__ import annotations

import encodings
import encodings.aliases
import pkgutil

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.reflections import (
    QUESTION_COUNT,
    QUESTIONS,
    Answer,
    find_problem,
    read_answers,
)

NUMBERS = range(1, QUESTION_COUNT + 1)
# No example database, so that a run never replays examples saved by another.
# Hypothesis still caches constants in .hypothesis/, which .gitignore lists.
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, database=None)

# Every codec name that an encoding cookie can name on this Python, including
# codecs that do not decode bytes to text (hex, rot13) or that reject
# errors="replace" (idna, undefined).
CODEC_NAMES = sorted(
    {module.name for module in pkgutil.iter_modules(encodings.__path__)}
    | set(encodings.aliases.aliases)
)
# The characters that tokenize's cookie pattern accepts in a codec name.
UNKNOWN_CODEC_NAMES = st.from_regex(r"[-A-Za-z0-9_.]{1,20}", fullmatch=True)
COOKIE_FORMATS = (
    "# -*- coding: {} -*-",
    "# vim: set fileencoding={} :",
    "#coding={}",
)
TEXT_CODECS = (
    "utf-8",
    "utf-8-sig",
    "latin-1",
    "cp1252",
    "shift_jis",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
)
LINE_ENDINGS = ("\n", "\r\n", "\r")

# Pieces of broken Python: unterminated strings and brackets, bad indentation,
# NUL bytes, stray byte order marks, Unicode line separators, answer markers.
FRAGMENTS = (
    '"""',
    "'''",
    '"',
    "'",
    "(",
    "[",
    "{",
    ")",
    "\\",
    "\x00",
    "\t",
    "        ",
    "\x0c",
    "\ufeff",
    "\u2028",
    "\x85",
    "def f(:",
    "x = 1",
    "if True:",
    "# A1: ",
    "# A4:",
    "# Q2:",
    "# answer 3 -",
    "# A9999:",
    "# REFLECTION QUESTIONS",
    "# =====",
    "#",
    "TODO",
)
NO_HASH_FRAGMENTS = tuple(fragment for fragment in FRAGMENTS if "#" not in fragment)

# Marker spellings that the module documents, each followed by a space and the
# answer text.
MARKERS = (
    "# A{}:",
    "# A{}.",
    "# A{})",
    "# A{} -",
    "# A{} \u2013",
    "# Answer {}:",
    "# answer{}:",
    "#A{}:",
    "# a {} :",
)
HEADER = [
    "# " + "=" * 75,
    "# REFLECTION QUESTIONS",
    "# " + "=" * 75,
    "#",
]


def text_lines(fragments: tuple[str, ...], excluded: str) -> st.SearchStrategy:
    """Build a strategy for lines of broken code, some thousands of characters long.

    The lines may contain lone surrogates, which encode with errors="surrogatepass"
    to bytes that are not valid UTF-8.
    """
    plain_text = st.text(
        alphabet=st.characters(exclude_characters=excluded), max_size=40
    )
    long_line = st.integers(min_value=500, max_value=3_000).map(lambda n: "x" * n)
    part = st.one_of(st.sampled_from(fragments), plain_text, long_line)
    line = st.lists(part, max_size=4).map("".join)
    return st.lists(line, max_size=10)


def join_lines(lines: list[str], line_ending: str) -> str:
    return "".join(line + line_ending for line in lines)


@st.composite
def encoded_sources(draw: st.DrawFn) -> bytes:
    """Draw broken code encoded with a codec the file does not declare."""
    lines = draw(text_lines(FRAGMENTS, excluded="\r\n"))
    text = join_lines(lines, draw(st.sampled_from(LINE_ENDINGS)))
    return text.encode(draw(st.sampled_from(TEXT_CODECS)), errors="replace")


@st.composite
def cookie_sources(draw: st.DrawFn) -> bytes:
    """Draw a file whose encoding cookie names any codec, known or not."""
    name = draw(st.one_of(st.sampled_from(CODEC_NAMES), UNKNOWN_CODEC_NAMES))
    cookie = draw(st.sampled_from(COOKIE_FORMATS)).format(name)
    lines = draw(text_lines(FRAGMENTS, excluded="\r\n"))
    if draw(st.booleans()):
        lines = ["#!/usr/bin/env python", cookie, *lines]
    else:
        lines = [cookie, *lines]
    text = join_lines(lines, draw(st.sampled_from(LINE_ENDINGS)))
    body = text.encode("utf-8", errors="surrogatepass")
    tail = draw(st.binary(max_size=200))
    return body + tail


@st.composite
def spliced_sources(draw: st.DrawFn) -> bytes:
    """Draw UTF-8 text with random bytes spliced in at a random position."""
    lines = draw(text_lines(FRAGMENTS, excluded="\r\n"))
    text = join_lines(lines, draw(st.sampled_from(LINE_ENDINGS)))
    body = text.encode("utf-8", errors="surrogatepass")
    position = draw(st.integers(min_value=0, max_value=len(body)))
    noise = draw(st.binary(min_size=1, max_size=200))
    return body[:position] + noise + body[position:]


ANY_SOURCE = st.one_of(
    st.binary(max_size=4_000),
    encoded_sources(),
    cookie_sources(),
    spliced_sources(),
)


@st.composite
def answer_blocks(
    draw: st.DrawFn, max_codepoint: int = 0x10FFFF, quotes: bool = True
) -> tuple[list[str], dict[int, tuple[str, int]]]:
    """Draw a reflection block as lines, with the expected (text, line index).

    The line index counts from 0 within the returned lines. Continuation lines
    contain words of letters only, so that none of them reads as a marker.
    """
    excluded = "\r\n" if quotes else "\r\n'\""
    characters = st.characters(
        max_codepoint=max_codepoint,
        exclude_categories=("Cs",),
        exclude_characters=excluded,
    )
    first_texts = st.text(alphabet=characters, max_size=80)
    word = st.text(
        alphabet=st.characters(max_codepoint=max_codepoint, categories=("L",)),
        min_size=1,
        max_size=12,
    ).filter(lambda text: text.lower() not in ("reflection", "questions"))
    continuations = st.lists(word, min_size=1, max_size=6).map(" ".join)

    numbers = draw(st.permutations(list(NUMBERS)))
    numbers = numbers[: draw(st.integers(min_value=0, max_value=QUESTION_COUNT))]
    lines = list(HEADER)
    expected: dict[int, tuple[str, int]] = {}
    for number in numbers:
        if draw(st.booleans()):
            lines.append(f"# Q{number}: {QUESTIONS[number - 1]}")
        markers = [
            marker
            for marker in MARKERS
            if all(ord(character) <= max_codepoint for character in marker)
        ]
        marker = draw(st.sampled_from(markers)).format(number)
        first = draw(first_texts)
        expected_line = len(lines)
        lines.append(f"{marker} {first}")
        parts = [first]
        for continuation in draw(st.lists(continuations, max_size=3)):
            indent = " " * draw(st.integers(min_value=0, max_value=8))
            lines.append(f"#{indent} {continuation}")
            parts.append(continuation)
        lines.append(draw(st.sampled_from(["#", ""])))
        expected[number] = (" ".join(" ".join(parts).split()), expected_line)
    lines.append("")
    return lines, expected


def check_contract(source: bytes, answers: object) -> None:
    """Check the documented return type of read_answers and find_problem."""
    assert isinstance(answers, dict)
    assert set(answers) <= set(NUMBERS)
    for number, answer in answers.items():
        assert isinstance(answer, Answer)
        assert answer.number == number
        assert isinstance(answer.text, str)
        # Whitespace collapsed to single spaces, so no line end is left.
        assert answer.text == " ".join(answer.text.split())
        # A marker line contains at least "#A1", and no codec here yields more
        # characters than it reads bytes.
        assert 1 <= answer.line <= len(source)
    for number in NUMBERS:
        problem = find_problem(number, answers)
        assert problem is None or problem.startswith(f"Answer {number} ")


def read_back(answers: dict[int, Answer]) -> dict[int, tuple[str, int]]:
    return {number: (answer.text, answer.line) for number, answer in answers.items()}


@PROPERTY_SETTINGS
@given(source=ANY_SOURCE)
def test_any_bytes_keep_contract(source: bytes) -> None:
    answers = read_answers(source)
    check_contract(source, answers)
    assert read_answers(bytearray(source)) == answers


@PROPERTY_SETTINGS
@given(
    block=answer_blocks(),
    line_ending=st.sampled_from(LINE_ENDINGS),
    byte_order_mark=st.booleans(),
)
def test_utf8_block_read_back(
    block: tuple[list[str], dict[int, tuple[str, int]]],
    line_ending: str,
    byte_order_mark: bool,
) -> None:
    lines, expected = block
    codec = "utf-8-sig" if byte_order_mark else "utf-8"
    source = join_lines(lines, line_ending).encode(codec)
    answers = read_answers(source)
    assert read_back(answers) == {
        number: (text, index + 1) for number, (text, index) in expected.items()
    }


# NOTE: CR-only line ends are left out. tokenize.detect_encoding reads lines
# up to b"\n", so in a CR-only file the cookie shares its line with non-UTF-8
# bytes, is rejected, and those bytes are read as U+FFFD.
@PROPERTY_SETTINGS
@given(
    block=answer_blocks(max_codepoint=0xFF),
    line_ending=st.sampled_from(["\n", "\r\n"]),
)
def test_latin1_block_read_back(
    block: tuple[list[str], dict[int, tuple[str, int]]], line_ending: str
) -> None:
    lines, expected = block
    lines = ["# -*- coding: latin-1 -*-", *lines]
    source = join_lines(lines, line_ending).encode("latin-1")
    answers = read_answers(source)
    assert read_back(answers) == {
        number: (text, index + 2) for number, (text, index) in expected.items()
    }


@PROPERTY_SETTINGS
@given(
    block=answer_blocks(),
    garbage=st.one_of(
        st.binary(max_size=2_000),
        text_lines(FRAGMENTS, excluded="").map(
            lambda lines: "\n".join(lines).encode("utf-8", errors="surrogatepass")
        ),
    ),
)
def test_garbage_after_block_ignored(
    block: tuple[list[str], dict[int, tuple[str, int]]], garbage: bytes
) -> None:
    """Whatever follows a blank line after the block, the block's answers win.

    The garbage starts with a second marker for every number, which must not
    replace the block's first one.
    """
    lines, expected = block
    later_markers = "".join(f"# A{number}: TODO\n" for number in NUMBERS)
    source = (
        join_lines(lines, "\n").encode("utf-8")
        + b"\n"
        + later_markers.encode("utf-8")
        + garbage
    )
    answers = read_answers(source)
    check_contract(source, answers)
    for number, (text, index) in expected.items():
        assert (answers[number].text, answers[number].line) == (text, index + 1)


@PROPERTY_SETTINGS
@given(
    block=answer_blocks(quotes=False),
    garbage=text_lines(NO_HASH_FRAGMENTS, excluded="#\r\n"),
    line_ending=st.sampled_from(LINE_ENDINGS),
)
def test_broken_code_before_block(
    block: tuple[list[str], dict[int, tuple[str, int]]],
    garbage: list[str],
    line_ending: str,
) -> None:
    """Broken code without comments above the block cannot hide its answers.

    The answers contain no quotes, because a quote in a comment closes a string
    left open above it, and the lines up to it are then really inside a string.
    """
    lines, expected = block
    source = join_lines(garbage + lines, line_ending).encode(
        "utf-8", errors="surrogatepass"
    )
    answers = read_answers(source)
    offset = len(garbage) + 1
    assert read_back(answers) == {
        number: (text, index + offset) for number, (text, index) in expected.items()
    }


@PROPERTY_SETTINGS
@given(garbage=st.binary(max_size=2_000), block=answer_blocks())
def test_bytes_before_block_no_crash(
    garbage: bytes, block: tuple[list[str], dict[int, tuple[str, int]]]
) -> None:
    lines, _ = block
    source = garbage + join_lines(lines, "\n").encode("utf-8")
    check_contract(source, read_answers(source))
