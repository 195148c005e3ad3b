"""Exports through real API Gateway events into the narratives function, under moto. Narratives are put in
place directly (table items and S3 objects, as stage 10 writes them) so no pipeline has to run."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from narraforge.config import get_settings
from narraforge.data import keys, s3
from narraforge.data.aws import client
from narraforge.data.models import NarrativeItem, NarrativeVersionItem

from tests.helpers import HandlerClient, register

TITLE = "Zażółć gęślą jaźń"
CHAPTER_1 = "Rozdział 1: Świt nad źródłem"
CHAPTER_2 = "Rozdział 2: Łódź w ciemności"
DIALOGUE = "„Dzień dobry” — powiedziała Łucja. “Nie śpię” — odparł Michał."
LETTERS = "Pchnąć w tę łódź jeża lub ośm skrzyń fig; ĄĘŁÓŚŻŹĆŃ ąęłóśżźćń."
HOSTILE = "Ktoś wpisał <script>alert('x')</script> & poszedł."
POLISH_TEXT = f"""{CHAPTER_1}

{DIALOGUE}

{LETTERS}

* * *

{HOSTILE}

{CHAPTER_2}

ŁUCJA: Gdzie jesteś?
MICHAŁ
Tutaj, przy źródle.

Koniec — na razie.
"""
SEGMENTS = [{"index": 0, "act": 1, "title": "Świt nad źródłem", "word_count": 30},
            {"index": 1, "act": 1, "title": "Łódź w ciemności", "word_count": 12}]
OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class User:
    client: HandlerClient
    id: str


def make_user(api: HandlerClient) -> User:
    auth = register(api)
    return User(api.as_user(auth["access_token"]), auth["user"]["id"])


def make_narrative(user_id: str, *, texts: list[str] | None = None, title: str = TITLE,
                   production_type: str = "novel", genre: str = "fantasy") -> str:
    """A published narrative with one version per text: head, version items and their S3 objects."""
    narrative_id = keys.new_id()
    texts = texts or [POLISH_TEXT]
    for number, text in enumerate(texts, start=1):
        text_key = s3.narrative_text_key(narrative_id, number)
        metadata_key = s3.narrative_metadata_key(narrative_id, number)
        s3.put_text(text_key, text)
        s3.put_json(metadata_key, {"world": {}, "characters": [], "structure": {}, "segments": SEGMENTS,
                                   "engine": "test", "language": "pl"})
        NarrativeVersionItem(*NarrativeVersionItem.key(narrative_id, number), narrative_id=narrative_id,
                             number=number, job_id=narrative_id, text_key=text_key, metadata_key=metadata_key,
                             word_count=42).save()
    NarrativeItem(*NarrativeItem.key(user_id, narrative_id), narrative_id=narrative_id, user_id=user_id,
                  project_id="project", job_id=narrative_id, title=title, production_type=production_type,
                  genre=genre, word_count=42, version=len(texts)).save()
    return narrative_id


def stored_exports(narrative_id: str) -> list[str]:
    listed = client("s3").list_objects_v2(Bucket=get_settings().bucket_name, Prefix=f"exports/{narrative_id}/")
    return sorted(o["Key"] for o in listed.get("Contents", []))


@pytest.fixture
def alice(api) -> User:
    return make_user(api)


@pytest.fixture
def story(alice) -> str:
    return make_narrative(alice.id)


def test_pdf_has_title_page_headings_page_numbers_and_polish_text(alice, story):
    from pypdf import PdfReader

    response = alice.client.get(f"/narratives/{story}/export/pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert TITLE in pages[0] and "Fantastyka · Powieść · 42 słowa" in pages[0]
    text = " ".join(pages)
    for expected in (CHAPTER_1, CHAPTER_2, DIALOGUE, LETTERS, HOSTILE, "ŁUCJA: Gdzie jesteś?"):
        assert expected in text
    assert pages[1].rstrip().endswith("2")  # the footer's page number
    assert reader.metadata.title == TITLE
    assert [item.title for item in reader.outline] == [CHAPTER_1, CHAPTER_2]


def test_epub_is_a_valid_ocf_zip_with_metadata_nav_and_one_chapter_per_segment(alice, story):
    response = alice.client.get(f"/narratives/{story}/export/epub")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/epub+zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    first = archive.infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED and not first.extra
    assert archive.read("mimetype") == b"application/epub+zip"
    assert response.content[30:38] == b"mimetype"  # the name right after the first local header

    container = ET.fromstring(archive.read("META-INF/container.xml"))
    opf_path = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile").get("full-path")
    opf = ET.fromstring(archive.read(opf_path))
    assert opf.get("version") == "3.0"
    assert opf.find(f"{OPF}metadata/{DC}title").text == TITLE
    assert opf.find(f"{OPF}metadata/{DC}language").text == "pl"
    assert opf.find(f"{OPF}metadata/{DC}creator").text == "NarraForge"
    manifest = {item.get("id"): item for item in opf.find(f"{OPF}manifest")}
    assert any("nav" in (item.get("properties") or "") for item in manifest.values())
    spine = [ref.get("idref") for ref in opf.find(f"{OPF}spine")]
    chapters = [idref for idref in spine if idref.startswith("chapter-")]
    assert len(chapters) == len(SEGMENTS)

    base = opf_path.rsplit("/", 1)[0]
    nav = archive.read(f"{base}/{next(i for i in manifest.values() if i.get('properties') == 'nav').get('href')}")
    assert CHAPTER_1 in nav.decode() and CHAPTER_2 in nav.decode()
    first_chapter = archive.read(f"{base}/{manifest[chapters[0]].get('href')}").decode()
    ET.fromstring(first_chapter)  # well-formed XHTML
    assert f"<h1>{CHAPTER_1}</h1>" in first_chapter and DIALOGUE in first_chapter
    assert "<script>" not in first_chapter and "&lt;script&gt;" in first_chapter
    second_chapter = archive.read(f"{base}/{manifest[chapters[1]].get('href')}").decode()
    assert "ŁUCJA: Gdzie jesteś?<br/>MICHAŁ<br/>Tutaj, przy źródle." in second_chapter


def test_docx_reopens_with_title_and_heading_styles(alice, story):
    from docx import Document

    response = alice.client.get(f"/narratives/{story}/export/docx")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == DOCX_TYPE
    document = Document(io.BytesIO(response.content))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs if p.text.strip()]
    assert paragraphs[0] == ("Title", TITLE)
    assert [text for style, text in paragraphs if style == "Heading 1"] == [CHAPTER_1, CHAPTER_2]
    texts = [text for _, text in paragraphs]
    assert DIALOGUE in texts and LETTERS in texts and HOSTILE in texts
    assert "ŁUCJA: Gdzie jesteś?\nMICHAŁ\nTutaj, przy źródle." in texts
    assert document.core_properties.title == TITLE and document.core_properties.author == "NarraForge"


def test_txt_and_md_are_utf8_text_with_headings(alice, story):
    txt = alice.client.get(f"/narratives/{story}/export/txt")
    assert txt.status_code == 200
    assert txt.headers["content-type"] == "text/plain; charset=utf-8"
    assert txt.text.startswith(f"{TITLE}\n\nFantastyka · Powieść · 42 słowa\n\n{CHAPTER_1}\n\n{DIALOGUE}")
    assert HOSTILE in txt.text

    md = alice.client.get(f"/narratives/{story}/export/md")
    assert md.status_code == 200
    assert md.headers["content-type"] == "text/markdown; charset=utf-8"
    assert md.text.startswith(f"# {TITLE}\n")
    assert f"\n## {CHAPTER_1}\n" in md.text and f"\n## {CHAPTER_2}\n" in md.text
    assert DIALOGUE in md.text
    assert "\\<script\\>" in md.text  # shown as text, never raw HTML


def test_binary_formats_leave_lambda_base64_encoded_and_text_ones_plain(alice, story, monkeypatch):
    from narraforge_dev.local import lambda_context

    seen: dict[str, bool] = {}
    real_call = lambda_context.call_handler

    def recording(handler, event, context):
        raw = real_call(handler, event, context)
        seen[event["path"].rsplit("/", 1)[-1]] = raw.get("isBase64Encoded", False)
        return raw

    monkeypatch.setattr(lambda_context, "call_handler", recording)
    for fmt in ("txt", "md", "pdf", "epub", "docx"):
        assert alice.client.get(f"/narratives/{story}/export/{fmt}").status_code == 200
    assert seen == {"txt": False, "md": False, "pdf": True, "epub": True, "docx": True}


def test_content_disposition_has_ascii_and_rfc5987_names(alice, story):
    response = alice.client.get(f"/narratives/{story}/export/pdf")
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"zazolc-gesla-jazn-v1.pdf\"; "
        "filename*=UTF-8''za%C5%BC%C3%B3%C5%82%C4%87-g%C4%99%C5%9Bl%C4%85-ja%C5%BA%C5%84-v1.pdf"
    )
    plain = make_narrative(alice.id, title="The Quiet Harbour")
    response = alice.client.get(f"/narratives/{plain}/export/txt")
    assert response.headers["content-disposition"] == 'attachment; filename="the-quiet-harbour-v1.txt"'


def test_first_request_builds_and_caches_later_ones_read_s3(alice, story, monkeypatch):
    import narraforge.exports

    calls: list[str] = []
    real_build = narraforge.exports.build

    def spy(doc, fmt):
        calls.append(fmt.value)
        return real_build(doc, fmt)

    monkeypatch.setattr(narraforge.exports, "build", spy)
    first = alice.client.get(f"/narratives/{story}/export/pdf")
    second = alice.client.get(f"/narratives/{story}/export/PDF")  # formats parse case-insensitively
    assert first.status_code == second.status_code == 200
    assert calls == ["pdf"]
    assert second.content == first.content
    assert stored_exports(story) == [f"exports/{story}/v1.pdf"]
    assert s3.get_bytes(f"exports/{story}/v1.pdf") == first.content

    assert alice.client.get(f"/narratives/{story}/export/txt").status_code == 200
    assert calls == ["pdf", "txt"]
    detail = alice.client.get(f"/narratives/{story}").json()
    assert detail["download_count"] == 3
    assert detail["exported_formats"] == ["pdf", "txt"]


def test_versions_default_to_the_latest_and_missing_ones_are_404(alice):
    narrative_id = make_narrative(alice.id, texts=["Rozdział 1: Stary\n\nPierwsza wersja.",
                                                   "Rozdział 1: Nowy\n\nDruga wersja."])
    latest = alice.client.get(f"/narratives/{narrative_id}/export/txt")
    assert "Druga wersja." in latest.text and "-v2.txt" in latest.headers["content-disposition"]
    older = alice.client.get(f"/narratives/{narrative_id}/export/txt", params={"version": 1})
    assert "Pierwsza wersja." in older.text and "-v1.txt" in older.headers["content-disposition"]
    assert stored_exports(narrative_id) == [f"exports/{narrative_id}/v1.txt", f"exports/{narrative_id}/v2.txt"]

    missing = alice.client.get(f"/narratives/{narrative_id}/export/txt", params={"version": 3})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    for bad in ("0", "-1", "abc", "10000000"):
        assert alice.client.get(f"/narratives/{narrative_id}/export/txt", params={"version": bad}).status_code == 422


def test_other_users_and_unknown_narratives_get_404(api, alice, story):
    bob = make_user(api)
    for fmt in ("txt", "pdf"):
        response = bob.client.get(f"/narratives/{story}/export/{fmt}")
        assert response.status_code == 404
    assert alice.client.get(f"/narratives/{keys.new_id()}/export/pdf").status_code == 404
    assert stored_exports(story) == []
    assert alice.client.get(f"/narratives/{story}").json()["download_count"] == 0


def test_unknown_format_is_422_and_anonymous_is_401(api, alice, story):
    response = alice.client.get(f"/narratives/{story}/export/rtf")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert api.get(f"/narratives/{story}/export/pdf").status_code == 401


def test_large_exports_redirect_to_a_presigned_url(alice, story, monkeypatch):
    from narraforge.services import exports

    monkeypatch.setattr(exports, "INLINE_LIMIT_BYTES", 100)
    for attempt in range(2):  # built then redirected; then found in S3 and redirected unread
        response = alice.client.get(f"/narratives/{story}/export/epub")
        assert response.status_code == 307, (attempt, response.text)
        location = urlsplit(response.headers["location"])
        assert location.path.endswith(f"/exports/{story}/v1.epub")
        query = parse_qs(location.query)
        assert "X-Amz-Signature" in query and query["X-Amz-Expires"] == ["300"]
        assert query["response-content-type"] == ["application/epub+zip"]
        assert query["response-content-disposition"][0].startswith('attachment; filename="zazolc-gesla-jazn-v1.epub"')
    assert stored_exports(story) == [f"exports/{story}/v1.epub"]
    detail = alice.client.get(f"/narratives/{story}").json()
    assert detail["download_count"] == 2 and detail["exported_formats"] == ["epub"]


def test_script_without_headings_keeps_cue_lines(alice):
    script = "INT. KUCHNIA — NOC\n\nANNA: Kto tam?\nGŁOS (O.S.): To ja.\n\nEXT. OGRÓD — ŚWIT\n\nANNA\nNareszcie."
    narrative_id = make_narrative(alice.id, texts=[script], title="Noc", production_type="screenplay")
    txt = alice.client.get(f"/narratives/{narrative_id}/export/txt").text
    assert "ANNA: Kto tam?\nGŁOS (O.S.): To ja." in txt
    epub = zipfile.ZipFile(io.BytesIO(alice.client.get(f"/narratives/{narrative_id}/export/epub").content))
    chapters = [n for n in epub.namelist() if re.search(r"chapter-\d+\.xhtml$", n)]
    assert len(chapters) == 1
    assert "ANNA: Kto tam?<br/>GŁOS (O.S.): To ja." in epub.read(chapters[0]).decode()


def test_racing_first_exports_list_the_format_once_and_count_both(alice, story):
    """Two requests that both read the head before either listed the format: the second append is refused
    by its condition and falls back to counting only."""
    from narraforge.enums import ExportFormat
    from narraforge.services import exports

    stale = NarrativeItem.get(*NarrativeItem.key(alice.id, story))
    exports._record_download(stale, ExportFormat.EPUB)
    exports._record_download(stale, ExportFormat.EPUB)
    fresh = NarrativeItem.get(*NarrativeItem.key(alice.id, story))
    assert fresh.exported_formats == ["epub"] and fresh.download_count == 2
