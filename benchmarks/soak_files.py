"""File-damage soak: the property tests of tests/test_vault_files_property.py, many more times.

    .venv/bin/python -m benchmarks.soak_files [--subprocess 400] [--in-process 20000]

Each subprocess example damages vault.keys, checkpoints.jsonl or vault.pub (byte flips,
truncation, JSON-level edits) and runs the real ``cim`` on it: exit 0, 1 or 2 with one line,
never 3, never a traceback, under 10 s and 1.5 GiB. ``--subprocess`` is per file (about a
second each); ``--in-process`` drives the parsers directly. Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import os
import sys

import pytest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soak_files", description=__doc__.splitlines()[0])
    parser.add_argument("--subprocess", type=int, default=400)
    parser.add_argument("--in-process", type=int, default=20_000)
    args = parser.parse_args(argv)
    os.environ["CIM_FILE_SOAK_SUBPROCESS"] = str(args.subprocess)
    os.environ["CIM_FILE_SOAK_IN_PROCESS"] = str(args.in_process)
    os.environ.setdefault("CIM_ARGON2_PROFILE", "floor")
    return int(pytest.main(["-q", "-p", "no:cacheprovider", "tests/test_vault_files_property.py"]))


if __name__ == "__main__":
    sys.exit(main())
