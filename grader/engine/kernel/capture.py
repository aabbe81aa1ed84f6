"""Output capture inside the sandbox child: capped Python streams + fd-level capture.

One OutputSink per cell or call collects nbformat outputs under a byte cap.
Python-level writes (print, sys.stderr) go straight into the sink; fd 1 and 2 point
at two memfds so `!echo`, os.system, subprocesses and C code are captured as well.
The memfds are drained before every Python-level write (keeps the order right for
the common cases) and at the end of each item, then truncated.
"""
from __future__ import annotations

import codecs
import io
import os
import sys
from typing import Any

KEEP_MIME = (
    "text/plain", "text/html", "text/markdown", "text/latex",
    "image/png", "image/jpeg", "image/svg+xml",
)


def _nbytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _cut(text: str, limit: int) -> str:
    """The longest prefix of text whose UTF-8 size is at most limit bytes."""
    if text.isascii():
        return text[:limit]
    return text.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")


class OutputSink:
    """The outputs of one cell or call, capped at `cap` bytes in total."""

    def __init__(self, cap: int, fds: "FdCapture | None" = None) -> None:
        self.cap = cap
        self.used = 0
        self.truncated = False
        self.outputs: list[dict[str, Any]] = []
        self.fds = fds

    @property
    def full(self) -> bool:
        return self.truncated

    def stream(self, name: str, text: str, *, drain: bool = True) -> None:
        if self.truncated or not text:
            return
        if drain and self.fds is not None:
            self.fds.drain(self)
        size = _nbytes(text)
        if self.used + size > self.cap:
            text = _cut(text, self.cap - self.used)
            size = _nbytes(text)
            self.truncated = True
        self.used += size
        if not text:
            return
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"].append(text)  # joined in finish(): no quadratic string growth
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": [text]})

    def display(self, output_type: str, data: dict[str, Any], metadata: dict[str, Any] | None,
                execution_count: int | None = None) -> None:
        if self.truncated:
            return
        if self.fds is not None:
            self.fds.drain(self)
        kept = {k: v for k, v in data.items() if k in KEEP_MIME and isinstance(v, str)}
        if not kept:
            return
        size = sum(_nbytes(v) for v in kept.values())
        if self.used + size > self.cap:
            self.truncated = True
            return
        self.used += size
        out: dict[str, Any] = {"output_type": output_type, "data": kept,
                               "metadata": _json_safe_metadata(metadata)}
        if output_type == "execute_result":
            out["execution_count"] = execution_count
        self.outputs.append(out)

    def finish(self) -> tuple[list[dict[str, Any]], bool]:
        if self.fds is not None:
            self.fds.drain(self)
            self.fds.reset()
        for out in self.outputs:
            if out["output_type"] == "stream" and isinstance(out["text"], list):
                out["text"] = "".join(out["text"])
        if self.truncated:
            self.outputs.append({
                "output_type": "stream", "name": "stderr",
                "text": f"\n[output truncated: more than {self.cap} bytes; the rest was dropped]\n",
            })
        return self.outputs, self.truncated


def _json_safe_metadata(md: Any) -> dict[str, Any]:
    if not isinstance(md, dict):
        return {}
    safe: dict[str, Any] = {}
    for k, v in md.items():
        if isinstance(v, (str, int, float, bool)) or v is None:
            safe[str(k)] = v
        elif isinstance(v, dict):
            safe[str(k)] = _json_safe_metadata(v)
    return safe


class CappedStream(io.TextIOBase):
    """sys.stdout / sys.stderr replacement writing into the current sink.

    Once the sink is full, the stream puts a discarding twin in its place in sys, whose
    write is the builtin len: 200 MB of print() then cost little more than the loop.
    """

    def __init__(self, name: str, fd: int) -> None:
        super().__init__()
        self._name = name
        self._fd = fd
        self.sink: OutputSink | None = None
        self.discard = _Discard(name, fd)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "backslashreplace"

    @property
    def name(self) -> str:
        return f"<{self._name}>"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:  # writes to the fd are captured too
        return self._fd

    def write(self, s: str) -> int:  # type: ignore[override]
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        sink = self.sink
        if sink is not None:
            sink.stream(self._name, s)
            if sink.truncated:
                if sys.stdout is self:
                    sys.stdout = self.discard
                if sys.stderr is self:
                    sys.stderr = self.discard
        return len(s)

    def flush(self) -> None:
        pass


class _Discard(io.TextIOBase):
    write = len  # builtins do not bind: stream.write(s) is len(s)

    def __init__(self, name: str, fd: int) -> None:
        super().__init__()
        self._name, self._fd = name, fd

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def flush(self) -> None:
        pass


class FdCapture:
    """fd 1 and fd 2 redirected to memfds (O_APPEND), read back per item."""

    def __init__(self) -> None:
        self.files: list[tuple[str, int]] = []
        self.offsets: dict[int, int] = {}
        self.decoders: dict[int, Any] = {}
        for name, target in (("stdout", 1), ("stderr", 2)):
            mfd = os.memfd_create(f"grader-{name}", 0)
            os.dup2(mfd, target)
            os.close(mfd)
            import fcntl
            fl = fcntl.fcntl(target, fcntl.F_GETFL)
            fcntl.fcntl(target, fcntl.F_SETFL, fl | os.O_APPEND)
            self.files.append((name, target))
            self.offsets[target] = 0
            self.decoders[target] = codecs.getincrementaldecoder("utf-8")("replace")

    def drain(self, sink: OutputSink) -> None:
        for name, fd in self.files:
            try:
                size = os.fstat(fd).st_size
            except OSError:
                continue
            off = self.offsets[fd]
            if size <= off:
                continue
            if sink.truncated:
                self.offsets[fd] = size
                continue
            want = min(size - off, sink.cap - sink.used + 4)
            chunks = []
            while want > 0:
                b = os.pread(fd, min(want, 1 << 20), off)
                if not b:
                    break
                chunks.append(b)
                off += len(b)
                want -= len(b)
            text = self.decoders[fd].decode(b"".join(chunks))
            if off < size:  # more than fits: everything past the cap is dropped
                sink.stream(name, text, drain=False)
                sink.truncated = True
                off = size
            else:
                sink.stream(name, text, drain=False)
            self.offsets[fd] = off

    def reset(self) -> None:
        for _name, fd in self.files:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            self.offsets[fd] = 0
            self.decoders[fd].reset()
