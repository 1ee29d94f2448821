"""A small progress bar on stderr (no dependency): ``[#####.....] 12/40 label``."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Progress of ``total`` units of work, redrawn at most every ``interval`` seconds.

    On a terminal the bar is redrawn in place; elsewhere (a log file) a line is written at most every
    ``interval_file`` seconds. ``enabled=False`` makes every method a no-op.
    """

    def __init__(
        self,
        total: float,
        label: str = "",
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        width: int = 30,
        interval: float = 0.2,
        interval_file: float = 10.0,
    ) -> None:
        self.total = max(float(total), 1e-12)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width = width
        self.done = 0.0
        self.info = ""
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._interval = interval if self._tty else interval_file
        self._last = -float("inf")
        self._start = time.perf_counter()

    def text(self) -> str:
        frac = min(max(self.done / self.total, 0.0), 1.0)
        filled = int(round(frac * self.width))
        elapsed = time.perf_counter() - self._start
        done = f"{self.done:g}/{self.total:g}"
        extra = f" {self.info}" if self.info else ""
        return f"[{'#' * filled}{'.' * (self.width - filled)}] {done} {elapsed:6.1f}s {self.label}{extra}"

    def update(self, done: float | None = None, *, advance: float = 0.0, info: str = "") -> None:
        """Set the amount done (or advance it) and redraw when the interval has passed."""
        self.done = float(done) if done is not None else self.done + advance
        if info:
            self.info = info
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last >= self._interval:
            self._draw()
            self._last = now

    def _draw(self) -> None:
        if self._tty:
            self.stream.write("\r" + self.text() + "\033[K")
        else:
            self.stream.write(self.text() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw()
            if self._tty:
                self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
