"""The step timeline of a CUDA device, measured with CUDA events rather than the host clock.

A CUDA step returns to Python as soon as its kernels are queued, so the host clock cannot tell when the GPU
worked. Each step instead records an event when it is launched and one when its work is queued in full; the
GPU stamps them as it reaches them. Idle time is the device time from one step's end event to the next step's
launch event (about 0 when the next step was queued in time), busy time from a step's launch event to its end
event. Data wait is the host's wait for the batch, capped at that idle time: the host clock and the GPU clock
are not compared, so this is an upper bound on the starvation the wait caused (exact when the GPU had finished
before the wait began, as it has when the loop reads each step's loss).

Events are read only once the GPU has passed them (`query()`), so measuring never synchronises the device;
`flush()` does, once, at the end. Same calls and totals as `StepTimeline`. torch is imported only when no event
factory is given, so this module loads without torch.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Optional

from ._step_accounting import StepAccounting, StepRecord, StepTotals, first_step


@dataclass
class _Step:
    start: Any
    host_wait_seconds: float
    end: Any = None
    samples: int = 0
    # An event recorded after this step by exclude_pause(): the next idle period starts there.
    pause: Any = None


class CudaStepTimeline(StepAccounting):
    def __init__(self, now: Callable[[], float], event_factory: Optional[Callable[[], Any]] = None) -> None:
        if event_factory is None:
            import torch

            def event_factory() -> Any:
                return torch.cuda.Event(enable_timing=True)

        super().__init__(now)
        self._event = event_factory
        self._steps: Deque[_Step] = deque()
        self._previous_end: Any = None

    def launched(self) -> None:
        """Call right before the step's first kernel is queued."""
        at = self._now()
        wait_started_at, ready_at = self._take_batch_wait(at)
        # 0 without a wait: the wait then "began" at the launch.
        wait = max(0.0, min(ready_at, at) - wait_started_at)
        start = self._event()
        start.record()
        self._steps.append(_Step(start, wait))

    def finished(self, samples: int) -> None:
        """Call right after the step's last kernel (the optimiser's) is queued: the oldest unfinished step."""
        step = next((s for s in self._steps if s.end is None), None)
        if step is None:
            raise RuntimeError("CudaStepTimeline.finished() called before launched()")
        step.end = self._event()
        step.end.record()
        step.samples = samples
        self._collect(block=False)

    def exclude_pause(self) -> None:
        """The device time from here to the next launch is a pause (validation, checkpoint), not idle time."""
        marker = self._event()
        marker.record()
        if self._steps:
            self._steps[-1].pause = marker
        elif self._previous_end is not None:
            self._previous_end = marker

    def flush(self) -> None:
        """Waits for every finished step's events, so `total` covers them all."""
        self._collect(block=True)

    @property
    def total(self) -> StepTotals:
        self._collect(block=False)
        return self._totals

    def _collect(self, block: bool) -> None:
        while self._steps and self._steps[0].end is not None:
            step = self._steps[0]
            if block:
                step.end.synchronize()
            elif not step.end.query():
                return
            self._steps.popleft()
            busy = step.start.elapsed_time(step.end) / 1000
            if self._previous_end is None:
                record = first_step(busy, step.samples)
            else:
                idle = max(0.0, self._previous_end.elapsed_time(step.start) / 1000)
                record = StepRecord(idle, max(0.0, busy), min(idle, step.host_wait_seconds), step.samples)
            self._count(record)
            self._previous_end = step.pause if step.pause is not None else step.end
