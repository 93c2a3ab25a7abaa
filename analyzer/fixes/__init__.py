"""Shared helpers that autofixes build their edits with."""
