"""Text others read is cleaned of what would change what they see (feedback.text.clean)."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedback.text import clean


def test_a_right_to_left_override_cannot_disguise_a_file_name() -> None:
    """ "evil\u202etxt.exe" reads "evilexe.txt" on screen; cleaned, it reads as it is."""
    assert clean("evil\u202etxt.exe") == "eviltxt.exe"


@pytest.mark.parametrize("control", list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))
def test_every_bidi_embedding_override_isolate_and_mark_is_removed(control: str) -> None:
    assert clean(f"Sam{control} Lee") == "Sam Lee"


@pytest.mark.parametrize(
    "invisible",
    ["\u200b", "\u2060", "\ufeff", "\u00ad", "\u2062", "\U000e0041"],
    ids=["zero-width space", "word joiner", "byte-order mark", "soft hyphen", "invisible times", "tag letter"],
)
def test_invisible_characters_cannot_hide_inside_a_name(invisible: str) -> None:
    """Two names that look the same are the same."""
    assert clean(f"Wo{invisible}men in Eng{invisible}ineering") == "Women in Engineering"


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x9b"])
def test_control_characters_are_removed(control: str) -> None:
    assert clean(f"a{control}b") == "ab"


def test_surrounding_whitespace_and_invisible_characters_are_stripped() -> None:
    assert clean(" \u200b Credited Sam's design \u202e\t") == "Credited Sam's design"


def test_text_of_only_invisible_characters_is_empty() -> None:
    assert clean("\u202e\u200b\u2066 \u200d") == ""


def test_a_single_line_keeps_its_words_apart_where_it_had_a_line_break_or_tab() -> None:
    assert clean("Sam\nLee\r\nand\tAlex\u2028too") == "Sam Lee and Alex too"


def test_multiline_text_keeps_newlines_and_tabs_and_unifies_line_breaks() -> None:
    assert clean("first\r\nsecond\rthird\u2028fourth\n\tindented", multiline=True) == (
        "first\nsecond\nthird\nfourth\n\tindented"
    )


def test_multiline_text_still_loses_other_controls_and_overrides() -> None:
    assert clean("line\x1b[31m one\u202e\nline two", multiline=True) == "line[31m one\nline two"


@pytest.mark.parametrize(
    "emoji",
    [
        "\U0001f469\u200d\U0001f4bb",  # woman technologist
        "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # with a skin tone
        "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # family
        "\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",  # flag of Wales
    ],
)
def test_emoji_sequences_joined_by_zwj_or_tags_stay_whole(emoji: str) -> None:
    """The joiner inside an emoji sequence is part of the picture: removing it would split a
    rainbow flag into a white flag and a rainbow."""
    assert clean(f"Thanks {emoji}!") == f"Thanks {emoji}!"


def test_a_zero_width_non_joiner_inside_a_persian_word_stays() -> None:
    word = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want": ZWNJ is part of its spelling
    assert clean(word) == word


@pytest.mark.parametrize(
    "text", ["\u200dSam", "Sam\u200d", "Sam \u200d Lee", "Sam\u200d\u200dLee", "Sam\u200c\u200bLee"]
)
def test_a_joiner_that_joins_nothing_is_removed(text: str) -> None:
    assert "\u200d" not in clean(text) and "\u200c" not in clean(text)


def test_ordinary_text_in_any_script_is_unchanged() -> None:
    text = "Zoë · 张伟 · Ngozi · Дмитрий · हिन्दी · שרה (she/her) — 50% ✓"
    assert clean(text) == text


_HIDING = ["\u202e", "\u2066", "\u200e", "\u200b", "\u2060", "\ufeff", "\u00ad", "\x00", "\x1b", "\x85"]
_TEXT = st.text(st.one_of(st.characters(), st.sampled_from([*_HIDING, "\n", "\t", "\u00a0", "\u200d", " ", "é"])))


@given(_TEXT, st.booleans())
def test_no_control_or_invisible_character_is_left_in_any_text(text: str, multiline: bool) -> None:
    """Whatever a sender types, what others read holds no control or format character but
    a kept line break or tab, a joiner, or a flag's tag characters."""
    kept = {"\u200c", "\u200d", *(("\n", "\t") if multiline else ())}
    for char in clean(text, multiline=multiline):
        tag = "\U000e0020" <= char <= "\U000e007f"
        assert char in kept or tag or unicodedata.category(char) not in ("Cc", "Cf", "Cs"), repr(char)


def test_ordinary_text_with_line_breaks_and_no_break_spaces_is_unchanged() -> None:
    text = "Merci pour la revue\u00a0!\n\tLe plan tient à 67\u00a0%."
    assert clean(text, multiline=True) == text
