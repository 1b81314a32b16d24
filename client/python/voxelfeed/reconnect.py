"""How a client retries calls that failed for want of a connection."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .errors import FeedError


@dataclass(frozen=True)
class ReconnectPolicy:
    """Waits between attempts are "full jitter": uniform below a cap that starts at `initial_backoff_ms` and
    doubles up to `max_backoff_ms`, so a hundred ranks that lost the same server do not reconnect in lockstep.
    A call gives up after `max_attempts` failed attempts in a row (a stream that delivered a batch starts the
    count anew)."""

    initial_backoff_ms: int = 100
    max_backoff_ms: int = 5000
    max_attempts: int = 20

    def problems(self) -> list[str]:
        found = []
        for name in ("initial_backoff_ms", "max_backoff_ms"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                found.append(f"reconnect.{name} is {value!r}; use a whole number of milliseconds >= 1")
        if not found and self.max_backoff_ms < self.initial_backoff_ms:
            found.append(
                f"reconnect.max_backoff_ms ({self.max_backoff_ms}) is below reconnect.initial_backoff_ms "
                f"({self.initial_backoff_ms}); raise it"
            )
        if not _is_int(self.max_attempts) or self.max_attempts < 1:
            found.append(f"reconnect.max_attempts is {self.max_attempts!r}; use an integer >= 1 (1: no retry)")
        return found


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def backoff_delay_s(failures: int, policy: ReconnectPolicy, random: float) -> float:
    """The wait before attempt `failures + 1`: uniform in [0, min(max, initial * 2^(failures - 1))) ms, with
    `random` in [0, 1)."""
    cap_ms = min(policy.max_backoff_ms, policy.initial_backoff_ms * 2 ** max(0, failures - 1))
    return int(random * cap_ms) / 1000


def give_up_error(
    method: str, where: str, attempts: int, started: float, last: FeedError, context: str = ""
) -> FeedError:
    """UNAVAILABLE once reconnecting has failed `attempts` times in a row, naming the method, the addresses,
    the time since `started` (time.monotonic()) and the last error; `context` goes after the seconds."""
    seconds = f"{time.monotonic() - started:.1f}"
    return FeedError(
        "UNAVAILABLE",
        last.details,
        f"{method} gave up on {where} after {attempts} failed attempts in a row ({seconds} s{context}); "
        f"last error {last.code}: {last.details}. Check that the server runs and that the client's TLS "
        "settings match the server's (a failed TLS handshake is UNAVAILABLE too), or raise "
        "reconnect.max_attempts / max_backoff_ms",
    )
