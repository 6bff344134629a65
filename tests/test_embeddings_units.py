"""Pure parts of the embeddings area, tested without Dagster or Postgres: chunking, hashing, specs."""

from __future__ import annotations

import random

import numpy as np
import pytest

from assets.embeddings.chunking import chunk_text, plan_windows, word_starts
from assets.embeddings.model import (
    DEFAULT_MODEL,
    ModelNotAvailableError,
    _token_budget_batches,
    bundled_model_path,
    load_tokenizer,
    parse_model_spec,
)
from assets.embeddings.store import content_hash, index_name, vector_literal

WINDOW = 254  # all-MiniLM-L6-v2: 256 positions minus [CLS] and [SEP]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(bundled_model_path())


def _long_text(words: int, seed: int = 3) -> str:
    rng = random.Random(seed)
    vocab = ("today I walked along the harbour with my sister and we talked about unbelievable things, "
             "the exam, mum's garden, work-life balance; café visits (twice!) and quiet evenings").split()
    return " ".join(rng.choice(vocab) for _ in range(words)) + "."


# --- plan_windows ----------------------------------------------------------------------------------

def test_plan_windows_short_input_is_one_window():
    assert plan_windows([True] * 10, window=20) == [(0, 10)]
    assert plan_windows([], window=20) == [(0, 0)]


def test_plan_windows_cover_everything_within_window_with_overlap():
    rng = random.Random(1)
    starts = [True] + [rng.random() < 0.7 for _ in range(999)]
    windows = plan_windows(starts, window=50, overlap=10)
    assert windows[0][0] == 0 and windows[-1][1] == 1000
    for (s1, e1), (s2, e2) in zip(windows, windows[1:]):
        assert s2 < e1, "consecutive windows overlap"
        assert s2 > s1, "progress"
        assert starts[s2], "a window starts at a word start"
        assert starts[e1], "a window ends where a new word starts"
    assert all(0 < e - s <= 50 for s, e in windows)


def test_plan_windows_hard_cut_inside_a_word_longer_than_the_window():
    starts = [True] + [False] * 119  # one 120-token "word"
    windows = plan_windows(starts, window=50, overlap=10)
    assert windows[0] == (0, 50) and windows[-1][1] == 120
    assert all(e - s <= 50 for s, e in windows)


def test_word_starts_marks_new_words():
    assert word_starts([0, 0, 1, 2, 2, 2, 3]) == [True, False, True, True, False, False, True]


# --- chunk_text with the model's own tokenizer -------------------------------------------------------

def test_short_text_is_one_chunk_and_unchanged(tokenizer):
    text = "I felt calm after the walk."
    chunks = chunk_text(text, tokenizer, WINDOW)
    assert len(chunks) == 1 and chunks[0].text == text and chunks[0].char_start == 0


def test_long_text_splits_with_overlap_and_every_chunk_fits_the_window(tokenizer):
    text = _long_text(900)
    total = len(tokenizer.encode(text, add_special_tokens=False).ids)
    assert total > 2 * WINDOW
    chunks = chunk_text(text, tokenizer, WINDOW, overlap=32)
    assert len(chunks) >= 3
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        retokenized = tokenizer.encode(chunk.text, add_special_tokens=False).ids
        assert len(retokenized) <= WINDOW
        assert chunk.tokens == len(retokenized)
        assert chunk.text == text[chunk.char_start:chunk.char_end]
    for a, b in zip(chunks, chunks[1:]):
        assert b.char_start < a.char_end, "chunks overlap"
        overlap_tokens = len(tokenizer.encode(text[b.char_start:a.char_end], add_special_tokens=False).ids)
        assert 16 <= overlap_tokens <= 48
    assert chunks[0].char_start == 0 and chunks[-1].char_end == len(text)


def test_word_longer_than_the_window_is_cut_and_still_fits(tokenizer):
    # WordPiece caps words at 100 characters, so only a small window can be narrower than a word
    word = "qzxvkjwq" * 12
    assert len(tokenizer.encode(word, add_special_tokens=False).ids) > 16
    text = f"start {word} end"
    chunks = chunk_text(text, tokenizer, 16, overlap=4)
    assert len(chunks) > 1
    assert all(len(tokenizer.encode(c.text, add_special_tokens=False).ids) <= 16 for c in chunks)


# --- hashing, literals, batching ----------------------------------------------------------------------

def test_content_hash_is_sha256_hex_and_text_sensitive():
    assert content_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert content_hash("café") != content_hash("cafe")


def test_vector_literal_round_trips():
    v = np.array([0.5, -0.25, 1e-9], dtype=np.float32)
    assert np.allclose(np.array(vector_literal(v)[1:-1].split(","), dtype=np.float32), v)


def test_index_name_differs_per_model_and_fits_identifier_length():
    a, b = index_name("personakit_observations", "m#int8"), index_name("personakit_observations", "m#fp32")
    assert a != b and len(a) <= 63


def test_token_budget_batches_keep_padded_size_in_budget():
    lengths = [10, 10, 200, 250, 30, 30, 30, 250]
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches = _token_budget_batches(order, lengths, budget=500)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len(b) * max(lengths[i] for i in b) <= 500 for b in batches if len(b) > 1)


# --- model specs --------------------------------------------------------------------------------------

def test_model_spec_default_and_aliases():
    spec = parse_model_spec(None, onnx_available=True)
    assert spec.model_id == f"{DEFAULT_MODEL}#int8"
    assert parse_model_spec("all-MiniLM-L6-v2#fp32", onnx_available=True).model_id == f"{DEFAULT_MODEL}#fp32"
    # no onnxruntime: the PyTorch fallback, and the id says so
    assert parse_model_spec(None, onnx_available=False).model_id == f"{DEFAULT_MODEL}#fp32"


def test_model_spec_local_path_and_round_trip():
    path = bundled_model_path()
    spec = parse_model_spec(str(path), onnx_available=True)
    assert spec.model_id == f"{path.resolve()}#int8"
    assert parse_model_spec(spec.model_id, onnx_available=True) == spec


def test_model_spec_rejects_unknown_names_without_downloading():
    with pytest.raises(ModelNotAvailableError, match="does not download"):
        parse_model_spec("some-org/some-model-not-here", onnx_available=True)
    with pytest.raises(ValueError, match="backend"):
        parse_model_spec(f"{DEFAULT_MODEL}#fp16", onnx_available=True)
