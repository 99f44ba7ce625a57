"""Benchmarks: ``python -m benchmarks.run`` runs every ``bench_*.py`` module here."""
