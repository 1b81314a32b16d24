"""Crops per second delivered as torch tensors into one Python process: voxelfeed against the original pipeline.

Variants, on the same `voxelfeed synth` files, the same crop, batch size and crop policy (items per nodule;
near the nodule / anywhere / centred with probabilities 0.5 / 0.4 / 0.1), each delivering image float32
[B, 1, s0, s1, s2] (voxel / 255) and label int64 [B, s0, s1, s2]:

  voxelfeed-w0  a `voxelfeed serve` process on 127.0.0.1 feeding `VoxelFeedDataset` through
                `DataLoader(batch_size=None, num_workers=0)`
  voxelfeed-w2  the same with `num_workers=2` (each worker streams its share of the steps; workers start from a
                forkserver, since gRPC does not survive fork once this process has used it)
  original      the original `myDataset_v3` (whole NRRD image and mask read per item) with
                `DataLoader(batch_size=B, shuffle=True, num_workers=2)` (shuffled by the same RandomSampler)
  cached        the same Dataset with `functools.lru_cache` on its volume loading and `persistent_workers=True`

An epoch is --passes shuffled passes over the nodules (voxelfeed: samples_per_nodule), so that starting an
epoch (workers, connections) weighs about as much as on a real data set. Each variant first delivers
--warmup-batches batches (the server's cache and the cached variant's workers fill up; not measured), then the
variants take turns for --rounds rounds of --seconds each (A B C A B C ...). A round starts a fresh epoch and
counts crops until the first batch after its time is up, epoch restarts included, as a training loop would see
them. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ("voxelfeed-w0", "voxelfeed-w2", "original", "cached")
# Bounds every loop besides its time limit.
MAX_BATCHES_PER_ROUND = 1_000_000
WARMUP_TIMEOUT_S = 600
SERVER_START_TIMEOUT_S = 60
# A worker that delivers nothing for this long is an error, not a hang.
LOADER_TIMEOUT_S = 120


class BenchError(Exception):
    """A problem with the command line or the environment: one line for the user, no stack trace."""


def parse_triple(text: str, flag: str, minimum: int, example: str) -> tuple[int, int, int]:
    parts = text.split(",")
    if len(parts) != 3 or not all(re.fullmatch(r"\d+", p.strip()) for p in parts):
        raise BenchError(f"{flag} {text!r} is not three whole numbers Z,Y,X; e.g. {flag} {example}")
    values = tuple(int(p) for p in parts)
    if min(values) < minimum:
        raise BenchError(f"{flag} {text} has a size below {minimum}; every size must be >= {minimum}")
    return values  # type: ignore[return-value]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="torch_loader_bench.py",
        description=__doc__.split("\n\n")[0],
        epilog="Example: /usr/bin/python3 bench/python/torch_loader_bench.py --rounds 3 --seconds 10",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per variant (default 3)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per round and variant (default 10)")
    parser.add_argument(
        "--warmup-batches",
        type=int,
        default=50,
        help="unmeasured batches per variant before the rounds (default 50: enough for each worker of the "
        "cached variant to have read every series)",
    )
    parser.add_argument("--series", type=int, default=16, help="phantom series in the data set (default 16)")
    parser.add_argument("--shape", default="96,160,160", help="volume sizes Z,Y,X (default 96,160,160)")
    parser.add_argument("--crop", default="16,96,96", help="crop sizes Z,Y,X (default 16,96,96)")
    parser.add_argument("--batch-size", type=int, default=8, help="crops per batch (default 8)")
    parser.add_argument(
        "--passes",
        type=int,
        default=16,
        help="passes over the nodules per epoch (default 16): a phantom of 16 series has about 21 nodules, "
        "LUNA16 1,186, so one pass would weigh each epoch's start (workers, connections) 50 times too much",
    )
    parser.add_argument("--seed", type=int, default=1, help="phantom seed (default 1)")
    parser.add_argument(
        "--data",
        default=None,
        help="the data set folder (default: .voxelfeed/bench/torch-loader-SERIESxZxYxX-seedS, written by "
        "`voxelfeed synth` when missing)",
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"comma-separated variants to run, in round order (default {','.join(VARIANTS)})",
    )
    parser.add_argument("--node", default="node", help="the node binary that runs voxelfeed (default: node on PATH)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.rounds > 1000:
        raise BenchError(f"--rounds {args.rounds} is out of range; use 1..1000")
    if not 0 < args.seconds <= 3600:
        raise BenchError(f"--seconds {args.seconds} is out of range; use a number above 0 and at most 3600")
    if args.warmup_batches < 0 or args.warmup_batches > 100_000:
        raise BenchError(f"--warmup-batches {args.warmup_batches} is out of range; use 0..100000")
    if args.series < 1 or args.series > 100_000:
        raise BenchError(f"--series {args.series} is out of range; use 1..100000")
    if args.passes < 1 or args.passes > 10_000:
        raise BenchError(f"--passes {args.passes} is out of range; use 1..10000")
    if args.batch_size < 1 or args.batch_size > 1024:
        raise BenchError(f"--batch-size {args.batch_size} is out of range; use 1..1024")
    args.shape = parse_triple(args.shape, "--shape", 16, "96,160,160")
    args.crop = parse_triple(args.crop, "--crop", 1, "16,96,96")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants or len(set(variants)) != len(variants):
        raise BenchError(
            f"--variants {args.variants!r} must name each of {', '.join(VARIANTS)} at most once, at least one"
        )
    args.variants = variants
    return args


def ensure_dataset(args: argparse.Namespace) -> Path:
    """The data set folder, written once by `voxelfeed synth` (same options, same files)."""
    if args.data is not None:
        data = Path(args.data)
        if not data.is_dir():
            raise BenchError(f"--data {args.data}: no such folder; give a folder written by `voxelfeed synth`")
        return data
    shape = "x".join(str(v) for v in args.shape)
    data = REPO_ROOT / ".voxelfeed" / "bench" / f"torch-loader-{args.series}x{shape}-seed{args.seed}"
    if (data / "voxelfeed-synth.json").is_file():
        return data
    print(f"writing {args.series} phantom series of {shape} to {data} ...", file=sys.stderr)
    command = [
        args.node,
        str(REPO_ROOT / "bin" / "voxelfeed-dev.js"),
        "synth",
        str(data),
        "--series",
        str(args.series),
        "--shape",
        ",".join(str(v) for v in args.shape),
        "--seed",
        str(args.seed),
    ]
    try:
        subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError) as error:
        raise BenchError(f"could not write the data set with {' '.join(command)}: {error}") from None
    return data


def describe_dataset(data: Path) -> dict:
    """Series, volume shape and nodules of a data set, from the manifest `voxelfeed synth` writes (shape and
    nodules None for another folder)."""
    try:
        with open(data / "voxelfeed-synth.json") as manifest:
            synth = json.load(manifest)
        return {"series": int(synth["series"]), "shape": list(synth["shape"]), "nodules": int(synth["nodules"])}
    except (OSError, ValueError, KeyError, TypeError):
        series = sum(1 for name in os.listdir(data) if name.endswith("_bboxes.npy"))
        return {"series": series, "shape": None, "nodules": None}


@dataclass
class Server:
    process: subprocess.Popen
    address: str
    stderr: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(node: str, data: Path) -> Server:
    """`voxelfeed serve` on 127.0.0.1, a free port, its cache large enough for the data set."""
    command = [
        node,
        str(REPO_ROOT / "bin" / "voxelfeed-dev.js"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--metrics-port",
        "0",
        "--data",
        str(data),
        "--cache-bytes",
        "2GiB",
        "--log-level",
        "warn",
    ]
    try:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        raise BenchError(f"could not start {' '.join(command[:3])}: {error}; pass --node PATH") from None
    stderr: list[str] = []
    threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True).start()
    found: dict[str, str] = {}
    ready = threading.Event()

    def read_stdout() -> None:
        for line in process.stdout:
            match = re.search(r"listening on (\S+):(\d+)", line)
            if match:
                found["address"] = f"{match.group(1)}:{match.group(2)}"
                ready.set()
        ready.set()

    threading.Thread(target=read_stdout, daemon=True).start()
    if not ready.wait(SERVER_START_TIMEOUT_S) or "address" not in found:
        process.kill()
        process.wait()
        raise BenchError(
            f"voxelfeed serve did not print 'listening on' within {SERVER_START_TIMEOUT_S} s: "
            f"{' '.join(command)}\n{''.join(stderr)}"
        )
    return Server(process, found["address"], stderr)


@dataclass
class Variant:
    """A data pipeline: `epoch()` returns an iterator over one epoch's batches as (image, label) tensors."""

    name: str
    description: str
    epoch: Callable[[], Iterator]
    crops_per_round: list[float] = field(default_factory=list)
    # Seconds from each round's start (a fresh epoch) to its first batch: worker start-up, connection, first read.
    first_batch_s: list[float] = field(default_factory=list)
    # The longest wait for one batch in each round.
    longest_wait_s: list[float] = field(default_factory=list)
    crops: int = 0
    batches: int = 0
    epochs: int = 0
    warmup_seconds: float = 0.0


