"""The value encoding of the proxy protocol between the trusted driver and a sandbox.

A frame's payload is JSON. Plain values travel by value: None, bool, int, float
(NaN and infinities included), str, lists; everything else is a tagged object
{"$": tag, ...}: tuple, dict, set, frozenset, bytes, complex, slice, Ellipsis, numpy
arrays and scalars of numeric dtypes (raw little-endian buffers), the names of a few
trusted types (int, float, numpy.float32 ...), and handles {"$": "h", "id": N} that
stand for an object living in the sandbox.

Both sides import this module, but they use different halves:
- the sandbox (untrusted) encodes replies with `Encoder` and decodes requests with
  `decode(..., resolve=...)`; it trusts nothing either;
- the driver (trusted) decodes replies with `decode` and its own `resolve`, which
  turns handle ids into proxies. Decoding builds only plain Python and numpy values
  from validated fields: nothing is unpickled, imported or called on the way.
"""
from __future__ import annotations

import base64
import builtins
import json
import math
import re
import sys
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 64
MAX_ARRAY_BYTES = 16 << 20          # larger arrays stay in the sandbox as handles
MAX_PLAIN_ITEMS = 100_000           # larger containers stay in the sandbox as handles
NUMERIC_KINDS = "biufc"
_DTYPE = re.compile(r"^[<>|=]?[biufc][0-9]{1,2}$")
# types that may be named across the boundary (each side resolves its own object):
# every class of the builtins module, and these numpy types
NUMPY_TYPES = ("bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
               "uint64", "float16", "float32", "float64", "complex64", "complex128",
               "ndarray", "generic", "number", "integer", "floating")


class WireError(ValueError):
    """A payload that does not follow the protocol (a tampered or broken peer)."""


class Unsendable(TypeError):
    """A value that cannot cross the boundary (e.g. a trusted function or object)."""


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, allow_nan=True,
                      separators=(",", ":")).encode("utf-8", "surrogatepass")


def dumps_frame(obj: Any) -> bytes:
    """A length-prefixed JSON frame (grader.engine.protocol's framing)."""
    from .protocol import HEADER
    payload = dumps(obj)
    return HEADER.pack(len(payload)) + payload


