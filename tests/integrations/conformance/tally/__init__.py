"""Tally: a minimal accounting tool, for the accounting part of the conformance kit."""
