"""Token-based chunking with overlap, cut at word boundaries of the model's own tokenizer.

`plan_windows` is the pure core (token positions in, windows out); `chunk_text` applies it to a text
with a `tokenizers.Tokenizer` and returns character spans, so each chunk is a slice of the original
text. Cutting only where a new word starts means a chunk re-tokenizes to the same tokens, so every
chunk fits the window; `chunk_text` still verifies that and tightens the window if a pathological
text (one "word" longer than the window) would break it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

DEFAULT_OVERLAP = 32


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    char_start: int
    char_end: int
    tokens: int


def word_starts(word_ids: Sequence[int | None]) -> list[bool]:
    """True where a token begins a new word (its word id differs from the previous token's)."""
    starts, previous = [], object()
    for wid in word_ids:
        starts.append(wid is None or wid != previous)
        previous = wid
    return starts


def plan_windows(starts: Sequence[bool], window: int, overlap: int = DEFAULT_OVERLAP) -> list[tuple[int, int]]:
    """Half-open token windows [start, end) covering all tokens, each at most `window` long.

    Windows end where a word starts (falling back to a hard cut inside a word longer than the window)
    and the next window begins about `overlap` tokens before the previous end, also at a word start.
    """
    if window < 1:
        raise ValueError("window must be positive")
    overlap = max(0, min(overlap, window // 2))
    n = len(starts)
    if n <= window:
        return [(0, n)]
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(start + window, n)
        if end < n:
            cut = end
            while cut > start and not starts[cut]:
                cut -= 1
            end = cut if cut > start else end  # no word boundary inside: hard cut
        windows.append((start, end))
        if end >= n:
            return windows
        nxt = end - overlap
        while nxt > start and not starts[nxt]:
            nxt -= 1
        start = nxt if nxt > start else end


def chunk_text(text: str, tokenizer, window: int, overlap: int = DEFAULT_OVERLAP) -> list[Chunk]:
    """Chunks of `text`, each at most `window` tokens of `tokenizer` (without special tokens)."""
    encoding = tokenizer.encode(text, add_special_tokens=False)
    n = len(encoding.ids)
    if n <= window:
        return [Chunk(0, text, 0, len(text), n)]
    offsets = encoding.offsets
    current_window = window
    while True:
        chunks = []
        for i, (s, e) in enumerate(plan_windows(word_starts(encoding.word_ids), current_window, overlap)):
            char_start, char_end = offsets[s][0], offsets[e - 1][1]
            piece = text[char_start:char_end]
            chunks.append(Chunk(i, piece, char_start, char_end, len(tokenizer.encode(piece, add_special_tokens=False).ids)))
        if all(c.tokens <= window for c in chunks) or current_window <= 8:
            return chunks
        current_window -= max(1, max(c.tokens for c in chunks) - window)
