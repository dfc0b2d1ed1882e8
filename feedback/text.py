"""Text that other people read, cleaned of the characters that change what they see.

A right-to-left override makes ``"evil\\u202etxt.exe"`` read as "evilexe.txt"; zero-width
and other invisible format characters make two names look alike or hide words; control
characters have no place in a name or a sentence. ``clean`` removes them where such text
enters (group names, action summaries, comments, account names), so every reader, page,
email and export sees what was stored.
"""

import functools
import re
import sys
import unicodedata
from typing import Final

# Both joiners shape writing: ZWJ makes emoji sequences (woman + ZWJ + laptop is one
# picture) and conjuncts in Indic scripts; ZWNJ is part of Persian spelling. Between two
# letters, marks or symbols they stay; anywhere else (at an edge, next to a space, in a
# run) they only hide.
_JOINERS: Final = frozenset("\u200c\u200d")
_JOINABLE: Final = frozenset({"So", "Sk"})  # emoji and their skin-tone modifiers; letters and marks too
# A subdivision flag (England, Scotland, Wales) is a black flag, invisible tag characters
# spelling its code, and a cancel tag. Tag characters anywhere else smuggle hidden text.
_FLAG = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@functools.cache
def _suspects() -> re.Pattern[str]:
    """Every character ``clean`` must look at: controls (Cc), format characters (Cf, the
    bidi controls among them) and lone surrogates (Cs), for the running Python's Unicode.

    Built on first use (about 100 ms of CPU, once per process), and only for a text that
    ``_plain`` cannot clear: nearly all text passes without it.
    """
    found = [c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in ("Cc", "Cf", "Cs")]
    ranges: list[tuple[int, int]] = []
    for code in found:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges) + "]")


_SPACES_KEPT: Final = str.maketrans("\n\t", "  ")


def _plain(text: str, *, multiline: bool) -> bool:
    """Whether ``text`` holds none of the characters ``clean`` looks at, but the line breaks
    and tabs it keeps: a printable text (by Python's rule, nothing of Unicode's Other or
    Separator categories but the space) has no control, format or surrogate character."""
    return text.isprintable() or (multiline and text.translate(_SPACES_KEPT).isprintable())


def _joinable(char: str) -> bool:
    category = unicodedata.category(char) if char else ""
    return category[:1] in ("L", "M") or category in _JOINABLE


def clean(text: str, *, multiline: bool = False) -> str:
    """``text`` without bidi controls, invisible format characters and control characters,
    stripped of surrounding whitespace.

    Removed: the bidi embeddings, overrides, isolates and marks (U+202A-U+202E,
    U+2066-U+2069, U+200E, U+200F, U+061C), every other format character (zero-width
    space, word joiner, byte-order mark, soft hyphen, tag characters, ...), C0 and C1
    controls, and lone surrogates. Kept: a zero-width joiner or non-joiner between two
    letters, marks or symbols (emoji sequences such as a family or a rainbow flag,
    Persian and Indic spelling), and the tag characters of a subdivision flag.

    Line breaks (CR LF, CR, NEL, U+2028, U+2029) become ``\\n`` when ``multiline``, and
    tabs stay; otherwise each line break or tab becomes one space, so "Sam\\nLee" stays
    two words. The caller refuses a text that is empty afterwards, as it refuses an
    empty one.
    """
    text = _LINE_BREAK.sub("\n" if multiline else " ", text)
    if not multiline:
        text = text.replace("\t", " ")
    if _plain(text, multiline=multiline) or _suspects().search(text) is None:
        return text.strip()
    flags = {i for match in _FLAG.finditer(text) for i in range(match.start() + 1, match.end())}

    def keep(match: re.Match[str]) -> str:
        char, at = match.group(), match.start()
        if char in "\n\t" or at in flags:
            return char
        if char in _JOINERS and _joinable(text[at - 1 : at]) and _joinable(text[at + 1 : at + 2]):
            return char
        return ""

    return _suspects().sub(keep, text).strip()
