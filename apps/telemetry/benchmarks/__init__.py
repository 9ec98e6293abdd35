"""Benchmarks that run the real processes (daphne, the ingest worker) against the real services."""
