"""Per-step accounting shared by the step timelines (host clock: StepTimeline; CUDA events: CudaStepTimeline):
the host's wait for each batch, what each step cost, and the running totals. No torch, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class StepTotals:
    """Running totals since the trainer started, as ReportTrainerStats carries them."""

    steps: int = 0
    samples: int = 0
    gpu_idle_seconds: float = 0.0
    step_seconds: float = 0.0
    data_wait_seconds: float = 0.0

    def add(self, record: "StepRecord") -> "StepTotals":
        return StepTotals(
            self.steps + 1,
            self.samples + record.samples,
            self.gpu_idle_seconds + record.idle_seconds,
            self.step_seconds + record.compute_seconds,
            self.data_wait_seconds + record.data_wait_seconds,
        )

    @property
    def idle_ratio(self) -> float:
        """Idle share of device time: idle / (idle + busy); 0 before any busy time."""
        total = self.gpu_idle_seconds + self.step_seconds
        return 0.0 if total == 0 else self.gpu_idle_seconds / total


@dataclass(frozen=True)
class StepRecord:
    """What one step cost."""

    idle_seconds: float
    compute_seconds: float
    data_wait_seconds: float
    samples: int


def first_step(busy_seconds: float, samples: int) -> StepRecord:
    """The first step: the idle time before it is start-up, not starvation, and is not counted."""
    return StepRecord(0.0, max(0.0, busy_seconds), 0.0, samples)


class StepAccounting:
    """The calls every timeline takes before a launch (`wait_for_batch`, `batch_ready`) and its totals."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._wait_started_at: Optional[float] = None
        self._ready_at: Optional[float] = None
        self._totals = StepTotals()

    def wait_for_batch(self) -> None:
        """The loop starts waiting for the next batch."""
        self._wait_started_at = self._now()
        self._ready_at = None

    def batch_ready(self) -> None:
        """The batch is there."""
        self._ready_at = self._now()

    @property
    def total(self) -> StepTotals:
        return self._totals

    def _take_batch_wait(self, at: float) -> tuple[float, float]:
        """When the wait for the batch of the step launched `at` began and when the batch was there (`at` for
        a call the loop did not make), and forgets them for the next step."""
        wait = self._wait_started_at if self._wait_started_at is not None else at
        ready = self._ready_at if self._ready_at is not None else at
        self._wait_started_at = None
        self._ready_at = None
        return wait, ready

    def _count(self, record: StepRecord) -> None:
        self._totals = self._totals.add(record)