def original_variants(args: argparse.Namespace, data: Path) -> dict[str, Variant]:
    from original_dataset import CachedDataset, myDataset_v3
    from torch.utils.data import DataLoader, RandomSampler

    plain = myDataset_v3(str(data), crop_size=args.crop, isTrain=True)
    if len(plain) == 0:
        raise BenchError(f"--data {data}: no nodule in any _bboxes.npy, so the original Dataset has no item")
    cached = CachedDataset(str(data), crop_size=args.crop, isTrain=True)
    # shuffle=True is RandomSampler(dataset); with --passes K the epoch is K shuffled passes over the items
    # (one permutation after another), as voxelfeed's samples_per_nodule K is for its plan.
    plain_loader = DataLoader(
        plain,
        batch_size=args.batch_size,
        sampler=RandomSampler(plain, num_samples=args.passes * len(plain)),
        num_workers=2,
    )
    cached_loader = DataLoader(
        cached,
        batch_size=args.batch_size,
        sampler=RandomSampler(cached, num_samples=args.passes * len(cached)),
        num_workers=2,
        persistent_workers=True,
    )
    return {
        "original": Variant(
            "original",
            "myDataset_v3 + DataLoader(shuffled, num_workers=2)",
            lambda: iter(plain_loader),
        ),
        "cached": Variant(
            "cached",
            "the same + lru_cache on loading + persistent_workers=True",
            lambda: iter(cached_loader),
        ),
    }


