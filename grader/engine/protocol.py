"""Framing for the engine's pipes: an 8-byte big-endian length, then the payload.

Engine <-> zygote: pickle (both ends are ours). Sandbox child -> zygote: JSON only,
because the child runs student code and the zygote must never unpickle its bytes.
"""
from __future__ import annotations

import json
import os
import pickle
import struct
from typing import Any

HEADER = struct.Struct("!Q")
MAX_EVENT_BYTES = 64 << 20  # a child frame larger than this is a protocol violation


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd: int, n: int) -> bytes | None:
    """n bytes, or None at EOF before the first byte."""
    chunks: list[bytes] = []
    got = 0
    while got < n:
        b = os.read(fd, n - got)
        if not b:
            if got == 0:
                return None
            raise EOFError("pipe closed in the middle of a frame")
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def send_pickle(fd: int, obj: Any) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    write_all(fd, HEADER.pack(len(payload)) + payload)


def recv_pickle(fd: int) -> Any:
    head = read_exact(fd, HEADER.size)
    if head is None:
        raise EOFError("pipe closed")
    (n,) = HEADER.unpack(head)
    body = read_exact(fd, n)
    if body is None:
        raise EOFError("pipe closed")
    return pickle.loads(body)


def encode_event(obj: Any) -> bytes:
    payload = json.dumps(obj, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    return HEADER.pack(len(payload)) + payload


class EventReader:
    """Incremental decoder of JSON frames read from a non-blocking pipe."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self._buf += data
        events: list[Any] = []
        while len(self._buf) >= HEADER.size:
            (n,) = HEADER.unpack_from(self._buf)
            if n > MAX_EVENT_BYTES:
                raise ValueError(f"event frame of {n} bytes exceeds the limit")
            if len(self._buf) < HEADER.size + n:
                break
            payload = bytes(self._buf[HEADER.size:HEADER.size + n])
            del self._buf[:HEADER.size + n]
            events.append(json.loads(payload.decode("utf-8", "replace")))
        return events
