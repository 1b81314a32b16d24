"""The same-host path of StreamBatches: batches handed over in shared memory (/dev/shm) instead of the socket.

The client writes a probe file with a random token under the shared directory and sends its path and token;
a server that reads the token back runs on this host, writes each batch once into a file of its own there,
and sends where it lies. This client maps that file and gives numpy views of it: no copy at all. A batch's
views stay valid until the consumer asks the stream for the next batch: then the batch is released and the
server may write another batch over it (the arrays then change under you; copy a batch you keep longer, e.g.
`np.array(batch.image)`). The mapping itself outlives the stream, so reading a released view never crashes.
A server that cannot read the probe (another host, another /dev/shm) streams normally: the batches are the
same, and `on_shared_memory` says why.
"""

from __future__ import annotations

import mmap
import os
import queue
import secrets
import threading
from dataclasses import dataclass

import grpc

from ._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from ._tensor_message import MalformedBatch, split_tensors, tensor_views
from .batch import Batch, batch_with_tensors, decode_batch
from .stream import SERVICE, BatchStream, OutOfOrder, _StepCursor

DEFAULT_SHARED_MEMORY_DIRECTORY = "/dev/shm"
METADATA_KEY = "voxelfeed-shared-memory"


@dataclass(frozen=True)
class SharedMemoryAnswer:
    """How the server answered: `used` False means the normal stream, for `reason`."""

    used: bool
    reason: str


class _Probe:
    """A probe file `voxelfeed-probe-<32 hex digits>` holding a random token; removed once answered."""

    def __init__(self, directory: str):
        self.path = os.path.join(os.path.abspath(directory), f"voxelfeed-probe-{secrets.token_hex(16)}")
        self.token = secrets.token_hex(16)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, self.token.encode())
        finally:
            os.close(fd)

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class _Releases:
    """One ReleaseSharedBatches call per stream call: each release is a message of it, sent by grpc's thread
    from a queue, so releasing never blocks the consumer."""

    def __init__(self, channel: grpc.Channel, metadata: tuple):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        method = channel.stream_unary(
            SERVICE + "ReleaseSharedBatches",
            request_serializer=pb.ReleaseSharedBatchesRequest.SerializeToString,
            response_deserializer=pb.ReleaseSharedBatchesResponse.FromString,
        )
        self._future = method.future(self._requests(), metadata=metadata)

    def _requests(self):
        while (request := self._queue.get()) is not None:
            yield request

    def release(self, path: str, ident: int) -> None:
        self._queue.put(pb.ReleaseSharedBatchesRequest(path=path, ids=[ident]))

    def end(self) -> None:
        """No more releases: the call ends (a failed one, with its connection, needs nothing more)."""
        self._queue.put(None)


class _Mapping:
    """A server's batch file, mapped read-only; mapped anew (the old map kept for its views) if it grew."""

    def __init__(self, path: str):
        self.path = path
        self.map = self._map()

    def _map(self) -> mmap.mmap:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as error:
            raise MalformedBatch(
                f"cannot open the server's shared-memory file {self.path} ({error.strerror}): run client and server "
                "as the same user, or stream without shared_memory"
            ) from None
        try:
            return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)

    def covering(self, end: int) -> mmap.mmap:
        if end > len(self.map):
            self.map = self._map()
        if end > len(self.map):
            raise MalformedBatch(f"the shared-memory file {self.path} ends before byte {end} of a batch")
        return self.map


