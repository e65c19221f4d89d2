"""Benchmarks of the city data set on PostgreSQL (``make bench`` → docs/performance.md).

``bench/run.py`` is the orchestrator; each section (``import``, ``rules``, ``admin``, ``pdf`` …)
is a function returning rows of (measure, value, unit, aim, ok) and notes (``bench.common``).
"""
