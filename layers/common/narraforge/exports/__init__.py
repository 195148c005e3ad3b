"""Narrative exports (txt, md, pdf, epub, docx). Each format module has `build(doc) -> bytes` and imports
its library (fpdf2, ebooklib, python-docx) itself, so only an export request pays for loading one."""

from __future__ import annotations

from importlib import import_module

from narraforge.enums import ExportFormat
from narraforge.exports.document import Document


def build(doc: Document, fmt: ExportFormat) -> bytes:
    return import_module(f"narraforge.exports.{fmt.value}").build(doc)
