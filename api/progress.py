"""Progress bars of long CLI commands (tqdm on stderr), one way for every command.

The use cases in ``ingest/`` take a plain callback (``on_progress(done)`` or
``on_progress(done, total)``); the CLI passes the ``update`` of a :func:`bar`. A bar is drawn
when stderr is a terminal, or always with ``UCHET_PROGRESS=1`` (``0`` turns them off), so
pipes and logs stay clean by default and a test can force one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def enabled() -> bool:
    """Whether bars are drawn: ``UCHET_PROGRESS`` (1/0) wins, else only on a terminal."""
    forced = os.environ.get("UCHET_PROGRESS", "").strip().lower()
    if forced in {"1", "true", "yes", "always"}:
        return True
    if forced in {"0", "false", "no", "never"}:
        return False
    return sys.stderr.isatty()


class Bar:
    """A running bar: ``advance(n)`` adds, ``to(done, total)`` sets; both are cheap no-ops
    when bars are off."""

    def __init__(self, impl: Any) -> None:
        self._impl = impl

    def advance(self, n: int = 1) -> None:
        if self._impl is not None:
            self._impl.update(n)

    def to(self, done: int, total: int | None = None) -> None:
        if self._impl is None:
            return
        if total is not None and total != self._impl.total:
            self._impl.total = total
        self._impl.update(done - self._impl.n)

    def note(self, text: str) -> None:
        """Shows ``text`` after the bar (e.g. the current file or stage)."""
        if self._impl is not None:
            self._impl.set_postfix_str(text, refresh=False)


@contextmanager
def bar(desc: str, *, total: int | None = None, unit: str = "it") -> Iterator[Bar]:
    """A progress bar for one long step, e.g. ``with bar("импорт", total=n, unit="стр") as b``."""
    if not enabled():
        yield Bar(None)
        return
    from tqdm import tqdm  # imported only when a bar is drawn: keeps `--help` fast

    with tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit in {"B", "байт"},  # counts stay whole: 4/12, not 4.00/12.0
        unit_divisor=1024 if unit in {"B", "байт"} else 1000,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5,
        leave=True,
    ) as impl:
        yield Bar(impl)


__all__ = ["Bar", "bar", "enabled"]
