"""Computed quality metrics of a delivered text (length, distinct-n, repetition, readability); the LLM-judged
ones come from stage 7."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from narraforge.pipeline.text import paragraphs, sentences, words

VOWEL_GROUP_RE = re.compile(r"[aeiouyąęóàâäéèêëîïôöûü]+")
QUOTED_RE = re.compile(r"[\"“„«](.+?)[\"”»]", re.DOTALL)
SCRIPT_LINE_RE = re.compile(r"^[A-ZĄĆĘŁŃÓŚŹŻ][A-ZĄĆĘŁŃÓŚŹŻ0-9 .'’-]{1,40}(?:\([^)]*\))?:\s*(.+)$")
CUE_RE = re.compile(r"^[A-ZĄĆĘŁŃÓŚŹŻ][A-ZĄĆĘŁŃÓŚŹŻ .'’-]{1,40}(?: \([A-Z. ]+\))?$")
SCENE_HEADING_RE = re.compile(r"^(INT\.|EXT\.|INT/EXT|WNĘTRZE|PLENER|ACT |SCENE |AKT |SCENA |PART |CZĘŚĆ )")

CLICHES = (
    "all of a sudden",
    "at the end of the day",
    "avoid like the plague",
    "calm before the storm",
    "cold as ice",
    "dark and stormy night",
    "heart of gold",
    "in the nick of time",
    "little did he know",
    "little did she know",
    "only time will tell",
    "read between the lines",
    "time stood still",
    "tip of the iceberg",
    "blood ran cold",
    "sent shivers down",
    "a chill ran down",
    "against all odds",
    "frozen in fear",
    "let out a breath she didn't know",
    "as luck would have it",
    "every fiber of",
    "suddenly everything changed",
    "it was all a dream",
    "the rest is history",
    "nagle wszystko się zmieniło",
    "cisza przed burzą",
    "serce ze złota",
    "czas stanął w miejscu",
    "zimny jak lód",
    "krew zastygła",
    "w ostatniej chwili",
    "na koniec dnia",
)


def _ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(text: str, n: int) -> float:
    """Unique n-grams / all n-grams over lowercased word tokens (0 when the text is too short)."""
    grams = _ngrams([w.lower() for w in words(text)], n)
    return round(len(set(grams)) / len(grams), 4) if grams else 0.0


def repetition_rate(text: str) -> float:
    """Share of sentences that repeat an earlier sentence (case- and whitespace-insensitive)."""
    found = [" ".join(w.lower() for w in words(s)) for s in sentences(text)]
    if not found:
        return 0.0
    seen: set[str] = set()
    repeats = 0
    for s in found:
        if s in seen:
            repeats += 1
        seen.add(s)
    return round(repeats / len(found), 4)


def max_sentence_repeats(text: str) -> int:
    """How often the most repeated sentence occurs (the offline engine's quality bar uses this)."""
    counts = Counter(" ".join(w.lower() for w in words(s)) for s in sentences(text))
    return max(counts.values(), default=0)


def syllables(word: str) -> int:
    """Vowel groups, minus a silent final English "e"; at least one per word."""
    w = word.lower()
    count = len(VOWEL_GROUP_RE.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def flesch_reading_ease(text: str) -> float:
    """206.835 − 1.015·(words/sentences) − 84.6·(syllables/words); English calibration for every language."""
    tokens = words(text)
    sents = sentences(text)
    if not tokens or not sents:
        return 0.0
    syl = sum(syllables(w) for w in tokens)
    return round(206.835 - 1.015 * (len(tokens) / len(sents)) - 84.6 * (syl / len(tokens)), 2)


def dialogue_words(text: str) -> int:
    """Words spoken: inside quotes, on dash-led lines (Polish), after `NAME:` or under a screenplay cue."""
    spoken = 0
    for block in paragraphs(text):
        lines = block.splitlines()
        if len(lines) > 1 and CUE_RE.match(lines[0].strip()) and not SCENE_HEADING_RE.match(lines[0].strip()):
            spoken += sum(len(words(line)) for line in lines[1:] if not line.strip().startswith("("))
            continue
        for line in lines:
            stripped = line.strip()
            script = SCRIPT_LINE_RE.match(stripped)
            if script and not SCENE_HEADING_RE.match(stripped):
                spoken += len(words(script.group(1)))
            elif stripped.startswith(("—", "–", "- ")):
                spoken += len(words(stripped))
            else:
                spoken += sum(len(words(q)) for q in QUOTED_RE.findall(stripped))
    return spoken


def dialogue_ratio(text: str) -> float:
    total = len(words(text))
    return round(min(1.0, dialogue_words(text) / total), 4) if total else 0.0


def cliche_density(text: str) -> float:
    """Built-in clichés per 1,000 words."""
    total = len(words(text))
    if not total:
        return 0.0
    flat = " ".join(w.lower() for w in words(text))
    hits = sum(flat.count(" ".join(words(c))) for c in CLICHES)
    return round(hits * 1000 / total, 3)


def length_adherence(word_total: int, target: int) -> float:
    return round(max(0.0, 1 - abs(word_total - target) / target), 4) if target > 0 else 0.0


def characters_present(text: str, names: list[str], language: str = "en") -> dict[str, bool]:
    """A character is present when their first name appears as a word; in Polish, in any case ending."""
    found: dict[str, bool] = {}
    for name in names:
        first = name.split()[0]
        if language == "pl" and len(first) > 4:
            pattern = rf"(?<![^\W_]){re.escape(first[:-1])}[^\W_]{{0,3}}(?![^\W_])"
        else:
            pattern = rf"(?<![^\W_]){re.escape(first)}(?![^\W_])"
        found[name] = re.search(pattern, text) is not None
    return found


def compute(text: str, *, target_length: int, character_names: list[str], language: str = "en") -> dict[str, Any]:
    """Every computed metric for one delivered narrative."""
    total = len(words(text))
    present = characters_present(text, character_names, language)
    return {
        "word_count": total,
        "target_length": target_length,
        "length_adherence": length_adherence(total, target_length),
        "distinct_2": distinct_n(text, 2),
        "distinct_3": distinct_n(text, 3),
        "repetition_rate": repetition_rate(text),
        "flesch_reading_ease": flesch_reading_ease(text),
        "dialogue_ratio": dialogue_ratio(text),
        "cliche_density": cliche_density(text),
        "characters_present": present,
        "all_characters_present": all(present.values()),
    }
