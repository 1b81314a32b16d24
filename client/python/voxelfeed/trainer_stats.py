"""Trainer stats from a PyTorch (or any Python) training loop: how long the loop waited for data, how long the
device worked and how long it sat idle between steps, reported to the voxelfeed server through
ReportTrainerStats so its Prometheus series cover Python ranks as they cover TypeScript ones.

    stats = TrainerStats(client, job="vnet", rank=rank, world_size=world, device=device)
    for batch in stats.timed(loader):        # times the wait for each batch
        stats.launched()                     # right before the step's first kernel
        loss = step(batch)
        stats.finished(len(batch["index"]), epoch=batch["epoch"], loss=loss)   # after the optimiser step
    stats.close()                            # last report

On a CUDA device the times come from CUDA events (see CudaStepTimeline), elsewhere from the wall clock, where
a step is finished when `finished()` is called. Reports go out at most every `report_every_s` seconds from a
background thread, one at a time: a lost report is harmless (the next one carries the running totals), and a
failing one never stops training; it logs one warning line, once. torch is not imported by this module.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Optional, TypeVar

from .cuda_step_timeline import CudaStepTimeline
from .step_timeline import StepTimeline, StepTotals

T = TypeVar("T")
log = logging.getLogger("voxelfeed.trainer_stats")

#: How often a rank reports by default: the TypeScript trainer's --report-every-ms default.
DEFAULT_REPORT_EVERY_S = 2.0


def _is_cuda(device: Any) -> bool:
    return str(device).startswith("cuda")


class TrainerStats:
    """Measures each step of one rank and reports the running totals.

    `client` is anything with FeedClient's `report_trainer_stats(**fields)`; None measures without reporting.
    """

    def __init__(
        self,
        client: Any,
        *,
        job: str,
        rank: int = 0,
        world_size: int = 1,
        device: Any = "cpu",
        backend: Optional[str] = None,
        report_every_s: float = DEFAULT_REPORT_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        event_factory: Optional[Callable[[], Any]] = None,
    ) -> None:
        if report_every_s <= 0:
            raise ValueError(f"report_every_s is {report_every_s}; use a positive number of seconds, e.g. 2")
        cuda = _is_cuda(device) or event_factory is not None
        self.timeline: Any = CudaStepTimeline(clock, event_factory) if cuda else StepTimeline(clock)
        self._client = client
        self._fields = {"job": job, "rank": rank, "world_size": world_size, "backend": backend or str(device)}
        self._every_s = report_every_s
        self._clock = clock
        self._last_report_at: Optional[float] = None
        self._in_flight: Optional[threading.Thread] = None
        self._warned = False
        self._epoch = 0
        self._loss: Any = 0.0
        self.reports_sent = 0

    def timed(self, batches: Iterable[T]) -> Iterator[T]:
        """Yields the batches of `batches`, timing how long the loop waits for each."""
        iterator = iter(batches)
        while True:
            self.timeline.wait_for_batch()
            try:
                batch = next(iterator)
            except StopIteration:
                return
            self.timeline.batch_ready()
            yield batch

    def launched(self) -> None:
        self.timeline.launched()

    def finished(self, samples: int, *, epoch: int = 0, loss: Any = None) -> None:
        """The step's work is queued (CUDA) or done (CPU). `loss` may be a tensor: it is read only when a
        report goes out, so a CUDA loop is not synchronised every step."""
        self.timeline.finished(samples)
        self._epoch = epoch
        if loss is not None:
            self._loss = loss
        now = self._clock()
        due = self._last_report_at is None or now - self._last_report_at >= self._every_s
        if due and (self._in_flight is None or not self._in_flight.is_alive()):
            self._last_report_at = now
            self._send(background=True)

    def exclude_pause(self) -> None:
        """Marks a pause that is not starvation (validation, checkpointing)."""
        self.timeline.exclude_pause()

    @property
    def total(self) -> StepTotals:
        return self.timeline.total

    def close(self, timeout_s: float = 10.0) -> StepTotals:
        """Counts every step (waiting for the device on CUDA), sends a last report and returns the totals."""
        if isinstance(self.timeline, CudaStepTimeline):
            self.timeline.flush()
        if self._in_flight is not None:
            self._in_flight.join(timeout_s)
        self._send(background=False)
        return self.timeline.total

    def _send(self, background: bool) -> None:
        if self._client is None:
            return
        totals = self.timeline.total
        try:
            loss = float(self._loss)
        except (TypeError, ValueError):
            loss = 0.0
        fields = dict(
            self._fields,
            step=totals.steps,
            gpu_idle_seconds=totals.gpu_idle_seconds,
            step_seconds=totals.step_seconds,
            data_wait_seconds=totals.data_wait_seconds,
            samples=totals.samples,
            epoch=self._epoch,
            loss=loss,
        )
        if background:
            self._in_flight = threading.Thread(target=self._report, args=(fields,), daemon=True)
            self._in_flight.start()
        else:
            self._report(fields)

    def _report(self, fields: dict) -> None:
        try:
            self._client.report_trainer_stats(**fields)
            self.reports_sent += 1
        except Exception as error:  # noqa: BLE001 - a report must never stop training
            if not self._warned:
                self._warned = True
                log.warning("could not report trainer stats to the server (%s); training goes on", error)
