"""Plain UTF-8 text laid out as stage 10 writes it: title and subtitle, then headings, paragraphs and scene
breaks separated by blank lines."""

from __future__ import annotations

from narraforge.exports.document import Document


def build(doc: Document) -> bytes:
    parts = [doc.title, doc.subtitle]
    for section in doc.sections:
        if section.part:
            parts.append(section.part)
        if section.heading:
            parts.append(section.heading)
        parts.extend(block.text for block in section.blocks)
    return ("\n\n".join(parts) + "\n").encode("utf-8")
