"""Where a trainer's device time goes, step by step, measured with a host clock: the TypeScript trainer's step
timeline, call for call, so a PyTorch rank and a TypeScript rank report the same quantities.

The device is idle from the end of step k's work to the launch of step k+1, and busy from a launch to its end.
Data wait is the part of the idle time spent waiting for the next batch after the device had finished (a batch
that arrives while the device is still busy costs nothing). The first step's idle time is start-up, not
starvation, and is not counted. Pure bookkeeping with an injected clock (seconds): no torch, no I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Deque, Optional

from ._step_accounting import StepAccounting, StepRecord, StepTotals, first_step

__all__ = ["StepRecord", "StepTimeline", "StepTotals"]


@dataclass(frozen=True)
class _Launch:
    launched_at: float
    wait_started_at: float
    ready_at: float


class StepTimeline(StepAccounting):
    """Calls may interleave as a pipelined loop does (wait for batch k+1 while step k runs, finish step k,
    launch k+1) or come one after another, as a synchronous CPU loop does."""

    def __init__(self, now: Callable[[], float]) -> None:
        super().__init__(now)
        # Steps launched and not finished yet, oldest first: a device queue may hold the next step already.
        self._launches: Deque[_Launch] = deque()
        self._last_finished_at: Optional[float] = None

    def launched(self) -> None:
        """The device's work for the next step is launched (it may queue behind a step still running)."""
        at = self._now()
        wait, ready = self._take_batch_wait(at)
        self._launches.append(_Launch(at, wait, ready))

    def finished(self, samples: int, at: Optional[float] = None) -> StepRecord:
        """The oldest launched step has finished, at `at` if the device knows when (else now). It ran from its
        launch or the end of the step before it, whichever came last."""
        if not self._launches:
            raise RuntimeError("StepTimeline.finished() called before launched()")
        launch = self._launches.popleft()
        at = self._now() if at is None else at
        previous = self._last_finished_at
        if previous is None:
            record = first_step(at - launch.launched_at, samples)
        else:
            started_at = max(launch.launched_at, previous)
            waited = min(launch.ready_at, launch.launched_at) - max(launch.wait_started_at, previous)
            record = StepRecord(
                idle_seconds=max(0.0, launch.launched_at - previous),
                compute_seconds=max(0.0, at - started_at),
                data_wait_seconds=max(0.0, waited),
                samples=samples,
            )
        self._count(record)
        self._last_finished_at = at
        return record

    def exclude_pause(self) -> None:
        """Marks a pause that is not starvation (validation, checkpointing): the next idle period starts now."""
        if self._last_finished_at is not None:
            self._last_finished_at = self._now()
