"""Benchmark scenarios: one module each, exposing ``SCENARIO`` (see bench/scenario.py)."""
