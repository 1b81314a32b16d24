"""The example PyTorch trainer: a V-Net trained on a voxelfeed server's batches with DistributedDataParallel.

    torchrun --nproc_per_node=2 -m voxelfeed.torch.train_ddp --address 127.0.0.1:50051 --checkpoint-dir ckpt
    python -m voxelfeed.torch.train_ddp --address 127.0.0.1:50051          # one process, no torchrun

Each rank streams its own batches (VoxelFeedDataset takes rank and world size from the process group), so no
sampler is needed and no two ranks see the same crop. The loss is the TypeScript trainer's (soft Dice + BCE on
the foreground logit); rank 0 logs it with the batch Dice, every rank reports its trainer stats to the server.
Rank 0 saves the model, the optimiser and `state_after(batch)` of the last batch trained on, so `--resume`
continues with exactly the next batch: every batch is a pure function of (seed, epoch, step, rank, world size).

Exit codes: 0 done, 1 the server is unreachable or failed, 2 bad options or an unusable checkpoint; each with
one line on stderr, not a traceback.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Optional, Sequence

from .train_options import PROG, OptionError, TrainOptions, parse_options

#: The server probe before training gives up fast: a wrong --address should not cost a minute of retries.
PROBE_ATTEMPTS = 4


class TrainError(Exception):
    """A failure worth one line: `exit_code` 1 (server) or 2 (options, checkpoint)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        options = parse_options(argv)
    except OptionError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    try:
        train(options)
    except TrainError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return error.exit_code
    except Exception as error:  # noqa: BLE001 - feed failures reach here wrapped by DataLoader workers
        message = _feed_failure(error)
        if message is None:
            raise
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1
    return 0


def _feed_failure(error: BaseException) -> Optional[str]:
    """The one line of a FeedError, raised here or in a DataLoader worker (which re-raises it as a RuntimeError
    whose text ends with the worker's traceback), else None."""
    from ..errors import FeedError

    if isinstance(error, FeedError):
        return str(error)
    text = str(error)
    if "Caught FeedError" in text:
        last = text.strip().splitlines()[-1]
        return last.split("FeedError: ", 1)[-1]
    return None


