"""StepTimeline: the TypeScript trainer's step timeline cases, run against the Python port."""

import pytest

from voxelfeed.step_timeline import StepTimeline


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def test_counts_idle_time_from_the_end_of_one_step_to_the_launch_of_the_next_data_wait_included():
    clock = FakeClock()
    timeline = StepTimeline(clock)
    timeline.wait_for_batch()
    clock.advance(5)  # start-up: not counted
    timeline.batch_ready()
    timeline.launched()
    clock.advance(0.02)
    first = timeline.finished(8)
    assert (first.idle_seconds, first.data_wait_seconds, first.samples) == (0, 0, 8)
    assert first.compute_seconds == pytest.approx(0.02)

    timeline.wait_for_batch()
    clock.advance(0.003)  # starved for 3 ms
    timeline.batch_ready()
    clock.advance(0.001)  # 1 ms to build input tensors
    timeline.launched()
    clock.advance(0.02)
    second = timeline.finished(8)
    assert second.idle_seconds == pytest.approx(0.004)
    assert second.data_wait_seconds == pytest.approx(0.003)
    assert second.compute_seconds == pytest.approx(0.02)

    total = timeline.total
    assert (total.steps, total.samples) == (2, 16)
    assert total.gpu_idle_seconds == pytest.approx(0.004)
    assert total.idle_ratio == pytest.approx(0.004 / 0.044)


def test_reports_no_idle_time_when_the_next_batch_is_always_ready():
    clock = FakeClock()
    timeline = StepTimeline(clock)
    for _ in range(10):
        timeline.wait_for_batch()
        timeline.batch_ready()
        timeline.launched()
        clock.advance(0.02)
        timeline.finished(4)
    assert timeline.total.gpu_idle_seconds == 0
    assert timeline.total.idle_ratio == 0


def test_leaves_pauses_such_as_validation_out_of_idle_time():
    clock = FakeClock()
    timeline = StepTimeline(clock)
    timeline.launched()
    clock.advance(0.01)
    timeline.finished(1)
    clock.advance(30)  # validation
    timeline.exclude_pause()
    timeline.wait_for_batch()
    clock.advance(0.002)
    timeline.batch_ready()
    timeline.launched()
    clock.advance(0.01)
    assert timeline.finished(1).idle_seconds == pytest.approx(0.002)


def test_refuses_to_finish_a_step_that_was_never_launched():
    with pytest.raises(RuntimeError, match="before launched"):
        StepTimeline(lambda: 0.0).finished(1)


def test_counts_as_data_wait_only_the_part_of_the_wait_after_the_device_had_finished():
    clock = FakeClock()
    timeline = StepTimeline(clock)
    timeline.launched()
    finish_at = clock() + 0.02
    timeline.wait_for_batch()
    clock.advance(0.03)  # the batch comes 10 ms after the device finished
    timeline.batch_ready()
    timeline.finished(8, finish_at)
    clock.advance(0.002)  # preparing it
    timeline.launched()
    clock.advance(0.02)
    step1 = timeline.finished(8)
    assert step1.data_wait_seconds == pytest.approx(0.01)
    assert step1.idle_seconds == pytest.approx(0.012)


def test_counts_no_idle_time_for_a_step_queued_behind_a_running_one_and_times_it_from_that_end():
    clock = FakeClock()
    timeline = StepTimeline(clock)
    timeline.launched()  # step 0
    end0 = clock() + 0.02
    clock.advance(0.005)
    timeline.launched()  # step 1 queued behind it
    clock.advance(0.02)
    timeline.finished(8, end0)
    clock.advance(0.02)
    step1 = timeline.finished(8, end0 + 0.02)
    assert step1.idle_seconds == 0
    assert step1.compute_seconds == pytest.approx(0.02)
