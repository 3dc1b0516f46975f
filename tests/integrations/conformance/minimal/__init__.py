"""Minimal: a made-up tool with OAuth tokens that expire, to prove the kit fits a second connector."""
