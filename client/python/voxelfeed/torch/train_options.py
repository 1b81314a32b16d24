"""The example trainer's command line: flags with help texts, defaults, and every problem reported at once.

A bad flag ends the program with one line naming the flag, the value and the fix (exit code 2), not argparse's
usage dump, so the line survives in a torchrun log of several ranks. No torch import: `--help` and option errors
are instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import List, NoReturn, Optional, Sequence, Tuple

from ..channels import address_problem
from .check_crop_divisible import check_crop_divisible
from .vnet_config import PRESETS

PROG = "python -m voxelfeed.torch.train_ddp"
CHECKPOINT_FILE = "checkpoint.pt"


@dataclass(frozen=True)
class TrainOptions:
    address: str
    crop: Tuple[int, int, int]
    batch_size: int
    epochs: int
    steps_per_epoch: int
    max_steps: int
    lr: float
    seed: int
    vnet: str
    checkpoint_dir: Optional[str]
    checkpoint_every: int
    resume: bool
    num_workers: int
    device: str
    job: str
    report_every: float
    log_every: int

    @property
    def checkpoint_path(self) -> Optional[str]:
        return None if self.checkpoint_dir is None else os.path.join(self.checkpoint_dir, CHECKPOINT_FILE)


class OptionError(Exception):
    """A bad command line: the message is the whole line to print."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise OptionError(f"{message}; see --help")


def _crop(text: str) -> Tuple[int, int, int]:
    parts = text.replace("x", ",").split(",")
    try:
        sides = tuple(int(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--crop {text!r} is not three integers; use S0,S1,S2, e.g. 16,96,96")
    if len(sides) != 3 or min(sides) < 1:
        raise argparse.ArgumentTypeError(f"--crop {text!r} is not three positive sides; use S0,S1,S2, e.g. 16,96,96")
    return sides  # type: ignore[return-value]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=(
            "Trains a V-Net on batches streamed by a voxelfeed server, with DistributedDataParallel across the "
            "processes torchrun starts (gloo on CPU, NCCL on GPU), or in one process without torchrun. Loss: "
            "soft Dice + binary cross-entropy, as the TypeScript trainer's. Checkpoints hold the model, the "
            "optimiser and the data position, so --resume continues with exactly the next batch."
        ),
        epilog=f"Example: torchrun --nproc_per_node=2 -m voxelfeed.torch.train_ddp --address 127.0.0.1:50051 "
        "--crop 16,96,96 --checkpoint-dir ckpt",
    )
    add = parser.add_argument
    add("--address", required=True, metavar="HOST:PORT", help="the voxelfeed server, e.g. 127.0.0.1:50051")
    add("--crop", type=_crop, default=(16, 96, 96), metavar="S0,S1,S2",
        help="crop size in voxels; each side a multiple of 2^(depth-1) of the V-Net (default 16,96,96)")
    add("--batch-size", type=int, default=4, metavar="N", help="crops per batch and rank (default 4)")
    add("--epochs", type=int, default=1, metavar="N", help="epochs to train, counted from 0 (default 1)")
    add("--steps-per-epoch", type=int, default=0, metavar="N",
        help="cap on each rank's steps per epoch; 0 = the whole epoch (default 0)")
    add("--max-steps", type=int, default=0, metavar="N",
        help="stop after this many steps in all, resumed steps included; 0 = no limit (default 0)")
    add("--lr", type=float, default=1e-3, metavar="RATE", help="Adam learning rate (default 0.001)")
    add("--seed", type=int, default=1, metavar="N",
        help="seeds the server's sampling plan and the initial weights (default 1)")
    add("--vnet", choices=sorted(PRESETS), default="tiny",
        help="V-Net preset: tiny (4 to 16 channels, for CPUs and tests) or paper (Milletari et al., 65 M "
        "parameters) (default tiny)")
    add("--checkpoint-dir", metavar="DIR", help=f"where rank 0 writes {CHECKPOINT_FILE} (none: no checkpoints)")
    add("--checkpoint-every", type=int, default=100, metavar="STEPS",
        help="save every this many steps, and always at the end; 0 = only at the end (default 100)")
    add("--resume", action="store_true",
        help=f"continue from DIR/{CHECKPOINT_FILE} of --checkpoint-dir: weights, optimiser and the next batch")
    add("--num-workers", type=int, default=0, metavar="N",
        help="DataLoader worker processes per rank; they share the rank's steps, each once (default 0)")
    add("--device", choices=["auto", "cpu", "cuda"], default="auto",
        help="auto: the rank's GPU (LOCAL_RANK) when CUDA is available, else the CPU (default auto)")
    add("--job", default="vnet", metavar="NAME", help="job name of the trainer stats the server exports (default vnet)")
    add("--report-every", type=float, default=2.0, metavar="SECONDS",
        help="how often each rank reports its trainer stats to the server (default 2)")
    add("--log-every", type=int, default=10, metavar="STEPS", help="rank 0 logs loss and Dice every this many steps "
        "(default 10)")
    return parser


def parse_options(argv: Optional[Sequence[str]] = None, depth_of=lambda vnet: PRESETS[vnet].depth) -> TrainOptions:
    """The options of `argv` (default sys.argv[1:]); raises OptionError with one line for every problem."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    problems: List[str] = []
    problem = address_problem(args.address)
    if problem is not None:
        problems.append(f"--address: {problem}")
    for flag, value, low in [
        ("--batch-size", args.batch_size, 1),
        ("--epochs", args.epochs, 1),
        ("--steps-per-epoch", args.steps_per_epoch, 0),
        ("--max-steps", args.max_steps, 0),
        ("--checkpoint-every", args.checkpoint_every, 0),
        ("--num-workers", args.num_workers, 0),
        ("--log-every", args.log_every, 1),
        ("--seed", args.seed, 0),
    ]:
        if value < low:
            problems.append(f"{flag} is {value}; use an integer >= {low}")
    if not args.lr > 0:
        problems.append(f"--lr is {args.lr}; use a positive learning rate, e.g. 0.001")
    if not args.report_every > 0:
        problems.append(f"--report-every is {args.report_every}; use a positive number of seconds, e.g. 2")
    try:
        check_crop_divisible(args.crop, depth_of(args.vnet))
    except ValueError as error:
        problems.append(f"{error} (--vnet {args.vnet})")
    if args.resume and args.checkpoint_dir is None:
        problems.append("--resume needs --checkpoint-dir DIR (the folder of the checkpoint to continue from)")
    if problems:
        raise OptionError("; ".join(problems))
    return TrainOptions(
        address=args.address,
        crop=args.crop,
        batch_size=args.batch_size,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        max_steps=args.max_steps,
        lr=args.lr,
        seed=args.seed,
        vnet=args.vnet,
        checkpoint_dir=args.checkpoint_dir,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        num_workers=args.num_workers,
        device=args.device,
        job=args.job,
        report_every=args.report_every,
        log_every=args.log_every,
    )