def voxelfeed_variants(args: argparse.Namespace, address: str, names: list[str]) -> dict[str, Variant]:
    sys.path.insert(0, str(REPO_ROOT / "client" / "python"))
    try:
        from voxelfeed.torch import VoxelFeedDataset
    except ImportError as error:
        raise BenchError(
            f"cannot import voxelfeed.torch from {REPO_ROOT / 'client' / 'python'} ({error}); "
            "leave the voxelfeed variants out with --variants original,cached"
        ) from None
    import multiprocessing

    from torch.utils.data import DataLoader

    # A worker forked from this process after it has streamed over gRPC (variant w0, earlier rounds) now and
    # then hangs in its first call (about one epoch in 30 here): gRPC's state does not survive fork. Workers
    # forked from a forkserver that has imported torch and voxelfeed but never opened a channel start as fast
    # and do not hang.
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["torch", "voxelfeed.torch"])
    variants: dict[str, Variant] = {}
    for name in names:
        workers = int(name.removeprefix("voxelfeed-w"))
        dataset = VoxelFeedDataset(
            address,
            crop_size=args.crop,
            batch_size=args.batch_size,
            seed=1,
            sampling={"samples_per_nodule": args.passes},
        )
        loader = DataLoader(
            dataset,
            batch_size=None,
            num_workers=workers,
            **({"multiprocessing_context": forkserver, "timeout": LOADER_TIMEOUT_S} if workers > 0 else {}),
        )
        epoch_counter = iter(range(1_000_000))

        def epoch(dataset=dataset, loader=loader, epoch_counter=epoch_counter) -> Iterator:
            dataset.set_epoch(next(epoch_counter))
            return ((batch["image"], batch["label"]) for batch in loader)

        variants[name] = Variant(
            name, f"VoxelFeedDataset + DataLoader(batch_size=None, num_workers={workers})", epoch
        )
    return variants


