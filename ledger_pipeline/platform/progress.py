"""Progress of commands that can run for minutes: in a terminal a bar with a rate and an estimate
(tqdm); elsewhere (a log, CI, a pipe) a plain line every LOG_EVERY_SECONDS and one at the end, so
the output stays readable and still shows the work is alive."""

import sys
import time
from typing import TextIO

from tqdm import tqdm

LOG_EVERY_SECONDS = 10.0


class Progress:
    def __init__(self, label: str, total: int, unit: str, stream: TextIO | None = None):
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = self.logged = time.monotonic()
        self.bar = (tqdm(total=total, desc=label, unit=f" {unit}", unit_scale=True, file=self.stream)
                    if self.stream.isatty() else None)

    def advance(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
        elif time.monotonic() - self.logged >= LOG_EVERY_SECONDS:
            self.logged = time.monotonic()
            self._line()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            self._line()

    def _line(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        text = f"{self.label}: {self.done:,} of {self.total:,} {self.unit}"
        if self.done < self.total:
            left = (self.total - self.done) / rate if rate else float("inf")
            text += f" ({self.done / self.total:.0%}), {rate:,.0f}/s, about {_duration(left)} left"
        else:
            text += f" in {_duration(elapsed)} ({rate:,.0f}/s)"
        print(text, file=self.stream, flush=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "an unknown time"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"
