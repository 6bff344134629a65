"""Text analysis shared by both backends: accent folding (Elasticsearch's `asciifolding`) and highlight
restoration.

The MindFlow seed's `journal_analyzer` is: standard tokenizer, lowercase, asciifolding, stop (English),
snowball (English). Postgres' built-in `english` configuration already lowercases, drops English stop
words and applies the English Snowball stemmer; what it lacks (no `unaccent` here) is folding. So
folding is one character map, applied

- at index time in SQL by `search.fold(text)` (a `translate()` plus a few `replace()`s generated from
  the map below, see `fold_function_sql`), and
- at query time by the same SQL function (`websearch_to_tsquery('english', search.fold(q))`), and in
  Python by `fold()` (tag prefixes, highlight restoration). A test asserts Python and SQL agree.

Known differences from Elasticsearch's standard tokenizer: Postgres' parser also emits the parts of
hyphenated words and recognises e-mail addresses, URLs and file paths as single tokens.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters that do not decompose under NFKD, folded as Lucene's ASCIIFoldingFilter does.
_SPECIAL: dict[str, str] = {
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH",
    "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ı": "i",
    "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ŀ": "l", "Ŀ": "L", "ĸ": "q", "ŋ": "n", "Ŋ": "N",
    # typography: quotes and dashes
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "‒": "-", "−": "-",
}

# Blocks scanned for NFKD-decomposable letters: Latin-1 Supplement, Latin Extended-A/B, Latin Extended
# Additional (Vietnamese etc.).
_RANGES = ((0x00C0, 0x024F), (0x1E00, 0x1EFF))


@lru_cache(maxsize=1)
def folding_map() -> dict[str, str]:
    """Character -> ASCII replacement (one or two characters)."""
    mapping: dict[str, str] = {}
    for low, high in _RANGES:
        for code in range(low, high + 1):
            char = chr(code)
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            if base != char and len(base) == 1 and base.isascii() and base.isalpha():
                mapping[char] = base
    mapping.update(_SPECIAL)
    return mapping


@lru_cache(maxsize=1)
def _translation_table() -> dict[int, str]:
    return {ord(k): v for k, v in folding_map().items()}


def fold(text: str) -> str:
    """Accent-fold `text` exactly as the SQL function `search.fold` does (case is kept)."""
    return text.translate(_translation_table())


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """(folded, offsets): offsets[i] is the index in `text` of the character that produced folded[i]."""
    table = folding_map()
    out: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        replacement = table.get(char, char)
        out.append(replacement)
        offsets.extend([index] * len(replacement))
    return "".join(out), offsets


# ASCII characters in rough English frequency order. translate() looks every input character up in its
# `from` string linearly and stops at the first match; mapping these to themselves at the front makes
# the common case (an ASCII character) a lookup of a few comparisons instead of a scan of ~400 accented
# letters (measured: 17.6 s -> ~1 s to fold 5,000 entries).
_ASCII_FIRST = " etaoinsrhldcumfpgwybv,.kEITASx'\nj-MqzNOCHDRLWPBGFYUVKJ0123456789\"!?;:()QXZ/&%$#@*+=<>[]{}^_`|~\t\r"


def _ascii_prefix() -> str:
    seen: list[str] = []
    for char in _ASCII_FIRST + "".join(chr(c) for c in range(32, 127)):
        if char not in seen:
            seen.append(char)
    return "".join(seen)


def fold_function_sql() -> tuple[str, str, list[tuple[str, str]]]:
    """(from_chars, to_chars, multi): the arguments of `search.fold`'s translate() and its replace() pairs.
    The `from` string starts with ASCII characters mapped to themselves (a speed-up only: see above)."""
    single = sorted((k, v) for k, v in folding_map().items() if len(v) == 1)
    multi = sorted((k, v) for k, v in folding_map().items() if len(v) != 1)
    prefix = _ascii_prefix()
    return prefix + "".join(k for k, _ in single), prefix + "".join(v for _, v in single), multi


def normalize_tag_prefix(prefix: str) -> str:
    """What a tag prefix is compared on: trimmed, lower-cased, folded (tags are stored lower-case)."""
    return fold(prefix.strip().lower())


def escape_like(value: str) -> str:
    """Escape LIKE metacharacters so a user's prefix is matched literally (ESCAPE '\\')."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


PRE_TAG = "<em>"
POST_TAG = "</em>"
_MARK = re.compile(re.escape(PRE_TAG) + "|" + re.escape(POST_TAG))


def restore_fragment(fragment: str, original: str, *, start: int = 0) -> tuple[str, int]:
    """Map a highlight fragment computed on fold(original) back onto `original`.

    `ts_headline` runs on the folded text (so 'cafe' highlights 'café'); the user should see their own
    words with accents, so the fragment's plain text is located in the folded text and the same span
    of the original is returned with the <em> marks re-inserted at the same places. Returns
    (restored, end offset in the folded text); a fragment that cannot be located is returned as is.
    """
    folded, offsets = fold_with_offsets(original)
    marks: list[tuple[int, str]] = []
    plain_parts: list[str] = []
    cursor, plain_len = 0, 0
    for match in _MARK.finditer(fragment):
        piece = fragment[cursor:match.start()]
        plain_parts.append(piece)
        plain_len += len(piece)
        marks.append((plain_len, match.group(0)))
        cursor = match.end()
    plain_parts.append(fragment[cursor:])
    plain = "".join(plain_parts)
    position = folded.find(plain, start)
    if position < 0:
        position = folded.find(plain)
    if position < 0 or not plain:
        return fragment, start

    def to_original(folded_index: int) -> int:
        return offsets[folded_index] if folded_index < len(offsets) else len(original)

    end = position + len(plain)
    out: list[str] = []
    previous = to_original(position)
    for plain_index, mark in marks:
        here = to_original(position + plain_index)
        out.append(original[previous:here])
        out.append(mark)
        previous = here
    out.append(original[previous:to_original(end)])
    return "".join(out), end


def restore_fragments(fragments: list[str], original: str) -> list[str]:
    restored, start = [], 0
    for fragment in fragments:
        text, start = restore_fragment(fragment, original, start=start)
        restored.append(text)
    return restored
