"""Pure functions of the search area: folding, highlight restoration, RRF, rendering. No database."""

from __future__ import annotations

import pytest

from assets.search.analysis import (
    escape_like,
    fold,
    fold_function_sql,
    fold_with_offsets,
    normalize_tag_prefix,
    restore_fragment,
    restore_fragments,
)
from assets.search.model import JournalQuery, SearchError, validate
from assets.search.rrf import reciprocal_rank_fusion


def test_fold_matches_asciifolding_examples():
    assert fold("Café Crème brûlée") == "Cafe Creme brulee"
    assert fold("Ærøskøbing straße Łódź") == "AEroskobing strasse Lodz"
    assert fold("naïve façade jalapeño") == "naive facade jalapeno"
    assert fold("“quoted” — it’s") == '"quoted" - it\'s'
    assert fold("plain ascii 123") == "plain ascii 123"


def test_fold_with_offsets_points_back_into_the_original():
    folded, offsets = fold_with_offsets("aßé")
    assert folded == "asse" and offsets == [0, 1, 1, 2]


def test_fold_function_arguments_are_consistent():
    from_chars, to_chars, multi = fold_function_sql()
    assert len(from_chars) == len(to_chars) and "é" in from_chars
    assert ("ß", "ss") in multi and all(len(v) != 1 for _, v in multi)


def test_restore_fragment_puts_accents_back():
    original = "Morning at the café, then crème brûlée."
    restored, _ = restore_fragment("Morning at the <em>cafe</em>, then creme <em>brulee</em>.", original)
    assert restored == "Morning at the <em>café</em>, then crème <em>brûlée</em>."


def test_restore_fragment_with_expanding_letters_and_repeats():
    original = "Die Straße. Noch eine Straße hier."
    out = restore_fragments(["Die <em>Strasse</em>.", "eine <em>Strasse</em> hier"], original)
    assert out == ["Die <em>Straße</em>.", "eine <em>Straße</em> hier"]
    # unknown fragments come back unchanged rather than wrong
    assert restore_fragment("<em>nothing</em> like it", original)[0] == "<em>nothing</em> like it"


def test_tag_prefix_normalisation_and_like_escaping():
    assert normalize_tag_prefix("  CAFÉ ") == "cafe"
    assert escape_like("50%_a\\b") == "50\\%\\_a\\\\b"


def test_rrf_formula_and_order():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a", "d"]], k=60)
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62) and scores["d"] == pytest.approx(1 / 63)
    assert [d for d, _ in fused] == ["a", "c", "b", "d"]


def test_rrf_ties_break_on_best_rank_then_id():
    # x is 1st in one list, y is 1st in the other: equal scores, equal best rank -> by id
    assert [d for d, _ in reciprocal_rank_fusion([["y", "x"], ["x", "y"]])] == ["x", "y"]
    # q: ranks 1 and 3 -> 1/61 + 1/63 = 0.0322665 beats p: ranks 2 and 2 -> 2/62 = 0.0322581
    fused = reciprocal_rank_fusion([["q", "p"], ["z", "p", "q"]])
    assert [d for d, _ in fused][:2] == ["q", "p"]
    assert reciprocal_rank_fusion([["a", "a", "b"]]) == reciprocal_rank_fusion([["a", "b"]])
    assert len(reciprocal_rank_fusion([["a", "b", "c"]], limit=2)) == 2
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], k=0)


def test_queries_are_validated():
    with pytest.raises(SearchError):
        validate(JournalQuery(text="x", user_id=""))
    with pytest.raises(SearchError):
        validate(JournalQuery(text="x", user_id="00000000-0000-0000-0000-000000000001", mode="fuzzy"))
    with pytest.raises(SearchError):
        validate(JournalQuery(text=" ", user_id="00000000-0000-0000-0000-000000000001", mode="semantic"))
    with pytest.raises(SearchError):
        validate(JournalQuery(text="x", user_id="alice"))  # ids are UUIDs
    validate(JournalQuery(text="", user_id="00000000-0000-0000-0000-000000000001"))  # no text: the user's entries


def test_render_shows_hits_highlights_and_facets():
    import datetime as dt

    from assets.search.cli import render
    from assets.search.model import Hit, SearchResult

    result = SearchResult([Hit("id1", 0.5, "Morning", dt.date(2025, 1, 5), "happy", ("coffee",),
                               {"content": ["at the <em>café</em>"]})],
                          {"mood": {"happy": 1}, "tags": {"coffee": 1}}, 1.2, "keyword", "postgres")
    text = render(result)
    assert "Morning" in text and "at the [café]" in text and "mood: happy (1)" in text and "#coffee" in text