def loads(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"unreadable frame: {type(exc).__name__}") from None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise WireError("expected base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise WireError("bad base64") from None


def _np():
    return sys.modules.get("numpy")


def type_name(value: Any) -> str | None:
    """The wire name of a type both sides know (built-in classes, exceptions included,
    and numpy's scalar types), or None."""
    name = getattr(value, "__name__", None)
    if type(name) is str and getattr(builtins, name, None) is value and isinstance(value, type):
        return name
    np = _np()
    if np is not None:
        for name in NUMPY_TYPES:
            if value is getattr(np, name, None):
                return "numpy." + name
    return None


def resolve_type(name: Any) -> Any:
    if not isinstance(name, str):
        raise WireError("bad type name")
    found = getattr(builtins, name, None) if name.isidentifier() else None
    if isinstance(found, type):
        return found
    np = _np()
    if np is not None and name.startswith("numpy.") and name[6:] in NUMPY_TYPES:
        return getattr(np, name[6:])
    raise WireError(f"unknown type name {name[:40]!r}")


# -- encoding ----------------------------------------------------------------------------

class Encoder:
    """Encode a value. Plain data goes by value; anything else becomes `handle(obj)`.

    `handle` is None on the trusted side for values that must never leave it: there an
    unknown object raises Unsendable. `by_value` decides whether mutable containers of
    plain data are copied (replies) or must be handles too.
    """

    def __init__(self, handle: Callable[[Any], dict] | None, *, proxy_id: Callable[[Any], int | None]
                 = lambda obj: None) -> None:
        self.handle = handle
        self.proxy_id = proxy_id

    def encode(self, obj: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return self._other(obj, "nested too deeply")
        t = type(obj)
        if obj is None or t is bool or t is str:
            return obj
        if t is int:
            return obj if obj.bit_length() < 4000 else self._other(obj, "integer too large")
        if t is float:
            return obj
        pid = self.proxy_id(obj)
        if pid is not None:
            return {"$": "h", "id": pid}
        if t is complex:
            return {"$": "c", "v": [obj.real, obj.imag]}
        if t is bytes:
            return {"$": "b", "v": _b64(obj)}
        if t is tuple:
            return {"$": "t", "v": [self.encode(v, depth + 1) for v in obj]}
        if obj is Ellipsis:
            return {"$": "e"}
        if t is slice:
            return {"$": "sl", "v": [self.encode(obj.start, depth + 1), self.encode(obj.stop, depth + 1),
                                     self.encode(obj.step, depth + 1)]}
        np = _np()
        if np is not None:
            if t is np.ndarray and obj.dtype.kind in NUMERIC_KINDS and obj.nbytes <= MAX_ARRAY_BYTES:
                arr = np.ascontiguousarray(obj)
                return {"$": "a", "dt": arr.dtype.str, "sh": list(arr.shape), "v": _b64(arr.tobytes())}
            if isinstance(obj, np.generic) and type(obj).__module__ == "numpy" \
                    and obj.dtype.kind in NUMERIC_KINDS:
                return {"$": "n", "dt": obj.dtype.str, "v": _b64(obj.tobytes())}
            if isinstance(obj, np.dtype) and obj.kind in NUMERIC_KINDS and not obj.names:
                return {"$": "dt", "v": obj.str}
        if isinstance(obj, type):
            name = type_name(obj)
            if name is not None:
                return {"$": "ty", "v": name}
        if t in (list, dict, set, frozenset) and (self.handle is None or _plain(obj, depth)):
            if t is list:
                return [self.encode(v, depth + 1) for v in obj]
            if t is dict:
                return {"$": "d", "v": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                        for k, v in obj.items()]}
            return {"$": "s" if t is set else "fs", "v": [self.encode(v, depth + 1) for v in obj]}
        return self._other(obj, "")

    def _other(self, obj: Any, why: str) -> Any:
        if self.handle is None:
            what = type(obj).__name__
            raise Unsendable(f"a {what} from the test cannot be passed to student code"
                             + (f" ({why})" if why else "") + "; if the test needs it, run the "
                             "item in the kernel: in_kernel = true in its [items] table")
        return self.handle(obj)


def _plain(obj: Any, depth: int = 0, budget: list[int] | None = None) -> bool:
    """True if obj is made of plain values only (so a copy is as good as the object)."""
    budget = budget if budget is not None else [MAX_PLAIN_ITEMS]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return False
    t = type(obj)
    if obj is None or t in (bool, int, float, str, bytes, complex):
        return True
    np = _np()
    if np is not None and (t is np.ndarray and obj.dtype.kind in NUMERIC_KINDS
                           and obj.nbytes <= MAX_ARRAY_BYTES
                           or isinstance(obj, np.generic) and type(obj).__module__ == "numpy"
                           and obj.dtype.kind in NUMERIC_KINDS):
        return True
    if t in (list, tuple, set, frozenset):
        return all(_plain(v, depth + 1, budget) for v in obj)
    if t is dict:
        return all(_plain(k, depth + 1, budget) and _plain(v, depth + 1, budget)
                   for k, v in obj.items())
    return False


# -- decoding ----------------------------------------------------------------------------

def decode(data: Any, resolve: Callable[[int], Any], depth: int = 0) -> Any:
    """Rebuild a value; `resolve(id)` gives the object a handle stands for."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    t = type(data)
    if data is None or t in (bool, str, float):
        return data
    if t is int:
        return data
    if t is list:
        return [decode(v, resolve, depth + 1) for v in data]
    if t is not dict:
        raise WireError(f"unexpected JSON value of type {t.__name__}")
    tag = data.get("$")
    if tag == "h":
        ident = data.get("id")
        if type(ident) is not int:
            raise WireError("bad handle id")
        return resolve(ident)
    if tag == "t":
        return tuple(decode(v, resolve, depth + 1) for v in _list(data))
    if tag == "d":
        out = {}
        for pair in _list(data):
            if type(pair) is not list or len(pair) != 2:
                raise WireError("bad dict item")
            key = decode(pair[0], resolve, depth + 1)
            try:
                out[key] = decode(pair[1], resolve, depth + 1)
            except TypeError:
                raise WireError("unhashable dict key") from None
        return out
    if tag in ("s", "fs"):
        try:
            items = [decode(v, resolve, depth + 1) for v in _list(data)]
            return set(items) if tag == "s" else frozenset(items)
        except TypeError:
            raise WireError("unhashable set item") from None
    if tag == "b":
        return _unb64(data.get("v"))
    if tag == "c":
        v = _list(data)
        if len(v) != 2 or not all(type(x) in (int, float) for x in v):
            raise WireError("bad complex")
        return complex(v[0], v[1])
    if tag == "e":
        return Ellipsis
    if tag == "sl":
        v = _list(data)
        if len(v) != 3:
            raise WireError("bad slice")
        return slice(*(decode(x, resolve, depth + 1) for x in v))
    if tag in ("a", "n", "dt"):
        return _decode_numpy(tag, data)
    if tag == "ty":
        return resolve_type(data.get("v"))
    raise WireError(f"unknown tag {str(tag)[:20]!r}")


def _list(data: dict) -> list:
    v = data.get("v")
    if type(v) is not list:
        raise WireError("expected a list")
    return v


def _dtype(text: Any):
    np = _np()
    if np is None:
        raise WireError("numpy is not available")
    if not isinstance(text, str) or not _DTYPE.match(text):
        raise WireError("bad dtype")
    try:
        dt = np.dtype(text)
    except TypeError:
        raise WireError("bad dtype") from None
    if dt.kind not in NUMERIC_KINDS or dt.hasobject:
        raise WireError("non-numeric dtype")
    return dt


def _decode_numpy(tag: str, data: dict) -> Any:
    np = _np()
    dt = _dtype(data.get("dt") if tag != "dt" else data.get("v"))
    if tag == "dt":
        return dt
    raw = _unb64(data.get("v"))
    if tag == "n":
        if len(raw) != dt.itemsize:
            raise WireError("bad scalar size")
        return np.frombuffer(raw, dtype=dt)[0]
    shape = data.get("sh")
    if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
        raise WireError("bad shape")
    if math.prod(shape) * dt.itemsize != len(raw) or len(raw) > MAX_ARRAY_BYTES:
        raise WireError("array size does not match its shape")
    return np.frombuffer(raw, dtype=dt).reshape(shape).copy()
