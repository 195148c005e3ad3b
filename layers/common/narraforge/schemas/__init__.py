"""Pydantic v2 models of every request and response (shared by API, services and pipeline)."""
