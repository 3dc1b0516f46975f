"""Stockroom: a minimal 3PL, for the 3PL part (and the shipping part) of the conformance kit."""
