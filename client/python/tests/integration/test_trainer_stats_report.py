"""A Python rank's trainer stats reach the server's Prometheus series, as a TypeScript rank's do."""

import re
import urllib.request

import torch

from voxelfeed import FeedClient
from voxelfeed.torch import VoxelFeedDataset
from voxelfeed.torch.losses import dice_bce_loss
from voxelfeed.torch.vnet import VNET_TINY, VNet
from voxelfeed.trainer_stats import TrainerStats

JOB = "pytest-python-rank"
STEPS = 6
BATCH = 2


def scrape(url: str) -> dict:
    """{(series name, job, rank): value} of the voxelfeed_trainer_* series."""
    with urllib.request.urlopen(url, timeout=30) as response:
        text = response.read().decode()
    series = {}
    for match in re.finditer(r'^(voxelfeed_trainer_\w+)\{([^}]*)\} (\S+)$', text, re.MULTILINE):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
        series[(match.group(1), labels.get("job"), labels.get("rank"))] = float(match.group(3))
    return series


def test_a_short_training_loop_reports_its_totals_to_the_servers_metrics(phantom_server):
    model = VNet(VNET_TINY)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    dataset = VoxelFeedDataset(
        phantom_server.address, crop_size=(8, 16, 16), batch_size=BATCH, seed=5, rank=1, world_size=2
    )

    def batches():
        # The phantom's epochs are short: run epochs until STEPS steps.
        taken = 0
        for epoch in range(STEPS):
            dataset.set_epoch(epoch)
            for batch in dataset:
                yield batch
                taken += 1
                if taken == STEPS:
                    return

    with FeedClient(phantom_server.address) as client:
        stats = TrainerStats(client, job=JOB, rank=1, world_size=2, device="cpu", report_every_s=0.05)
        for batch in stats.timed(batches()):
            stats.launched()
            optimizer.zero_grad()
            loss = dice_bce_loss(model(batch["image"]), batch["label"])
            loss.backward()
            optimizer.step()
            stats.finished(BATCH, epoch=batch["epoch"], loss=loss.detach())
        totals = stats.close()
    assert totals.steps == STEPS
    assert stats.reports_sent >= 2  # at least the first report during the loop and the last one

    series = scrape(phantom_server.metrics_url)
    key = lambda name: (name, JOB, "1")  # noqa: E731
    assert series[key("voxelfeed_trainer_samples_total")] == STEPS * BATCH
    assert series[key("voxelfeed_trainer_busy_seconds_total")] > 0
    assert abs(series[key("voxelfeed_trainer_busy_seconds_total")] - totals.step_seconds) < 1e-6
    assert abs(series[key("voxelfeed_trainer_gpu_idle_seconds_total")] - totals.gpu_idle_seconds) < 1e-6
    assert abs(series[key("voxelfeed_trainer_data_wait_seconds_total")] - totals.data_wait_seconds) < 1e-6
    assert 0 <= series[key("voxelfeed_trainer_gpu_idle_ratio")] < 1


def test_reporting_to_a_server_that_is_gone_never_stops_training(start_server, phantom_dir, caplog):
    server = start_server(["--data", str(phantom_dir)])
    client = FeedClient(server.address)
    server.kill()
    stats = TrainerStats(client, job=JOB, report_every_s=0.01)
    for _ in range(3):
        stats.launched()
        stats.finished(1)
    totals = stats.close(timeout_s=30)
    client.close()
    assert totals.steps == 3
    assert stats.reports_sent == 0
    assert sum("could not report trainer stats" in r.getMessage() for r in caplog.records) == 1
