"""Run every benchmark and print each figure against its target.

    .venv/bin/python -m benchmarks.run_all [--rows N] [--only NAME ...]

NAME is one of: append, memsec, verify, unlock, startup, rekey. ``--rows`` sizes the verify
chain (default 1,000,000; the built vault is cached under ``$CIM_BENCH_CACHE`` or
``$TMPDIR/cim-bench``).
Exit status 0 when every figure with a target meets it, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable

from benchmarks import (
    bench_audit_append,
    bench_memory_security,
    bench_rekey,
    bench_startup,
    bench_unlock,
    bench_verify,
)
from benchmarks.common import Figure, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_all", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--only", nargs="+", choices=["append", "memsec", "verify", "unlock", "startup", "rekey"]
    )
    args = parser.parse_args(argv)
    suites: dict[str, Callable[[], list[Figure]]] = {
        "startup": bench_startup.run,
        "unlock": bench_unlock.run,
        "append": bench_audit_append.run,
        "memsec": bench_memory_security.run,
        "verify": lambda: bench_verify.run(args.rows),
        "rekey": bench_rekey.run,
    }
    load_before = os.getloadavg()[0]
    figures: list[Figure] = []
    for name, suite in suites.items():
        if args.only and name not in args.only:
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        figures += suite()
    print(
        f"cim-desktop benchmarks: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"1-minute load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print()
    print(table(figures))
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
