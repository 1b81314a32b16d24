"""TrainerStats: CUDA-event timing (against a simulated GPU queue), report cadence, and failure handling."""

import ast
import inspect
import logging

import pytest

from voxelfeed import cuda_step_timeline, step_timeline, trainer_stats
from voxelfeed.step_timeline import StepTimeline
from voxelfeed.trainer_stats import TrainerStats


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class FakeGpu:
    """A device queue: queued work starts when the work before it ends; an event is stamped when reached."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.queue_end = 0.0

    def run(self, seconds: float) -> None:
        self.queue_end = max(self.clock(), self.queue_end) + seconds

    def event(self) -> "FakeEvent":
        return FakeEvent(self)


class FakeEvent:
    def __init__(self, gpu: FakeGpu) -> None:
        self.gpu = gpu
        self.at = None

    def record(self) -> None:
        self.at = max(self.gpu.clock(), self.gpu.queue_end)

    def query(self) -> bool:
        return self.at <= self.gpu.clock()

    def synchronize(self) -> None:
        self.gpu.clock.t = max(self.gpu.clock.t, self.at)

    def elapsed_time(self, end: "FakeEvent") -> float:
        return (end.at - self.at) * 1000


class RecordingClient:
    def __init__(self, fail: bool = False) -> None:
        self.reports = []
        self.fail = fail

    def report_trainer_stats(self, **fields):
        if self.fail:
            raise ConnectionError("UNAVAILABLE: no server at 127.0.0.1:1")
        self.reports.append(fields)


def test_times_a_cuda_step_queue_with_events_idle_only_where_the_gpu_waited():
    clock = FakeClock()
    gpu = FakeGpu(clock)
    stats = TrainerStats(None, job="j", event_factory=gpu.event, clock=clock)
    # Step 0: queued at once, 50 ms of GPU work; the host returns immediately.
    stats.timeline.wait_for_batch()
    stats.timeline.batch_ready()
    stats.launched()
    gpu.run(0.05)
    stats.finished(4)
    # Batch 1 arrives 10 ms later, while step 0 still runs: step 1 queues behind it, no idle time.
    stats.timeline.wait_for_batch()
    clock.advance(0.01)
    stats.timeline.batch_ready()
    stats.launched()
    gpu.run(0.05)
    stats.finished(4)
    # Batch 2 takes until 150 ms, 50 ms after the GPU ran dry at 100 ms: 50 ms idle, all of it data wait.
    stats.timeline.wait_for_batch()
    clock.advance(0.14)
    stats.timeline.batch_ready()
    stats.launched()
    gpu.run(0.05)
    stats.finished(4)
    assert stats.total.steps == 2  # step 2 runs until 0.2 s: an event is read only once the GPU passed it
    totals = stats.close()
    assert (totals.steps, totals.samples) == (3, 12)
    assert totals.step_seconds == pytest.approx(0.15)
    assert totals.gpu_idle_seconds == pytest.approx(0.05)
    assert totals.data_wait_seconds == pytest.approx(0.05)


def test_leaves_a_pause_out_of_the_cuda_idle_time():
    clock = FakeClock()
    gpu = FakeGpu(clock)
    stats = TrainerStats(None, job="j", event_factory=gpu.event, clock=clock)
    stats.launched()
    gpu.run(0.01)
    stats.finished(1)
    gpu.run(5)  # validation on the GPU, from 10 ms to 5.01 s
    clock.advance(5.02)  # the host read its result
    stats.exclude_pause()
    clock.advance(0.002)
    stats.launched()
    gpu.run(0.01)
    stats.finished(1)
    assert stats.close().gpu_idle_seconds == pytest.approx(0.002)


def test_uses_the_wall_clock_timeline_on_the_cpu():
    assert isinstance(TrainerStats(None, job="j", device="cpu").timeline, StepTimeline)


@pytest.mark.parametrize("module", [trainer_stats, cuda_step_timeline, step_timeline])
def test_imports_torch_nowhere_at_module_level(module):
    # A process that only reports stats (or a trainer on another framework) must not pay for importing torch.
    tree = ast.parse(inspect.getsource(module))
    imported = [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.split(".")[0] == "torch"]


def test_reports_running_totals_at_most_every_period_then_once_more_on_close():
    clock = FakeClock()
    client = RecordingClient()
    stats = TrainerStats(client, job="vnet", rank=1, world_size=2, report_every_s=2, clock=clock)
    for step in range(10):
        stats.launched()
        clock.advance(0.5)
        stats.finished(4, epoch=0, loss=1.0 / (step + 1))
        if stats._in_flight is not None:
            stats._in_flight.join(5)
    stats.close()
    # Steps end at 0.5, 1.0, ..., 5.0 s: reports after steps 1 (first), 5 (2.5 s), 9 (4.5 s), then close.
    assert [r["step"] for r in client.reports] == [1, 5, 9, 10]
    last = client.reports[-1]
    assert last["job"] == "vnet" and (last["rank"], last["world_size"]) == (1, 2)
    assert last["samples"] == 40 and last["loss"] == pytest.approx(0.1)
    assert last["step_seconds"] == pytest.approx(5.0)
    assert last["backend"] == "cpu"


def test_a_failing_report_never_stops_training_and_warns_once(caplog):
    clock = FakeClock()
    stats = TrainerStats(RecordingClient(fail=True), job="j", report_every_s=1, clock=clock)
    with caplog.at_level(logging.WARNING, logger="voxelfeed.trainer_stats"):
        for _ in range(5):
            stats.launched()
            clock.advance(1)
            stats.finished(1)
            if stats._in_flight is not None:
                stats._in_flight.join(5)
        stats.close()
    warnings = [r for r in caplog.records if "could not report trainer stats" in r.getMessage()]
    assert len(warnings) == 1
    assert "UNAVAILABLE" in warnings[0].getMessage()
    assert stats.total.steps == 5


def test_timed_measures_the_wait_for_each_batch():
    clock = FakeClock()
    stats = TrainerStats(None, job="j", clock=clock)

    def slow_batches():
        for i in range(3):
            clock.advance(0.1)  # the loader takes 100 ms per batch
            yield i

    for _ in stats.timed(slow_batches()):
        stats.launched()
        clock.advance(0.2)
        stats.finished(1)
    totals = stats.close()
    assert totals.steps == 3
    assert totals.data_wait_seconds == pytest.approx(0.2)  # the first wait is start-up
    assert totals.gpu_idle_seconds == pytest.approx(0.2)


def test_refuses_a_non_positive_report_period():
    with pytest.raises(ValueError, match="report_every_s is 0; use a positive number of seconds"):
        TrainerStats(None, job="j", report_every_s=0)
