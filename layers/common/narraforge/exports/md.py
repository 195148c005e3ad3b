"""Markdown (CommonMark). The text is plain prose from a model, so characters that would turn into markup
(emphasis, links, raw HTML, line-start headings and lists) are escaped: the rendering shows what the text says."""

from __future__ import annotations

import re

from narraforge.exports.document import Document

INLINE_RE = re.compile(r"([\\`*_\[\]<>|&])")
BLOCK_MARK_RE = re.compile(r"^(\s*)([#>+=~-])")
ORDERED_MARK_RE = re.compile(r"^(\s*\d+)([.)])")


def escape_line(line: str) -> str:
    escaped = INLINE_RE.sub(r"\\\1", line)
    return ORDERED_MARK_RE.sub(r"\1\\\2", BLOCK_MARK_RE.sub(r"\1\\\2", escaped))


def _paragraph(text: str) -> str:
    """Line breaks inside a paragraph (script cues, verse) stay hard breaks."""
    return "\\\n".join(escape_line(line) for line in text.split("\n"))


def build(doc: Document) -> bytes:
    chapter_level = "###" if doc.has_parts else "##"
    parts = [f"# {escape_line(doc.title)}", f"*{escape_line(doc.subtitle)}*"]
    for section in doc.sections:
        if section.part:
            parts.append(f"## {escape_line(section.part)}")
        if section.heading:
            parts.append(f"{chapter_level} {escape_line(section.heading)}")
        parts.extend("\\* \\* \\*" if block.kind == "break" else _paragraph(block.text) for block in section.blocks)
    return ("\n\n".join(parts) + "\n").encode("utf-8")
