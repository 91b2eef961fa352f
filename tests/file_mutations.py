"""Hypothesis strategies that damage the files beside a vault the way an attacker with write
access to the folder could: byte flips, truncation, and JSON-level edits (huge, negative,
float, non-finite and wrongly typed values, deep nesting, huge arrays, deleted keys).

Shared by the property tests and the soak in ``benchmarks/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

_HOLE = "\x00hole\x00"
# Raw JSON text put where a value was; several are not valid for Python's json.dumps to make.
REPLACEMENTS = (
    "1e999",
    "Infinity",
    "-Infinity",
    "NaN",
    "1.5",
    "-1",
    "0",
    "9" * 40,
    "-" + "9" * 19,
    "true",
    "false",
    "null",
    '"x"',
    '""',
    "[]",
    "{}",
    '"\\ud800"',
    '"' + "A" * 70_000 + '"',
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    "[" + "0," * 200_000 + "0]",
    "4294967296",
    "1073741824",
    "65",
)


@dataclass(frozen=True)
class Mutation:
    kind: str
    describe: str
    data: bytes

    def __repr__(self) -> str:  # keep failure reports short
        return f"Mutation({self.kind}: {self.describe}, {len(self.data)} bytes)"


def byte_level(original: bytes) -> st.SearchStrategy[Mutation]:
    n = len(original)
    flip = st.tuples(st.integers(0, n - 1), st.integers(1, 255)).map(
        lambda t: Mutation(
            "flip",
            f"byte {t[0]} ^ {t[1]}",
            original[: t[0]] + bytes([original[t[0]] ^ t[1]]) + original[t[0] + 1 :],
        )
    )
    cut = st.integers(0, n - 1).map(lambda k: Mutation("truncate", f"to {k} bytes", original[:k]))
    return st.one_of(flip, cut)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _edit(doc: Any, path: tuple[Any, ...], delete: bool) -> Any:
    copy = json.loads(json.dumps(doc))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = _HOLE
    return copy


def json_level(text: str, *, lines: bool = False) -> st.SearchStrategy[Mutation]:
    """Edits of one value of a JSON document (or of one line's, for a JSON-lines file)."""
    docs = (
        [json.loads(line) for line in text.splitlines() if line.strip()]
        if lines
        else [json.loads(text)]
    )

    @st.composite
    def edit(draw: st.DrawFn) -> Mutation:
        which = draw(st.integers(0, len(docs) - 1))
        doc = docs[which]
        path = draw(st.sampled_from(_paths(doc)))
        delete = draw(st.booleans()) and draw(st.booleans())  # one edit in four deletes
        raw = "" if delete else draw(st.sampled_from(REPLACEMENTS))
        edited = json.dumps(_edit(doc, path, delete), sort_keys=True).replace(
            json.dumps(_HOLE), raw
        )
        if lines:
            out = [json.dumps(d, sort_keys=True) for d in docs]
            out[which] = edited
            body = "\n".join(out) + "\n"
        else:
            body = edited
        what = f"{'delete' if delete else 'set'} {'/'.join(map(str, path))}" + (
            f" = {raw[:20]}" if raw else ""
        )
        return Mutation("json", what, body.encode("utf-8", "surrogatepass"))

    return edit()


def any_mutation(
    original: bytes, *, json_text: bool = True, lines: bool = False
) -> st.SearchStrategy[Mutation]:
    strategies = [byte_level(original)]
    if json_text:
        strategies.append(json_level(original.decode(), lines=lines))
    return st.one_of(strategies)
