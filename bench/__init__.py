"""Benchmarks of the ERP against a fresh PostgreSQL database: run ``bench/run.py``."""