class _SharedMemoryCursor(_StepCursor):
    """_StepCursor for a same-host stream: each call carries a fresh probe, messages that point into shared
    memory become views of the mapped file, and their ids wait for `release_taken`."""

    def __init__(self, request: pb.StreamBatchesRequest, directory: str, on_answer):
        super().__init__(request)
        self.directory = directory
        self.on_answer = on_answer
        self.probe: _Probe | None = None
        self.answered = False
        self.mapping: _Mapping | None = None
        self.channel: grpc.Channel | None = None
        self.call = None
        self.metadata: tuple = ()
        self.lock = threading.Lock()
        # (step, releases, path, id) of each batch taken from the call and not yet released, oldest first.
        self.taken: list[tuple[int, _Releases, str, int]] = []
        self.releases: _Releases | None = None

    def next_request(self) -> pb.StreamBatchesRequest:
        wire = super().next_request()
        self._remove_probe()
        self.answered = False
        try:
            self.probe = _Probe(self.directory)
        except OSError as error:
            # No such directory here (no /dev/shm), or not writable: the normal stream, and the reason.
            self.answered = True
            if self.on_answer is not None:
                self.on_answer(SharedMemoryAnswer(False, f"cannot write a probe in {self.directory} ({error.strerror})"))
            return wire
        wire.shared_memory.probe_path = self.probe.path
        wire.shared_memory.probe_token = self.probe.token
        return wire

    def call_started(self, channel: grpc.Channel, metadata: tuple, call) -> None:
        self.channel = channel
        self.metadata = metadata
        self.call = call
        # Releases go to the server that wrote the batches: one call per stream call, opened with it.
        with self.lock:
            previous, self.releases = self.releases, None
        if previous is not None and not any(entry[1] is previous for entry in self.taken):
            previous.end()

    def end_releases(self) -> None:
        """The stream is closed: ends the release calls once every batch is released."""
        with self.lock:
            calls = {id(entry[1]): entry[1] for entry in self.taken}
            if self.releases is not None:
                calls[id(self.releases)] = self.releases
            self.releases = None
        for releases in calls.values():
            releases.end()

    def call_ended(self) -> None:
        self._remove_probe()

    def take(self, raw: bytes) -> Batch:
        if not self.answered:
            self.answered = True
            self._remove_probe()
            self._report_answer()
        rest, image_span, _ = split_tensors(raw)
        head = pb.Batch.FromString(rest) if image_span is None else None
        if head is None or not head.HasField("shared_memory"):
            return super().take(raw)
        pointer = head.shared_memory
        batch = self._view(head, pointer)
        if batch.step != self.next_step:
            raise OutOfOrder(f"the server sent step {batch.step} where step {self.next_step} was due")
        self.next_step = batch.step + self.stride
        self.received += 1
        self.steps_in_epoch = batch.steps_in_epoch
        with self.lock:
            if self.releases is None:
                self.releases = _Releases(self.channel, self.metadata)
            self.taken.append((batch.step, self.releases, pointer.path, pointer.id))
        return batch

    def release_through(self, step: float) -> None:
        """Releases the batches of steps up to `step` (their slots go back to the server)."""
        with self.lock:
            count = sum(1 for entry in self.taken if entry[0] <= step)
            done, self.taken = self.taken[:count], self.taken[count:]
        for _, releases, path, ident in done:
            releases.release(path, ident)

    def _view(self, head: pb.Batch, pointer: pb.SharedMemoryBatch) -> Batch:
        shape = tuple(head.shape)
        if len(shape) != 4:
            raise MalformedBatch(f"batch shape is {list(shape)}; expected [B, s0, s1, s2]")
        if self.mapping is None or self.mapping.path != pointer.path:
            self.mapping = _Mapping(pointer.path)
        data = self.mapping.covering(max(pointer.offset + pointer.length, pointer.mask_offset + pointer.mask_length))
        mask_span = (pointer.mask_offset, pointer.mask_length) if pointer.mask_length > 0 else None
        image, mask = tensor_views(data, (pointer.image_offset, pointer.image_length), mask_span, head.dtype, shape)
        return batch_with_tensors(head, image, mask)

    def _report_answer(self) -> None:
        if self.on_answer is None:
            return
        value = ""
        try:
            value = dict(self.call.initial_metadata()).get(METADATA_KEY, "")
        except Exception:  # noqa: BLE001 - no metadata: an older server
            pass
        if value == "on":
            self.on_answer(SharedMemoryAnswer(True, ""))
        else:
            self.on_answer(SharedMemoryAnswer(False, value.removeprefix("refused: ") or "the server does not offer it"))

    def _remove_probe(self) -> None:
        if self.probe is not None:
            self.probe.remove()
            self.probe = None


class SharedBatchStream(BatchStream):
    """A BatchStream on the same-host path: each `next()` first releases the batch returned before it, so a
    batch's arrays are valid until the next `next()` (or `close()`)."""

    def __init__(self, channels, request, prefetch, policy, on_retry=None, *, directory: str, on_answer=None):
        super().__init__(channels, request, prefetch, policy, on_retry)
        self._cursor = _SharedMemoryCursor(request, directory, on_answer)
        self._producer.cursor = self._cursor
        self._last_step = -1

    def __next__(self) -> Batch:
        self._cursor.release_through(self._last_step)
        try:
            batch = super().__next__()
        except BaseException:
            # The end (or an error): nothing more to hand out, so nothing more to release after this.
            self._cursor.release_through(float("inf"))
            self._cursor.end_releases()
            raise
        self._last_step = batch.step
        return batch

    def close(self, error=None) -> None:
        super().close(error)
        self._cursor.release_through(float("inf"))
        self._cursor.end_releases()
        self._cursor.call_ended()


__all__ = ["DEFAULT_SHARED_MEMORY_DIRECTORY", "SharedBatchStream", "SharedMemoryAnswer", "decode_batch"]
