"""Handles on objects that live in the student's process.

A `Proxy` stands for one remote object. Python looks special methods up on the type,
so the class defines every operator and protocol method itself; each one asks the
kernel to perform the operation on the real object and returns plain data (rebuilt
by grader.engine.wire from validated fields) or another proxy. Results that Python
requires to be of a type (`__bool__`, `__len__`, `__hash__`, `__str__` ...) are
checked here: a lying kernel gets a TypeError, never a wrong verdict.

There is one proxy per remote object while an item runs (`Connection.proxies`), so
`a is b` compares remote identity. Nothing trusted is passed to student code: the
argument encoder refuses functions, classes and objects of the trusted side.
"""
from __future__ import annotations

import builtins
import sys
from typing import Any, Callable

from grader.engine import wire

# attribute names never fetched from the kernel: protocols through which a reply could
# make trusted code read or write raw memory, or change how it treats an object
_LOCAL_ONLY = ("__array_interface__", "__array_struct__", "__cuda_array_interface__",
               "__dlpack__", "__dlpack_device__", "__array_priority__", "__array_ufunc__",
               "__array_function__", "__array_wrap__", "__array_finalize__", "__buffer__",
               "__class__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__",
               "__get__", "__set__", "__delete__", "__set_name__", "__init_subclass__",
               "__mro_entries__", "__class_getitem__", "__getnewargs__", "__getnewargs_ex__")
_REMOTE_DUNDERS = frozenset({"__dict__", "__name__", "__qualname__", "__module__", "__doc__",
                             "__self__", "__func__", "__wrapped__", "__annotations__",
                             "__slots__", "__mro__", "__bases__", "__file__", "__version__",
                             "__all__", "__path__", "__package__"})


class RemoteError(Exception):
    """An exception of a class defined in the student's process (not a built-in)."""


_REMOTE_CLASSES: dict[str, type] = {}


def remote_error_class(base: str) -> type:
    """RemoteError that is also the built-in `base`, so `except ValueError` still works."""
    cls = _REMOTE_CLASSES.get(base)
    if cls is None:
        builtin = getattr(builtins, base, None)
        cls = RemoteError
        if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin is not Exception:
            try:
                cls = type("RemoteError", (RemoteError, builtin), {"__module__": __name__})
            except TypeError:  # incompatible layouts (e.g. OSError): plain RemoteError
                cls = RemoteError
        _REMOTE_CLASSES[base] = cls
    return cls


class RemoteInfo:
    """Where a remote exception came from (the student's cells, line by line)."""

    def __init__(self, type_name: str, message: str, frames: list, traceback: list[str]):
        self.type_name, self.message = type_name, message
        self.frames, self.traceback = frames, traceback


def exception_from(err: Any) -> BaseException:
    """The exception a reply's "err" field stands for, built on the trusted side."""
    if not isinstance(err, dict):
        return TypeError("the kernel sent a malformed error")
    type_name = str(err.get("type", "Exception"))[:100]
    base = str(err.get("base", "Exception"))[:100]
    message = str(err.get("msg", ""))[:2000]
    frames = []
    for f in err.get("frames", []) if isinstance(err.get("frames"), list) else []:
        if isinstance(f, list) and len(f) == 3 and isinstance(f[1], int):
            frames.append((str(f[0])[:200], f[1], str(f[2])[:200]))
    tb = [str(line)[:500] for line in err.get("tb", [])][:40] if isinstance(err.get("tb"), list) else []
    builtin = getattr(builtins, type_name, None)
    exc: BaseException
    if type_name == base and isinstance(builtin, type) and issubclass(builtin, BaseException):
        try:
            exc = builtin(message) if message else builtin()
        except Exception:
            exc = remote_error_class(base)(f"{type_name}: {message}")
    else:
        exc = remote_error_class(base)(f"{type_name}: {message}" if message else type_name)
    try:
        exc.__grader_remote__ = RemoteInfo(type_name, message, frames, tb)  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return exc


