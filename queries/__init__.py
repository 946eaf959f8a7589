"""SQL as named files (the aiosql way, without the dependency).

`queries/<layer>/*.sql` build the store in order; files under `queries/metrics/` hold
named queries (`-- name: kpis`) that take bound parameters (`$period_start`), never
values formatted into the text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def build_sql(relative_path: str) -> str:
    """The text of one build step, e.g. `core/040_episode.sql`."""
    return (QUERIES_DIR / relative_path).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def named_queries() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((QUERIES_DIR / "metrics").glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        starts = list(_NAME.finditer(text))
        for i, match in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            name = match.group(1)
            if name in found:
                raise ValueError(f"query name {name} defined twice ({path.name})")
            found[name] = text[match.end():end].strip().rstrip(";")
    return found


def named(name: str) -> str:
    try:
        return named_queries()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in queries/") from None
