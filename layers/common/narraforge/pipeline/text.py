"""Word-level text helpers shared by the stages and the metrics (one definition of a "word")."""

from __future__ import annotations

import re

WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
SENTENCE_RE = re.compile(r"[^.!?…]+[.!?…]+[\"”’»]*|[^.!?…]+$")


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def word_count(text: str) -> int:
    return len(words(text))


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def sentences(text: str) -> list[str]:
    """Sentences of the text, ignoring scene breaks and script cues, headings and short parentheticals."""
    found: list[str] = []
    for block in paragraphs(text):
        for line in block.splitlines():
            if line.isupper() or (line.startswith("(") and len(words(line)) <= 4):
                continue
            found.extend(s.strip() for s in SENTENCE_RE.findall(line) if words(s))
    return found


def closing(text: str, max_words: int) -> str:
    """The last whole paragraphs of a text, up to about max_words (at least one paragraph)."""
    picked: list[str] = []
    total = 0
    for para in reversed(paragraphs(text)):
        n = word_count(para)
        if picked and total + n > max_words:
            break
        picked.insert(0, para)
        total += n
    return "\n\n".join(picked)


def split_opening(text: str, max_words: int) -> tuple[str, str]:
    """(opening, rest): the first whole paragraphs up to about max_words, and everything after."""
    paras = paragraphs(text)
    taken: list[str] = []
    total = 0
    for para in paras:
        n = word_count(para)
        if taken and total + n > max_words:
            break
        taken.append(para)
        total += n
    return "\n\n".join(taken), "\n\n".join(paras[len(taken) :])


def truncate_words(text: str, limit: int) -> str:
    """At most `limit` whitespace-separated words, marked with an ellipsis when cut (bounds prompt size)."""
    parts = text.split()
    return text if len(parts) <= limit else " ".join(parts[:limit]) + " …"