class Connection:
    """The driver's end of the proxy protocol for one graded item."""

    def __init__(self, request: Callable[[dict[str, Any]], dict[str, Any]],
                 write_output: Callable[[str], Any]) -> None:
        self.request = request              # sends a command, returns the checked reply
        self.write_output = write_output    # the kernel's prints during an operation
        self.proxies: dict[int, Proxy] = {}
        self.encoder = wire.Encoder(None, proxy_id=self._proxy_id)

    def _proxy_id(self, obj: Any) -> int | None:
        if type(obj) is Proxy:
            if object.__getattribute__(obj, "_px_conn") is not self:
                raise wire.Unsendable("a handle from another item cannot be used here")
            return object.__getattribute__(obj, "_px_id")
        return None

    def resolve(self, ident: int) -> "Proxy":
        proxy = self.proxies.get(ident)
        if proxy is None:
            proxy = self.proxies[ident] = Proxy(self, ident)
        return proxy

    def op(self, what: str, *args: Any) -> Any:
        encoded = self.encoder.encode(list(args))
        reply = self.request({"op": "px", "do": what, "args": encoded})
        out = reply.get("out")
        if isinstance(out, str) and out:
            self.write_output(out)
        if "err" in reply:
            raise exception_from(reply["err"])
        try:
            return wire.decode(reply.get("v"), self.resolve)
        except wire.WireError as exc:
            raise TypeError(f"the kernel sent a value that is not plain data ({exc})") from None


def _op(proxy: "Proxy", what: str, *args: Any) -> Any:
    return object.__getattribute__(proxy, "_px_conn").op(what, *args)


def _typed(value: Any, types: tuple[type, ...], what: str) -> Any:
    if type(value) not in types:
        raise TypeError(f"{what} returned {type(value).__name__}, not {types[0].__name__}")
    return value