def check_batch(variant: Variant, batch, args: argparse.Namespace) -> int:
    """The batch's size, after checking that it holds what the original fed its V-Net."""
    import torch

    image, label = batch
    size = image.shape[0]
    if (
        image.dtype != torch.float32
        or tuple(image.shape[1:]) != (1, *args.crop)
        or label.dtype != torch.int64
        or tuple(label.shape) != (size, *args.crop)
        or not 0 < size <= args.batch_size
    ):
        raise BenchError(
            f"{variant.name} delivered image {image.dtype} {tuple(image.shape)} and label {label.dtype} "
            f"{tuple(label.shape)}; expected float32 [B, 1, {', '.join(map(str, args.crop))}] and int64 "
            f"[B, {', '.join(map(str, args.crop))}] with B <= {args.batch_size}"
        )
    return size


def warm_up(variant: Variant, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    batches = 0
    while batches < args.warmup_batches:
        for batch in variant.epoch():
            check_batch(variant, batch, args)
            batches += 1
            if batches >= args.warmup_batches:
                break
            if time.perf_counter() - started > WARMUP_TIMEOUT_S:
                raise BenchError(
                    f"{variant.name}: warm-up took over {WARMUP_TIMEOUT_S} s; lower --warmup-batches or --series"
                )
    variant.warmup_seconds = time.perf_counter() - started


def run_round(variant: Variant, args: argparse.Namespace) -> None:
    """Crops per second over one round: from a fresh epoch until the first batch after --seconds."""
    crops = 0
    batches = 0
    started = time.perf_counter()
    elapsed = 0.0
    longest = 0.0
    batches_iter = variant.epoch()
    variant.epochs += 1
    while elapsed < args.seconds and batches < MAX_BATCHES_PER_ROUND:
        batch = next(batches_iter, None)
        if batch is None:
            batches_iter = variant.epoch()
            variant.epochs += 1
            continue
        crops += check_batch(variant, batch, args)
        batches += 1
        now = time.perf_counter()
        if batches == 1:
            variant.first_batch_s.append(now - started)
        longest = max(longest, now - started - elapsed)
        elapsed = now - started
    # Ends the epoch's iterator now (its workers or stream stop), outside the next variant's round.
    del batches_iter
    if crops == 0:
        raise BenchError(f"{variant.name} delivered no crop in {args.seconds} s")
    variant.crops += crops
    variant.batches += batches
    variant.crops_per_round.append(crops / elapsed)
    variant.longest_wait_s.append(longest)


def machine_line() -> str:
    memory = ""
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(next(line for line in meminfo if line.startswith("MemTotal:")).split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    import torch

    return f"{os.cpu_count()} cores{memory}, python {platform.python_version()}, torch {torch.__version__}"


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    cells = [headers, *rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *(line(row) for row in rows)])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError as error:
        raise BenchError(f"{sys.executable} cannot import torch ({error}); install python3-torch") from None
    data = ensure_dataset(args)
    described = describe_dataset(data)
    if described["shape"] is not None and any(c > v for c, v in zip(args.crop, described["shape"])):
        raise BenchError(
            f"--crop {','.join(map(str, args.crop))} exceeds the volumes of {data} "
            f"({'x'.join(map(str, described['shape']))}); the original Dataset's negative crops need a crop that "
            "fits: lower --crop or raise --shape"
        )
    load_before = os.getloadavg()
    server = None
    try:
        variants: dict[str, Variant] = {}
        voxelfeed_names = [name for name in args.variants if name.startswith("voxelfeed-")]
        if voxelfeed_names:
            server = start_server(args.node, data)
            variants.update(voxelfeed_variants(args, server.address, voxelfeed_names))
        if "original" in args.variants or "cached" in args.variants:
            variants.update(original_variants(args, data))
        order = [variants[name] for name in args.variants]
        for variant in order:
            warm_up(variant, args)
        for _ in range(args.rounds):
            for variant in order:
                run_round(variant, args)
    finally:
        if server is not None:
            server.stop()
    load_after = os.getloadavg()
    return report(args, data, described, order, load_before, load_after)


def mean_of(variant: Variant | None) -> float | None:
    return statistics.fmean(variant.crops_per_round) if variant is not None else None


def report(args, data: Path, described: dict, order: list[Variant], load_before, load_after) -> int:
    by_name = {variant.name: variant for variant in order}
    voxelfeed = [v for v in order if v.name.startswith("voxelfeed-")]
    best = max(voxelfeed, key=mean_of) if voxelfeed else None
    original = by_name.get("original")
    cached = by_name.get("cached")

    def ratio(over: Variant | None) -> float | None:
        if best is None or over is None:
            return None
        return mean_of(best) / mean_of(over)

    machine = machine_line()
    print(f"torch loader benchmark on {machine}")
    shape = "x".join(map(str, described["shape"])) if described["shape"] else "?"
    print(
        f"data: {data} ({described['series']} series of {shape}, {described['nodules']} nodules); crop "
        f"{'x'.join(map(str, args.crop))}, batch {args.batch_size}, {args.passes} passes over the nodules per "
        f"epoch; {args.rounds} round{'s' if args.rounds > 1 else ''} of {args.seconds:g} s per variant after "
        f"{args.warmup_batches} warm-up batches; load average before / after: "
        f"{load_before[0]:.2f} / {load_after[0]:.2f}\n"
    )
    rows = [
        [
            f"{v.name}: {v.description}",
            " / ".join(f"{c:.1f}" for c in v.crops_per_round),
            f"{mean_of(v):.1f}",
        ]
        for v in order
    ]
    best_ratio_original = ratio(original)
    best_ratio_cached = ratio(cached)
    if best is not None and best_ratio_original is not None:
        rows.append([f"{best.name} / original (target >= 50)", "", f"{best_ratio_original:.1f}"])
    if best is not None and best_ratio_cached is not None:
        rows.append([f"{best.name} / cached (target >= 5)", "", f"{best_ratio_cached:.1f}"])
    print(format_table(["crops/s delivered as torch tensors", "each round", "mean"], rows))
    print()
    result = {
        "machine": machine,
        "series": described["series"],
        "shape": described["shape"],
        "nodules": described["nodules"],
        "crop": list(args.crop),
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "warmup_batches": args.warmup_batches,
        "passes": args.passes,
        "load_average_before": round(load_before[0], 2),
        "load_average_after": round(load_after[0], 2),
        "variants": {
            v.name: {
                "crops_per_s": [round(c, 1) for c in v.crops_per_round],
                "mean_crops_per_s": round(mean_of(v), 1),
                "crops": v.crops,
                "batches": v.batches,
                "epochs": v.epochs,
                "first_batch_s": [round(t, 3) for t in v.first_batch_s],
                "longest_wait_s": [round(t, 3) for t in v.longest_wait_s],
                "warmup_s": round(v.warmup_seconds, 2),
            }
            for v in order
        },
        "voxelfeed_best": best.name if best is not None else None,
        "ratio_vs_original": round(best_ratio_original, 2) if best_ratio_original is not None else None,
        "ratio_vs_cached": round(best_ratio_cached, 2) if best_ratio_cached is not None else None,
    }
    print(json.dumps(result))
    return 0


def _exit_on_sigterm(signum, frame) -> None:
    # So that `finally` stops the server when the benchmark is terminated.
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as error:
        print(f"torch_loader_bench: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
