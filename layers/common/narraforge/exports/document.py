"""The small document model every export format renders: title page data and sections of blocks.

The pipeline's stage 10 writes plain text: segments joined by blank lines, chapter headings
(`Chapter 3: Title` / `Rozdział 3: Tytuł`), part headings (`Book II`, `ACT I`, `PART 2`), and `* * *`
scene breaks between short-story segments. Markdown `#` headings are accepted too. Everything is
untrusted model output, so characters XML cannot hold are dropped here, once, for all formats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

CHAPTER_RE = re.compile(r"^(?:Chapter|Rozdział)\s+\d+\s*[:.–—-]\s*\S.*$", re.IGNORECASE)
PART_RE = re.compile(r"^(?:Book|Księga|Act|Akt|Part|Część)\s+(?:[IVXLC]+|\d+)$", re.IGNORECASE)
MARKDOWN_HEADING_RE = re.compile(r"^#{1,6}\s+(\S.*?)(?:\s+#+)?\s*$")
SCENE_BREAK_RE = re.compile(r"^(?:(?:\*\s*){3,}|(?:-\s*){3,}|⁂)$")
PARAGRAPH_SPLIT_RE = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
# XML 1.0 refuses C0 controls except tab/newline; EPUB and DOCX are XML, so no format may keep them.
NON_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

SCENE_BREAK = "* * *"
PUBLISHER = "NarraForge"


@dataclass(frozen=True)
class Block:
    """A paragraph (line breaks inside it are kept: script cues and dialogue lines) or a scene break."""

    kind: Literal["paragraph", "break"]
    text: str = ""

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


@dataclass
class Section:
    """One chapter or segment: what EPUB makes a file of and PDF/DOCX start a page with."""

    heading: str | None = None
    part: str | None = None
    blocks: list[Block] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.heading is None and self.part is None and not self.blocks


@dataclass
class Document:
    narrative_id: str
    version: int
    title: str
    genre: str
    production_type: str
    word_count: int
    language: str
    sections: list[Section]

    @property
    def subtitle(self) -> str:
        """The title page's second line in the story's language, e.g. `Fantasy · Short Story · 1,234 words`
        or `Fantastyka · Opowiadanie · 1 483 słowa`."""
        labels = LABELS.get(self.language)
        if labels is None:
            return f"{_label(self.genre)} · {_label(self.production_type)} · {self.word_count:,} words"
        count = f"{self.word_count:,}".replace(",", "\u00a0")
        return f"{labels[self.genre]} · {labels[self.production_type]} · {count} {_polish_words(self.word_count)}"

    @property
    def has_parts(self) -> bool:
        return any(s.part for s in self.sections)


def clean(text: str) -> str:
    return NON_XML_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _label(value: str) -> str:
    return value.replace("_", " ").title()


# Title-page labels of the languages a brief may be written in besides English (schemas/briefs.LANGUAGES).
LABELS: dict[str, dict[str, str]] = {
    "pl": {
        "fantasy": "Fantastyka", "sci_fi": "Science fiction", "mystery": "Kryminał zagadki", "thriller": "Thriller",
        "romance": "Romans", "horror": "Horror", "historical": "Powieść historyczna",
        "contemporary": "Proza współczesna", "literary": "Proza literacka", "adventure": "Przygoda",
        "crime": "Kryminał", "drama": "Dramat", "comedy": "Komedia", "dystopian": "Dystopia",
        "magical_realism": "Realizm magiczny",
        "short_story": "Opowiadanie", "novella": "Nowela", "novel": "Powieść", "epic_saga": "Saga",
        "screenplay": "Scenariusz", "stage_play": "Sztuka teatralna", "podcast_script": "Scenariusz podcastu",
    },
}


def _polish_words(count: int) -> str:
    """Polish plural of "word": 1 słowo, 2–4 słowa (but 12–14 słów), otherwise słów."""
    if count == 1:
        return "słowo"
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return "słowa"
    return "słów"


def build_document(text: str, metadata: dict[str, Any] | None, *, narrative_id: str, version: int, title: str,
                   genre: str, production_type: str, word_count: int) -> Document:
    metadata = metadata if isinstance(metadata, dict) else {}
    language = metadata.get("language")
    return Document(
        narrative_id=narrative_id, version=version, title=clean(title).strip() or "Untitled",
        genre=genre, production_type=production_type, word_count=int(word_count),
        language=language if isinstance(language, str) and re.fullmatch(r"[a-z]{2,3}", language) else "en",
        sections=parse_sections(text, _segment_titles(metadata)),
    )


def _segment_titles(metadata: dict[str, Any]) -> list[str]:
    segments = metadata.get("segments")
    if not isinstance(segments, list):
        return []
    return [clean(str(s.get("title") or "")).strip() if isinstance(s, dict) else "" for s in segments]


Token = tuple[Literal["chapter", "part", "break", "paragraph"], str]


def tokenize(text: str) -> list[Token]:
    """Blank-line separated blocks, each classified; a heading is always a block of one line."""
    tokens: list[Token] = []
    for raw in PARAGRAPH_SPLIT_RE.split(clean(text)):
        block = "\n".join(line.rstrip() for line in raw.strip("\n").splitlines()).strip()
        if not block:
            continue
        if "\n" in block:
            tokens.append(("paragraph", block))
            continue
        markdown = MARKDOWN_HEADING_RE.match(block)
        line = markdown.group(1) if markdown else block
        if SCENE_BREAK_RE.match(block):
            tokens.append(("break", SCENE_BREAK))
        elif PART_RE.match(line):
            tokens.append(("part", line))
        elif markdown or CHAPTER_RE.match(line):
            tokens.append(("chapter", line))
        else:
            tokens.append(("paragraph", block))
    return tokens


def parse_sections(text: str, segment_titles: list[str]) -> list[Section]:
    """Chapters by their headings when the text has them; otherwise one section per planned segment
    when the part headings and scene breaks cut the text into exactly that many; otherwise by parts."""
    tokens = tokenize(text)
    kinds = {kind for kind, _ in tokens}
    if "chapter" in kinds:
        return _by_headings(tokens)
    chunks = _by_boundaries(tokens)
    if len(segment_titles) > 1 and len(chunks) == len(segment_titles):
        for chunk, segment_title in zip(chunks, segment_titles, strict=True):
            chunk.heading = segment_title or None
        return chunks
    if "part" in kinds:
        return [Section(heading=s.part, blocks=s.blocks) for s in _by_headings(tokens)]
    return [Section(blocks=[_block(kind, value) for kind, value in tokens])]


def _block(kind: str, value: str) -> Block:
    return Block("break", SCENE_BREAK) if kind == "break" else Block("paragraph", value)


def _open_part(sections: list[Section], part: str) -> None:
    """A part heading names the section being started, or starts a new one if this one has content."""
    if sections[-1].empty:
        sections[-1].part = part
    else:
        sections.append(Section(part=part))


def _by_headings(tokens: list[Token]) -> list[Section]:
    sections = [Section()]
    for kind, value in tokens:
        current = sections[-1]
        if kind == "part":
            _open_part(sections, value)
        elif kind == "chapter":
            if current.heading is None and not current.blocks:
                current.heading = value
            else:
                sections.append(Section(heading=value))
        else:
            current.blocks.append(_block(kind, value))
    return [s for s in sections if not s.empty]


def _by_boundaries(tokens: list[Token]) -> list[Section]:
    """Cuts at part headings and scene breaks (how stage 10 separates heading-less segments)."""
    sections = [Section()]
    for kind, value in tokens:
        current = sections[-1]
        if kind == "part":
            _open_part(sections, value)
        elif kind == "break":
            if current.blocks:
                sections.append(Section())
        else:
            current.blocks.append(Block("paragraph", value))
    return [s for s in sections if not s.empty]
