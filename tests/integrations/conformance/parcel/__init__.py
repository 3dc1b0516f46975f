"""Parcel: a minimal shipping tool, for the shipping part of the conformance kit."""
