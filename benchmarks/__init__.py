"""Benchmarks and the crash soak: plain scripts, not part of the test suite.

Run them all with ``.venv/bin/python -m benchmarks.run_all`` (see ``benchmarks/README.md``).
"""
