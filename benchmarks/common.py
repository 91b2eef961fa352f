"""Shared pieces for the benchmarks: figures, timing, scratch vaults."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cim_desktop.security.device_secret import DeviceSecretStore
from cim_desktop.services.vault.lifecycle import NewVault, create_vault

REPO_ROOT = Path(__file__).resolve().parents[1]
ADMIN = "admin"
# Benchmark vaults only; never a real credential.
ADMIN_PASSWORD = "benchmark horse battery staple"
UNIT = "Benchmark DSU"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str  # e.g. "< 50 ms", "> 5000 rows/s", "" for context figures
    ok: bool | None  # None: a context figure with no target of its own
    note: str = ""

    def cells(self) -> tuple[str, str, str, str]:
        verdict = "" if self.ok is None else ("meets" if self.ok else "MISSES")
        return (self.name, f"{self.value:,.1f} {self.unit}", self.target, verdict)


def below(name: str, value: float, unit: str, limit: float, note: str = "") -> Figure:
    return Figure(name, value, unit, f"< {limit:,g} {unit}", value < limit, note)


def above(name: str, value: float, unit: str, limit: float, note: str = "") -> Figure:
    return Figure(name, value, unit, f"> {limit:,g} {unit}", value > limit, note)


def context(name: str, value: float, unit: str, note: str = "") -> Figure:
    return Figure(name, value, unit, "", None, note)


def table(figures: list[Figure]) -> str:
    rows = [("figure", "measured", "target", ""), *(f.cells() for f in figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  [{i}] {f.name}: {f.note}" for i, f in enumerate(figures, 1) if f.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples), samples


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"cim-bench-{prefix}-") as name:
        yield Path(name)


def cache_dir() -> Path:
    """Where slow-to-build fixtures (the 1 M-row vault) are kept between runs."""
    root = Path(os.environ.get("CIM_BENCH_CACHE") or Path(tempfile.gettempdir()) / "cim-bench")
    root.mkdir(parents=True, exist_ok=True)
    return root


def make_vault(root: Path, keyring: DeviceSecretStore) -> NewVault:
    return create_vault(
        root, unit_name=UNIT, admin_username=ADMIN, admin_password=ADMIN_PASSWORD, keyring=keyring
    )
