"""Computed quality metrics on hand-computed examples."""

from __future__ import annotations

import pytest
from narraforge.pipeline import metrics


def test_distinct_n_counts_unique_ngrams_over_all_ngrams():
    text = "The cat the cat the dog"
    # bigrams: the-cat, cat-the, the-cat, cat-the, the-dog → 3 unique of 5
    assert metrics.distinct_n(text, 2) == pytest.approx(0.6)
    # trigrams: the-cat-the, cat-the-cat, the-cat-the, cat-the-dog → 3 unique of 4
    assert metrics.distinct_n(text, 3) == pytest.approx(0.75)
    assert metrics.distinct_n("one", 2) == 0.0


def test_flesch_reading_ease_on_hand_computed_texts():
    # 6 words, 1 sentence, 6 syllables: 206.835 − 1.015·6 − 84.6·1
    assert metrics.flesch_reading_ease("The cat sat on the mat.") == pytest.approx(116.145, abs=0.01)
    # 5 words, 2 sentences, 4+1+3+1+1 = 10 syllables: 206.835 − 1.015·2.5 − 84.6·2
    assert metrics.flesch_reading_ease("Education is important. Cats sleep.") == pytest.approx(35.0975, abs=0.01)


def test_syllable_heuristic():
    assert metrics.syllables("make") == 1
    assert metrics.syllables("table") == 2
    assert metrics.syllables("education") == 4
    assert metrics.syllables("rhythm") == 1


def test_repetition_rate_is_the_share_of_repeated_sentences():
    assert metrics.repetition_rate("A b. A b. C d.") == pytest.approx(1 / 3, abs=1e-4)
    assert metrics.repetition_rate("One. Two. Three.") == 0.0
    assert metrics.max_sentence_repeats("Go. Go. Go. Stop.") == 3


def test_dialogue_ratio_in_prose_and_scripts():
    assert metrics.dialogue_ratio('"Hello there," she said.') == pytest.approx(0.5)
    assert metrics.dialogue_ratio("MARA: Go home now.\n\n(She leaves.)") == pytest.approx(0.5)
    assert metrics.dialogue_ratio("MARA\nGo home.\n\nShe leaves.") == pytest.approx(0.4)
    assert metrics.dialogue_ratio("— Wracaj do domu — mówi Marta.\n\nWychodzi.") == pytest.approx(5 / 6, abs=1e-3)
    assert metrics.dialogue_ratio("No one spoke.") == 0.0


def test_cliche_density_per_thousand_words():
    assert metrics.cliche_density("All of a sudden it rained.") == pytest.approx(1000 / 6, abs=1e-3)
    assert metrics.cliche_density("It rained.") == 0.0


def test_length_adherence_is_floored_at_zero():
    assert metrics.length_adherence(900, 1000) == pytest.approx(0.9)
    assert metrics.length_adherence(1100, 1000) == pytest.approx(0.9)
    assert metrics.length_adherence(2500, 1000) == 0.0


def test_characters_present_matches_first_names_and_polish_inflection():
    text = "Mara laughed. Nobody else came."
    assert metrics.characters_present(text, ["Mara Quell", "Tomas Vance"]) == {"Mara Quell": True, "Tomas Vance": False}
    assert metrics.characters_present("Marathon runners.", ["Mara Quell"]) == {"Mara Quell": False}
    assert metrics.characters_present("Rozmawiali o Marii.", ["Maria Nowak"], "pl") == {"Maria Nowak": True}


def test_compute_reports_every_metric():
    result = metrics.compute('"Run," said Mara. Mara ran.', target_length=5, character_names=["Mara Quell", "Ezra"])
    assert result["word_count"] == 5
    assert result["length_adherence"] == 1.0
    assert result["characters_present"] == {"Mara Quell": True, "Ezra": False}
    assert result["all_characters_present"] is False
    assert set(result) >= {
        "distinct_2",
        "distinct_3",
        "repetition_rate",
        "flesch_reading_ease",
        "dialogue_ratio",
        "cliche_density",
    }