def train(o: TrainOptions) -> None:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from .. import FeedClient, FeedError, ReconnectPolicy
    from ..trainer_stats import TrainerStats
    from .checkpoint import load_checkpoint, save_checkpoint
    from .dataset import VoxelFeedDataset, state_after
    from .losses import batch_dice, dice_bce_loss, foreground_probability
    from .vnet import PRESETS, VNet
    from .weights_digest import weights_digest

    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = _device(torch, o.device, local_rank)
    try:
        probe = ReconnectPolicy(initial_backoff_ms=100, max_backoff_ms=1000, max_attempts=PROBE_ATTEMPTS)
        with FeedClient(o.address, reconnect=probe) as client:
            client.dataset_info()
    except FeedError as error:
        raise TrainError(f"cannot reach the voxelfeed server at {o.address}: {error}", 1) from None
    if world_size > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    config = PRESETS[o.vnet].with_(seed=o.seed)
    model = VNet(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=o.lr)
    dataset = VoxelFeedDataset(
        o.address,
        crop_size=o.crop,
        batch_size=o.batch_size,
        seed=o.seed,
        steps_per_epoch=o.steps_per_epoch,
        # On a GPU the labels travel as bytes and widen there; the losses take any dtype.
        label_dtype=torch.uint8 if device.type == "cuda" else torch.int64,
    )
    run = _run_fields(o, world_size)
    global_step = 0
    position: Dict[str, Any] = {"epoch": 0, "step": 0}
    if o.resume:
        checkpoint = _load(load_checkpoint, o, run)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        global_step = int(checkpoint["global_step"])
        position = checkpoint["dataset"]
        dataset.load_state_dict(position)
    network = model
    if world_size > 1:
        network = DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)
    # Workers start by forkserver (this process already speaks gRPC, which does not survive fork) and persist
    # across epochs: set_epoch reaches them through shared memory.
    loader = dataset.loader(
        o.num_workers, pin_memory=device.type == "cuda", persistent_workers=o.num_workers > 0
    )

    def save() -> None:
        if rank != 0 or o.checkpoint_path is None:
            return
        payload = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "dataset": position,
            "epoch": position["epoch"],
            "global_step": global_step,
            "config": config.to_dict(),
            "run": run,
        }
        save_checkpoint(o.checkpoint_path, payload)

    started_at = global_step
    saved_at = global_step
    with FeedClient(o.address) as reports:
        stats = TrainerStats(
            reports, job=o.job, rank=rank, world_size=world_size, device=device,
            backend=f"torch-{device.type}", report_every_s=o.report_every,
        )
        done = o.max_steps > 0 and global_step >= o.max_steps
        for epoch in range(int(position["epoch"]), o.epochs):
            if done:
                break
            dataset.set_epoch(epoch)
            for batch in stats.timed(loader):
                stats.launched()
                x = batch["image"].to(device, non_blocking=True)
                y = batch["label"].to(device, non_blocking=True)
                logits = network(x)
                loss = dice_bce_loss(logits, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                stats.finished(x.shape[0], epoch=epoch, loss=loss.detach())
                global_step += 1
                position = state_after(batch)
                if rank == 0 and global_step % o.log_every == 0:
                    dice = batch_dice(foreground_probability(logits.detach()), y).item()
                    print(
                        f"[rank 0] epoch {epoch} step {batch['step']}/{batch['steps_in_epoch']} "
                        f"(global {global_step}): loss {loss.item():.6f} dice {dice:.4f}",
                        flush=True,
                    )
                if o.checkpoint_every > 0 and global_step % o.checkpoint_every == 0:
                    save()
                    saved_at = global_step
                    stats.exclude_pause()
                if o.max_steps > 0 and global_step >= o.max_steps:
                    done = True
                    break
        if global_step != saved_at:
            save()
        totals = stats.close()
    digest = weights_digest(model.state_dict())
    print(
        f"[rank {rank}] done: {global_step - started_at} steps (global {global_step}), "
        f"{totals.samples} samples, device idle {100 * totals.idle_ratio:.1f}%, weights sha256 {digest}",
        flush=True,
    )
    if world_size > 1:
        dist.destroy_process_group()


def _device(torch: Any, choice: str, local_rank: int):
    if choice == "cuda" and not torch.cuda.is_available():
        raise TrainError(
            "--device cuda, but torch sees no CUDA device (a CPU-only torch, or no GPU visible); "
            "use --device cpu or auto",
            2,
        )
    if choice == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)


def _run_fields(o: TrainOptions, world_size: int) -> Dict[str, Any]:
    """What a resumed run must share with the saved one for "the next batch" to mean the same batch."""
    return {
        "vnet": o.vnet,
        "seed": o.seed,
        "crop": list(o.crop),
        "batch_size": o.batch_size,
        "world_size": world_size,
        "steps_per_epoch": o.steps_per_epoch,
    }


def _load(load_checkpoint: Any, o: TrainOptions, run: Dict[str, Any]) -> Dict[str, Any]:
    try:
        checkpoint = load_checkpoint(o.checkpoint_path)
    except (FileNotFoundError, ValueError) as error:
        raise TrainError(str(error), 2) from None
    saved = checkpoint.get("run", {})
    changed = [key for key in run if saved.get(key) != run[key]]
    if changed:
        pairs = ", ".join(f"{key} {saved.get(key)!r} (now {run[key]!r})" for key in changed)
        raise TrainError(
            f"checkpoint {o.checkpoint_path} was saved with {pairs}; resume with the same options, "
            "or use another --checkpoint-dir to start afresh",
            2,
        )
    return checkpoint


if __name__ == "__main__":
    sys.exit(main())
