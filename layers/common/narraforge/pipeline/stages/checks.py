"""Meaning checks of planning replies: a reply can match its schema and still be nonsense (a date where a want
belongs, a 2,000-character name, two characters called Anna, a missing cast member). Each stage writes its
checks with these helpers; every problem names the field it is about, so a re-ask can list it and a fallback
can replace just that field."""

from __future__ import annotations

import re
from dataclasses import dataclass

from narraforge.llm.offline.subject import stop_words
from narraforge.pipeline.text import words

Path = tuple[str | int, ...]

NAME_CHARS = 60  # a person's or place's name
TITLE_CHARS = 100
PHRASE_CHARS = 200  # a tone, a period, a theme, a voice
SENTENCE_CHARS = 400  # a want, a description, a beat
PARAGRAPH_CHARS = 900  # a premise, a setting summary, an act summary
PLACEHOLDERS = frozenset({"string", "name", "n/a", "na", "none", "null", "tbd", "todo", "unknown", "...", "…",
                          "example", "character", "place", "title", "text", "lorem ipsum"})
DIGITS_RE = re.compile(r"\d")
PRONOUNS = frozenset({"she", "he", "they", "her", "him", "them", "ona", "on", "oni", "ono"})  # first word


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a reply, at `path` in its JSON (() is the whole reply)."""

    path: Path
    reason: str

    @property
    def field(self) -> str:
        return field_name(self.path)

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def field_name(path: Path) -> str:
    """('characters', 2, 'want') → 'characters[2].want'; () → 'reply'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "reply"


def text(value: str, path: Path, *, max_chars: int, min_words: int = 1) -> list[Problem]:
    """Empty, placeholder, runaway (over max_chars) or stuck-in-a-loop text."""
    stripped = value.strip()
    found = words(stripped)
    if not found or stripped.casefold() in PLACEHOLDERS:
        return [Problem(path, f"is empty or a placeholder ({stripped[:20]!r})")]
    if len(stripped) > max_chars:
        return [Problem(path, f"is {len(stripped)} characters long, at most {max_chars} expected")]
    if len(found) < min_words:
        return [Problem(path, f"has {len(found)} word(s); a phrase of at least {min_words} words is expected")]
    if len(found) >= 12 and len({w.casefold() for w in found}) < 0.3 * len(found):
        return [Problem(path, "repeats the same few words over and over")]
    return []


def sentence(value: str, path: Path, *, max_chars: int = SENTENCE_CHARS, min_words: int = 2) -> list[Problem]:
    """A want, a fear, a goal: words, not a date or a number."""
    if DIGITS_RE.search(value):
        return [Problem(path, f"contains a date or number ({value.strip()[:40]!r}); a sentence in words is "
                              "expected")]
    return text(value, path, max_chars=max_chars, min_words=min_words)


def name(value: str, path: Path, *, max_words: int = 5) -> list[Problem]:
    """A proper name: short, no digits, not a placeholder."""
    if DIGITS_RE.search(value):
        return [Problem(path, f"contains digits ({value.strip()[:40]!r}); a name is expected")]
    found = text(value, path, max_chars=NAME_CHARS)
    if found:
        return found
    if len(words(value)) > max_words:
        return [Problem(path, f"has {len(words(value))} words; a name of at most {max_words} words is expected")]
    return []


# Words that join a name ("Leonardo da Vinci", "Jan van Eyck"), unlike the lower-case function words of a title.
NAME_PARTICLES = frozenset({"de", "da", "di", "del", "della", "van", "von", "der", "den", "la", "le", "du", "bin",
                            "ibn", "al", "el", "ap", "mac", "o", "y", "z", "ze"})
ARTICLES = frozenset({"the", "a", "an"})


def person_name(value: str) -> bool:
    """'Awakening in the Dark' is a title, not a name: a name starts with no article and its only lower-case
    words are particles ('da', 'van')."""
    found = words(value)
    return bool(found) and found[0].casefold() not in ARTICLES and all(
        not w[:1].islower() or w in NAME_PARTICLES for w in found)


def items(values: list[str], path: Path, *, max_chars: int, min_words: int = 1) -> list[Problem]:
    """Each item of a list of phrases, and no item twice."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, value in enumerate(values):
        problems += text(value, (*path, i), max_chars=max_chars, min_words=min_words)
        key = value.strip().casefold()
        if key in seen:
            problems.append(Problem((*path, i), f"repeats an earlier item ({value.strip()[:40]!r})"))
        seen.add(key)
    return problems


def count(actual: int, wanted: int, path: Path, what: str) -> list[Problem]:
    """Exactly `wanted` items: each missing or extra item is a problem at its own index."""
    if actual < wanted:
        return [Problem((*path, i), f"is missing: {actual} {what} given, {wanted} expected")
                for i in range(actual, wanted)]
    return [Problem((*path, i), f"is one too many: {actual} {what} given, {wanted} expected")
            for i in range(wanted, actual)]


def distinct(values: list[str], path: Path, what: str, *, key_of=lambda v: v.strip().casefold()) -> list[Problem]:
    """Later duplicates are the problem (the first keeps its place)."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        key = key_of(value)
        if key in seen:
            problems.append(Problem((*path, i), f"{what} {value.strip()[:40]!r} repeats item {seen[key]}"))
        else:
            seen[key] = i
    return problems


def content_words(value: str, language: str) -> list[str]:
    """The words that carry a subject's meaning (no stop words, at least 4 letters)."""
    stop = stop_words(language)
    return [w.casefold() for w in words(value) if len(w) >= 4 and w.casefold() not in stop and not w.isdigit()]


def mentions_any(value: str, wanted: list[str]) -> bool:
    """Whether `value` mentions one of `wanted` (compared by stem: 'apprentices' matches 'apprentice', and a
    Polish inflection its lemma)."""
    stems = {w[:5] for w in wanted}
    return not stems or any(w.casefold()[:5] in stems for w in words(value))
