"""The one error class of the client, and which failures are worth a retry."""

from __future__ import annotations

import re

import grpc


class FeedError(Exception):
    """A failed call. `code` is the gRPC status name ("INVALID_ARGUMENT", "UNAVAILABLE", ...), `details` the
    server's text unchanged (it names the field, the value and the fix); the message also says which call failed
    against which address."""

    def __init__(self, code: str, details: str, message: str):
        super().__init__(message)
        self.code = code
        self.details = details

    @property
    def status(self) -> grpc.StatusCode:
        """The grpc.StatusCode of `code`."""
        return grpc.StatusCode[self.code]


def to_feed_error(error: BaseException, method: str, address: str) -> FeedError:
    """A grpc.RpcError (or anything a call raised) as a FeedError naming the call and the address."""
    if isinstance(error, FeedError):
        return error
    if isinstance(error, grpc.RpcError) and hasattr(error, "code"):
        code = error.code()
        name = code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"
        details = error.details() or ""
        return FeedError(name, details, f"{method} on {address} failed with {name}: {details}")
    text = str(error)
    return FeedError("UNKNOWN", text, f"{method} on {address} failed: {text}")


_BROKEN_CONNECTION = re.compile(r"RST_STREAM|Connection dropped|ECONNRESET|Socket closed|Connection reset")


def is_retryable(error: FeedError) -> bool:
    """Whether a failed call is worth repeating on a fresh connection: the server is unreachable, draining or
    restarting (UNAVAILABLE), or the connection broke under the call (INTERNAL with a reset-stream detail).
    Every other status is an answer: a deterministic server would give the same one again."""
    if error.code == "UNAVAILABLE":
        return True
    return error.code == "INTERNAL" and bool(_BROKEN_CONNECTION.search(error.details))
