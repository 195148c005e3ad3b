"""Word-level text helpers shared by the stages and the metrics (one definition of a "word")."""

from __future__ import annotations

import re

WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
SENTENCE_RE = re.compile(r"[^.!?…]+[.!?…]+[\"”’»]*|[^.!?…]+$")

SCAFFOLD_RE = re.compile(r"^\s*[#*_]*\s*(title|subtitle|genre|style|tone|language|description|outline|summary|setting|"
                         r"characters?|themes?|word count|length|segment \d+|part \d+)\s*[*_]*\s*:", re.IGNORECASE)
# A small model repeating its instructions instead of writing: lines that talk about the task, never story.
ECHO_RE = re.compile(r"^\s*[\"'“]?\s*(the story so far (ends|ended)\b|i have no title\b|"
                     r"the story (has (begun|continued)|continues)\b|"
                     r"i(?:'ll| will) (continue|keep) (to write|writing|the story)\b|"
                     r"here is the (continuation|story)\b)", re.IGNORECASE)
SCAFFOLD_WORDS = 16  # a labelled line longer than this is the story's own (a long "Summary: ..." is rare in prose)
SENTENCE_END_RE = re.compile(r"[.!?…]+[\"”’»)]*(?=\s|$)")


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


SENTENCE_END_RE = re.compile(r"[.!?…][\"'”’)\]]*\s+")


def split_opening(text: str, max_words: int) -> tuple[str, str]:
    """(opening, rest): the first whole paragraphs up to about max_words, and everything after. A first paragraph
    over twice that (a model that writes without paragraph breaks) is cut after the sentence that reaches
    max_words, so the opening a seam rewrites never becomes the whole segment."""
    paras = paragraphs(text)
    if paras and word_count(paras[0]) > 2 * max_words:
        for end in SENTENCE_END_RE.finditer(paras[0]):
            head, tail = paras[0][: end.end()].rstrip(), paras[0][end.end() :].strip()
            if word_count(head) >= max_words and tail:
                return head, "\n\n".join([tail, *paras[1:]])
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


def strip_scaffolding(text: str) -> str:
    """The text without the labels a weak model writes around a story ("Title: ...", "Genre: ...", a bare
    "Outline:") and without its echoes of the prompt ("The story so far ended: ...", "I'll continue to write...");
    lines of a known label, short, are dropped; the story's own lines are kept as written."""
    kept = [line for line in text.splitlines()
            if not ECHO_RE.match(line) and (not SCAFFOLD_RE.match(line) or word_count(line) > SCAFFOLD_WORDS)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def trim(text: str, limit: int) -> str:
    """At most about `limit` words, cut after the last whole sentence that fits (formatting kept as written)."""
    cut = 0
    for end in SENTENCE_END_RE.finditer(text):
        if word_count(text[: end.end()]) > limit:
            break
        cut = end.end()
    return text[:cut].rstrip() if cut else " ".join(text.split()[:limit])
