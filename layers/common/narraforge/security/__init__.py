"""Passwords, tokens, signed cursors and (later) rate limits and OAuth clients."""
