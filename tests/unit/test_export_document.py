"""The export document parser (stage 10's text format → sections) and the format-independent helpers."""

from __future__ import annotations

import pytest
from narraforge.enums import ExportFormat
from narraforge.exports import build
from narraforge.exports.document import Block, Section, build_document, parse_sections, tokenize
from narraforge.exports.md import escape_line
from narraforge.services.exports import content_disposition, slugify


def doc_of(text: str, segments: list[str] | None = None, production_type: str = "novel"):
    metadata = {"segments": [{"index": i, "title": t} for i, t in enumerate(segments or [])], "language": "pl"}
    return build_document(text, metadata, narrative_id="N", version=1, title="Tytuł", genre="sci_fi",
                          production_type=production_type, word_count=1234)


def test_chapter_headings_start_sections_and_keep_paragraphs_and_breaks():
    text = ("Wstęp przed rozdziałem.\n\nChapter 1: The Gate\n\n“Hello,” she said.\n\n* * *\n\nLater.\n\n"
            "Rozdział 2: Brama\n\nKoniec.\n")
    assert parse_sections(text, []) == [
        Section(blocks=[Block("paragraph", "Wstęp przed rozdziałem.")]),
        Section(heading="Chapter 1: The Gate", blocks=[
            Block("paragraph", "“Hello,” she said."), Block("break", "* * *"), Block("paragraph", "Later.")]),
        Section(heading="Rozdział 2: Brama", blocks=[Block("paragraph", "Koniec.")]),
    ]


def test_part_headings_label_the_chapter_that_follows():
    text = "Book I\n\nChapter 1: A\n\nText a.\n\nChapter 2: B\n\nText b.\n\nBook II\n\nChapter 3: C\n\nText c."
    sections = parse_sections(text, [])
    assert [(s.part, s.heading) for s in sections] == [("Book I", "Chapter 1: A"), (None, "Chapter 2: B"),
                                                        ("Book II", "Chapter 3: C")]


def test_markdown_headings_are_accepted():
    sections = parse_sections("# Chapter One\n\nText.\n\n## The Second ##\n\nMore.", [])
    assert [s.heading for s in sections] == ["Chapter One", "The Second"]


def test_scene_breaks_between_planned_segments_become_titled_sections():
    text = "First scene.\n\n* * *\n\nSecond scene.\n\n***\n\nThird scene."
    sections = parse_sections(text, ["Dawn", "Noon", "Dusk"])
    assert [(s.heading, s.blocks[0].text) for s in sections] == [
        ("Dawn", "First scene."), ("Noon", "Second scene."), ("Dusk", "Third scene.")]


def test_a_count_mismatch_keeps_one_section_with_its_scene_breaks():
    sections = parse_sections("One.\n\n* * *\n\nTwo.\n\n* * *\n\nThree.", ["Only", "Two"])
    assert sections == [Section(blocks=[Block("paragraph", "One."), Block("break", "* * *"),
                                        Block("paragraph", "Two."), Block("break", "* * *"),
                                        Block("paragraph", "Three.")])]


def test_stage_play_acts_split_the_text_when_segments_do_not():
    text = "ACT I\n\nANNA: Hi.\n\nBOB: Hello.\n\nACT II\n\nANNA: Bye."
    sections = parse_sections(text, ["s1", "s2", "s3"])
    assert [(s.heading, [b.text for b in s.blocks]) for s in sections] == [
        ("ACT I", ["ANNA: Hi.", "BOB: Hello."]), ("ACT II", ["ANNA: Bye."])]
    by_segment = parse_sections(text, ["Meeting", "Parting"])
    assert [(s.part, s.heading) for s in by_segment] == [("ACT I", "Meeting"), ("ACT II", "Parting")]


def test_script_cue_lines_stay_inside_their_paragraph():
    sections = parse_sections("INT. ROOM — NIGHT\n\nANNA\n(quietly)\nWho's there?\r\n\r\nBOB: Me.", [])
    assert [b.lines for b in sections[0].blocks] == [["INT. ROOM — NIGHT"], ["ANNA", "(quietly)", "Who's there?"],
                                                     ["BOB: Me."]]


def test_a_heading_is_one_line_only_and_control_characters_are_dropped():
    tokens = tokenize("Chapter 1: Real\n\nChapter 2: not a heading\nbecause the block goes on\n\nBell\x07 and\x00 null")
    assert tokens == [("chapter", "Chapter 1: Real"),
                      ("paragraph", "Chapter 2: not a heading\nbecause the block goes on"),
                      ("paragraph", "Bell and null")]


def test_document_title_page_data():
    doc = doc_of("Text.")
    assert doc.subtitle == "Science fiction · Powieść · 1\u00a0234 słowa"
    assert doc.language == "pl"
    assert build_document("x", None, narrative_id="N", version=1, title=" \x00 ", genre="drama",
                          production_type="short_story", word_count=1).title == "Untitled"


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_every_format_builds_odd_input_without_failing(fmt):
    """Parts after a preamble, an unbreakable word, glyphs the font lacks, empty text: never an error."""
    texts = ["Preamble.\n\nChapter 1: A\n\n" + "x" * 400 + " 漢字 😀\n\nBook II\n\nChapter 2: B\n\nEnd.", "", "* * *"]
    for text in texts:
        assert build(doc_of(text), fmt)


@pytest.mark.parametrize(("line", "escaped"), [
    ("# not a heading", "\\# not a heading"),
    ("- not a list", "\\- not a list"),
    ("1. not a list", "1\\. not a list"),
    ("<b>bold</b> & *stars* [link](x)", "\\<b\\>bold\\</b\\> \\& \\*stars\\* \\[link\\](x)"),
    ("Zwykłe zdanie — „cytat”.", "Zwykłe zdanie — „cytat”."),
])
def test_markdown_escapes_what_would_become_markup(line, escaped):
    assert escape_line(line) == escaped


def test_filenames():
    assert slugify("Zażółć gęślą jaźń: Część 2!") == "zazolc-gesla-jazn-czesc-2"
    assert slugify("Zażółć gęślą jaźń", ascii_only=False) == "zażółć-gęślą-jaźń"
    assert slugify("???") == "narrative"
    assert len(slugify("a" * 500)) == 80
    assert content_disposition("plain-v1.txt", "plain-v1.txt") == 'attachment; filename="plain-v1.txt"'
    assert content_disposition("łódź-v1.txt", "lodz-v1.txt") == (
        "attachment; filename=\"lodz-v1.txt\"; filename*=UTF-8''%C5%82%C3%B3d%C5%BA-v1.txt")


def test_title_page_labels_follow_the_story_language():
    """A Polish story's exports say so in Polish (the subtitle was English for every language)."""
    from narraforge.exports.document import Document

    def subtitle(words: int, language: str) -> str:
        return Document(narrative_id="n", version=1, title="T", genre="fantasy", production_type="short_story",
                        word_count=words, language=language, sections=[]).subtitle

    assert subtitle(1483, "pl") == "Fantastyka · Opowiadanie · 1\u00a0483 słowa"
    assert subtitle(1500, "pl").endswith("1\u00a0500 słów")
    assert subtitle(12, "pl").endswith("12 słów") and subtitle(22, "pl").endswith("22 słowa")
    assert subtitle(1483, "en") == "Fantasy · Short Story · 1,483 words"