class Proxy:
    """A handle on an object in the student's process."""

    __slots__ = ("_px_conn", "_px_id", "__weakref__")

    def __init__(self, conn: Connection, ident: int) -> None:
        object.__setattr__(self, "_px_conn", conn)
        object.__setattr__(self, "_px_id", ident)

    # attributes
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_px_") or name in _LOCAL_ONLY or (
                name.startswith("__") and name.endswith("__") and name not in _REMOTE_DUNDERS):
            raise AttributeError(name)
        return _op(self, "getattr", self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        _op(self, "setattr", self, name, value)

    def __delattr__(self, name: str) -> None:
        _op(self, "delattr", self, name)

    def __dir__(self) -> list[str]:
        names = _op(self, "dir", self)
        if not isinstance(names, list) or not all(type(n) is str for n in names):
            raise TypeError("__dir__ did not return a list of strings")
        return names

    # calls and containers
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _op(self, "call", self, args, kwargs)

    def __getitem__(self, key: Any) -> Any:
        return _op(self, "getitem", self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        _op(self, "setitem", self, key, value)

    def __delitem__(self, key: Any) -> None:
        _op(self, "delitem", self, key)

    def __contains__(self, item: Any) -> bool:
        return _typed(_op(self, "contains", self, item), (bool,), "__contains__")

    def __len__(self) -> int:
        n = _typed(_op(self, "len", self), (int, bool), "__len__")
        if n < 0 or n > sys.maxsize:
            raise ValueError("__len__() should return >= 0")
        return n

    def __length_hint__(self) -> int:
        return 0

    def __iter__(self) -> Any:
        return _op(self, "iter", self)

    def __next__(self) -> Any:
        return _op(self, "next", self)

    def __reversed__(self) -> Any:
        return _op(self, "reversed", self)

    # truth, hashing, text
    def __bool__(self) -> bool:
        return _typed(_op(self, "bool", self), (bool,), "__bool__")

    def __hash__(self) -> int:
        return _typed(_op(self, "hash", self), (int,), "__hash__")

    def __str__(self) -> str:
        return _typed(_op(self, "str", self), (str,), "__str__")

    def __repr__(self) -> str:
        return _typed(_op(self, "repr", self), (str,), "__repr__")

    def __format__(self, spec: str) -> str:
        return _typed(_op(self, "format", self, spec), (str,), "__format__")

    def __bytes__(self) -> bytes:
        return _typed(_op(self, "call", self._px_builtin("bytes"), (self,), {}), (bytes,),
                      "__bytes__")

    def _px_builtin(self, name: str) -> Any:
        return getattr(builtins, name)

    # numbers
    def __int__(self) -> int:
        return _typed(_op(self, "int", self), (int,), "__int__")

    def __float__(self) -> float:
        return _typed(_op(self, "float", self), (float,), "__float__")

    def __complex__(self) -> complex:
        return _typed(_op(self, "complex", self), (complex,), "__complex__")

    def __index__(self) -> int:
        return _typed(_op(self, "index", self), (int,), "__index__")

    def __round__(self, ndigits: Any = None) -> Any:
        return _op(self, "round", self) if ndigits is None else _op(self, "round", self, ndigits)

    def __trunc__(self) -> Any:
        return _op(self, "trunc", self)

    def __floor__(self) -> Any:
        return _op(self, "floor", self)

    def __ceil__(self) -> Any:
        return _op(self, "ceil", self)

    def __neg__(self) -> Any:
        return _op(self, "neg", self)

    def __pos__(self) -> Any:
        return _op(self, "pos", self)

    def __abs__(self) -> Any:
        return _op(self, "abs", self)

    def __invert__(self) -> Any:
        return _op(self, "invert", self)

    def __divmod__(self, other: Any) -> Any:
        return _op(self, "divmod", self, other)

    def __rdivmod__(self, other: Any) -> Any:
        return _op(self, "divmod", other, self)

    def __pow__(self, other: Any, modulo: Any = None) -> Any:
        if modulo is not None:
            raise TypeError("pow() with a modulus is not supported on objects of the student's process")
        return _op(self, "pow", self, other)

    # context managers, numpy, isinstance
    def __enter__(self) -> Any:
        return _op(self, "enter", self)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        if exc_type is None:
            result = _op(self, "exit", self, None, None)
        else:
            name = exc_type.__name__ if getattr(builtins, exc_type.__name__, None) is exc_type \
                else "Exception"
            result = _op(self, "exit", self, name, str(exc))
        return result if type(result) is bool else bool(result)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        import numpy
        value = _op(self, "array", self)
        if type(value) is not numpy.ndarray:
            raise TypeError("__array__ did not return a numeric array")
        return value if dtype is None else value.astype(dtype)

    def __instancecheck__(self, instance: Any) -> bool:
        try:
            object.__getattribute__(self, "_px_conn").encoder.encode(instance)
        except (wire.Unsendable, TypeError):
            return False   # a trusted object is never an instance of a student class
        return _typed(_op(self, "isinstance", instance, self), (bool,), "__instancecheck__")

    def __subclasscheck__(self, cls: Any) -> bool:
        try:
            object.__getattribute__(self, "_px_conn").encoder.encode(cls)
        except (wire.Unsendable, TypeError):
            return False
        return _typed(_op(self, "issubclass", cls, self), (bool,), "__subclasscheck__")

    def __copy__(self) -> Any:
        return _op(self, "copy", self)

    def __deepcopy__(self, memo: Any) -> Any:
        return _op(self, "deepcopy", self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("an object of the student's process cannot be pickled by the test")


def _binary(name: str, remote: str, reflected: bool) -> Callable[..., Any]:
    if reflected:
        def method(self: Proxy, other: Any) -> Any:
            return _op(self, remote, other, self)
    else:
        def method(self: Proxy, other: Any) -> Any:
            return _op(self, remote, self, other)
    method.__name__ = name
    return method


for _remote in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "lshift", "rshift",
                "and", "or", "xor"):
    setattr(Proxy, f"__{_remote}__", _binary(f"__{_remote}__", _remote, False))
    setattr(Proxy, f"__r{_remote}__", _binary(f"__r{_remote}__", _remote, True))
    setattr(Proxy, f"__i{_remote}__", _binary(f"__i{_remote}__", "i" + _remote, False))
Proxy.__rpow__ = _binary("__rpow__", "pow", True)  # type: ignore[attr-defined]
Proxy.__ipow__ = _binary("__ipow__", "ipow", False)  # type: ignore[attr-defined]
for _remote in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(Proxy, f"__{_remote}__", _binary(f"__{_remote}__", _remote, False))
