"""Prompt builders, one module per stage: each turns the brief and earlier outputs into messages.

Every prompt ends with a fenced JSON CONTEXT block holding the facts the call depends on; a model
reads it like the prose around it, and the offline engine builds its reply from it.
"""
