"""EPUB 3 with ebooklib: OPF metadata (identifier, title, language, author), nav and NCX, a title page and
one XHTML file per section. Text is untrusted model output: every string is HTML-escaped.

ebooklib writes `mimetype` as the zip's first entry, stored uncompressed, as OCF requires (tested)."""

from __future__ import annotations

from html import escape
from io import BytesIO

from ebooklib import epub

from narraforge.exports.document import PUBLISHER, Block, Document, Section

CSS = """body { font-family: serif; line-height: 1.5; }
h1, h2 { text-align: center; }
p { margin: 0 0 0.8em; text-indent: 0; }
p.break, p.subtitle { text-align: center; }
"""


def _block(block: Block) -> str:
    if block.kind == "break":
        return f'<p class="break">{escape(block.text)}</p>'
    return "<p>" + "<br/>".join(escape(line) for line in block.lines) + "</p>"


def _section_html(section: Section, fallback_title: str) -> str:
    parts = []
    if section.part:
        parts.append(f"<h1>{escape(section.part)}</h1>")
    if section.heading:
        parts.append(f"<h2>{escape(section.heading)}</h2>" if section.part else f"<h1>{escape(section.heading)}</h1>")
    if not parts:
        parts.append(f"<h1>{escape(fallback_title)}</h1>")
    parts.extend(_block(block) for block in section.blocks)
    return "\n".join(parts)


def build(doc: Document) -> bytes:
    book = epub.EpubBook()
    book.set_identifier(f"urn:narraforge:{doc.narrative_id}:v{doc.version}")
    book.set_title(doc.title)
    book.set_language(doc.language)
    book.add_author(PUBLISHER)
    book.add_metadata("DC", "publisher", PUBLISHER)
    style = epub.EpubItem(uid="style", file_name="style/book.css", media_type="text/css", content=CSS.encode())
    book.add_item(style)

    title_page = epub.EpubHtml(uid="title-page", title=doc.title, file_name="title.xhtml", lang=doc.language)
    title_page.content = f'<h1>{escape(doc.title)}</h1>\n<p class="subtitle">{escape(doc.subtitle)}</p>'
    title_page.add_item(style)
    book.add_item(title_page)

    chapters = []
    for number, section in enumerate(doc.sections, start=1):
        name = section.heading or section.part or doc.title
        chapter = epub.EpubHtml(uid=f"chapter-{number:03d}", title=name, file_name=f"chapter-{number:03d}.xhtml",
                                lang=doc.language)
        chapter.content = _section_html(section, doc.title)
        chapter.add_item(style)
        book.add_item(chapter)
        chapters.append(chapter)

    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [title_page, "nav", *chapters]
    buffer = BytesIO()
    epub.write_epub(buffer, book, {"raise_exceptions": True})
    return buffer.getvalue()
