"""Exports: build a narrative version in a format once, keep it in S3 (`exports/<nid>/v<n>.<fmt>`), serve it.

Later requests reuse the stored object, so a format's libraries load only on the first request for a
version. Bodies too large for a Lambda response are handed out as a presigned S3 URL instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from narraforge.config import get_settings
from narraforge.data import narratives as narratives_repo
from narraforge.data import s3
from narraforge.data.aws import client
from narraforge.data.narratives import Narrative, NarrativeVersion
from narraforge.enums import ExportFormat
from narraforge.errors import NotFound
from narraforge.services import narratives

# Lambda answers at most 6 MB and binary bodies travel base64-encoded (4/3 larger): the limit applies to the
# body as sent, so every format stays inline up to this size and none can overflow the response.
INLINE_LIMIT_BYTES = 5 * 1024 * 1024
PRESIGNED_URL_SECONDS = 300

CONTENT_TYPES = {
    ExportFormat.TXT: "text/plain; charset=utf-8",
    ExportFormat.MD: "text/markdown; charset=utf-8",
    ExportFormat.PDF: "application/pdf",
    ExportFormat.EPUB: "application/epub+zip",
    ExportFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
TEXT_FORMATS = frozenset({ExportFormat.TXT, ExportFormat.MD})
# Letters NFKD does not decompose into ASCII, for readable ASCII filenames (Polish ł above all).
TRANSLITERATION = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
                                 "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "ð": "d"})
SLUG_MAX = 80


@dataclass(frozen=True)
class ExportResult:
    """Either the body or, above the inline limit, a URL to fetch it from."""

    content_type: str
    filename: str
    content_disposition: str
    body: bytes | None = None
    redirect_url: str | None = None


def export_key(narrative_id: str, version: int, fmt: ExportFormat) -> str:
    return f"exports/{narrative_id}/v{version}.{fmt.value}"


def export(user_id: str, narrative_id: str, fmt: ExportFormat, version: int | None = None) -> ExportResult:
    head = narratives.get_head(user_id, narrative_id)
    number = int(head.version) if version is None else version
    version_item = narratives.get_version(narrative_id, number)
    key = export_key(narrative_id, number, fmt)
    filename = f"{slugify(head.title)}-v{number}.{fmt.value}"
    disposition = content_disposition(f"{slugify(head.title, ascii_only=False)}-v{number}.{fmt.value}", filename)
    content_type = CONTENT_TYPES[fmt]

    body, size = _cached(key, fmt)
    if size is None:
        body = _build(head, version_item, fmt)
        client("s3").put_object(Bucket=get_settings().bucket_name, Key=key, Body=body, ContentType=content_type)
    _record_download(head, fmt)

    if body is not None and not _too_large(len(body), fmt):
        return ExportResult(content_type, filename, disposition, body=body)
    url = _presigner().generate_presigned_url(
        "get_object", ExpiresIn=PRESIGNED_URL_SECONDS,
        Params={"Bucket": get_settings().bucket_name, "Key": key, "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition},
    )
    return ExportResult(content_type, filename, disposition, redirect_url=url)


def _presigner() -> Any:
    """SigV4 explicitly: S3 refuses the older signature botocore may default to for presigned URLs."""
    settings = get_settings()
    return boto3.client("s3", region_name=settings.aws_region, config=Config(signature_version="s3v4"))


def _cached(key: str, fmt: ExportFormat) -> tuple[bytes | None, int | None]:
    """(body, size) of a stored export, or (None, None); a body to be redirected to is left unread."""
    try:
        found = client("s3").get_object(Bucket=get_settings().bucket_name, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None, None
        raise
    size = int(found["ContentLength"])
    if _too_large(size, fmt):
        found["Body"].close()
        return None, size
    return found["Body"].read(), size


def _too_large(size: int, fmt: ExportFormat) -> bool:
    sent = size if fmt in TEXT_FORMATS else 4 * ((size + 2) // 3)
    return sent > INLINE_LIMIT_BYTES


def _build(head: Narrative, version: NarrativeVersion, fmt: ExportFormat) -> bytes:
    from narraforge.exports import build
    from narraforge.exports.document import build_document

    doc = build_document(
        narratives.text_of(version), s3.get_json(version.metadata_key), narrative_id=head.narrative_id,
        version=int(version.number), title=head.title, genre=head.genre, production_type=head.production_type,
        word_count=int(version.word_count or head.word_count),
    )
    return build(doc, fmt)


def _record_download(head: Narrative, fmt: ExportFormat) -> None:
    if not narratives_repo.record_download(head, fmt.value):
        raise NotFound(narratives.NOT_FOUND)


def slugify(title: str, *, ascii_only: bool = True) -> str:
    if ascii_only:
        text = unicodedata.normalize("NFKD", title.translate(TRANSLITERATION)).encode("ascii", "ignore").decode()
        pattern = r"[^a-z0-9]+"
    else:
        text, pattern = unicodedata.normalize("NFC", title), r"[\W_]+"
    slug = re.sub(pattern, "-", text.lower()).strip("-")[:SLUG_MAX].strip("-")
    return slug or "narrative"


def content_disposition(unicode_name: str, ascii_name: str) -> str:
    """`filename` for every client, plus RFC 5987 `filename*` when the title has non-ASCII letters."""
    value = f'attachment; filename="{ascii_name}"'
    if unicode_name != ascii_name:
        value += f"; filename*=UTF-8''{quote(unicode_name, safe='')}"
    return value
