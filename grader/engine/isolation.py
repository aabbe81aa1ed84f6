"""Linux isolation primitives: namespaces, the allow-listed root, uid, rlimits.

(Used by grader.engine.child; cgroups live in grader.engine.cgroups.)

Everything here runs in forked children of the zygote, before student code. Python
3.11 has no os.unshare / mount, so they are called through ctypes.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NS_FLAGS = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
MNT_DETACH = 2
# statvfs f_flag bits that a remount inside a user namespace must keep (they are locked)
_ST_TO_MS = {1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME,
             2048: MS_NODIRATIME, 4096: MS_RELATIME}

PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER, PR_CAPBSET_DROP = 1, 38, 36, 24
PR_SET_DUMPABLE = 4
PR_SET_NAME = 15
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41}.get(platform.machine())
SYS_CAPSET = {"x86_64": 126, "aarch64": 91, "riscv64": 91}.get(platform.machine())

SANDBOX_UID = SANDBOX_GID = 65534  # nobody / nogroup
SANDBOX_CWD = "/job"
FSIZE_LIMIT = 256 << 20
NPROC_LIMIT = 512

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(_b(src), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def umount2(target: str, flags: int) -> None:
    _check(_libc.umount2(_b(target), flags), f"umount {target}")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl {option}")


def set_process_name(name: str) -> None:
    """What `ps`, `top` and perf show for this process (15 bytes at most): the engine's
    processes say their role (grader-zygote, grader-super, grader-spare, grader-kernel)."""
    raw = ctypes.create_string_buffer(name.encode()[:15])
    _libc.prctl(PR_SET_NAME, ctypes.addressof(raw), 0, 0, 0)


def set_subreaper() -> None:
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def set_not_dumpable() -> None:
    """No ptrace, /proc/PID/mem or core dump of this process by an unprivileged peer."""
    prctl(PR_SET_DUMPABLE, 0)


def set_parent_death_signal(sig: int = signal.SIGKILL) -> None:
    prctl(PR_SET_PDEATHSIG, sig)


def pivot_root(new_root: str, put_old: str) -> None:
    if SYS_PIVOT_ROOT is None:
        raise OSError("pivot_root: unknown syscall number on this architecture")
    _check(_libc.syscall(SYS_PIVOT_ROOT, _b(new_root), _b(put_old)), "pivot_root")


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)), "sethostname")


def write_id_maps(uid: int, gid: int) -> None:
    """Map uid/gid 0 in a fresh user namespace to the caller's ids (single-id map)."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def enter_namespaces(userns: bool, pid: bool = True) -> None:
    """Called in a sandbox child: new mount, network, IPC and UTS namespaces (and user,
    for `userns`) for itself, and with `pid` a new PID namespace whose PID 1 is the next
    child it forks. Without `pid` the caller is PID 1 of one already (NewPidNamespace)."""
    flags = NS_FLAGS if pid else NS_FLAGS & ~CLONE_NEWPID
    if userns:
        uid, gid = os.getuid(), os.getgid()
        unshare(CLONE_NEWUSER | flags)
        write_id_maps(uid, gid)
    else:
        unshare(flags)


class NewPidNamespace:
    """`with NewPidNamespace(): pid = os.fork()` makes the child PID 1 of a new PID
    namespace, and only that child: the caller's later children are in its own again.
    (Root only; a forked child never leaves the block, it ends with os._exit.)"""

    _own: int | None = None      # the caller's own PID namespace, opened once

    def __enter__(self) -> None:
        if NewPidNamespace._own is None:
            NewPidNamespace._own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        unshare(CLONE_NEWPID)

    def __exit__(self, *exc: Any) -> None:
        assert NewPidNamespace._own is not None
        setns(NewPidNamespace._own, CLONE_NEWPID)


def probe(mode: str) -> str | None:
    """None if `mode` works here (tried in a throwaway child), else the reason."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            enter_namespaces(userns=(mode == "userns"))
            g = os.fork()
            if g == 0:
                mount(None, "/", None, MS_REC | MS_PRIVATE)
                os._exit(0)
            _, status = os.waitpid(g, 0)
            os._exit(0 if status == 0 else 1)
        except BaseException as exc:
            try:
                os.write(w, str(exc).encode()[:500])
            finally:
                os._exit(1)
    os.close(w)
    msg = os.read(r, 1000).decode(errors="replace")
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return None if status == 0 else (msg or f"probe exited with status {status}")


# -- the allow-listed file system ----------------------------------------------------

@dataclass
class RootSpec:
    """What the sandbox may see. Built once in the zygote, used in every child."""

    read_only: list[str] = field(default_factory=list)  # host paths bound at the same path
    symlinks: list[tuple[str, str]] = field(default_factory=list)  # (path, target)
    masks: list[str] = field(default_factory=list)  # paths inside read_only hidden by empty tmpfs
    devices: tuple[str, ...] = ("null", "zero", "full", "random", "urandom")


_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
              "localtime", "hosts", "alternatives", "mime.types")
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")


def _inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def build_root_spec(framework_path: str | None, hide: list[str]) -> RootSpec:
    spec = RootSpec()
    wanted = [sys.base_prefix, sys.prefix, *(_SYSTEM_DIRS), *(f"/etc/{n}" for n in _ETC_FILES)]
    if framework_path:
        wanted.append(framework_path)
    seen: set[str] = set()
    for p in wanted:
        if not os.path.lexists(p):
            continue
        if os.path.islink(p) and os.path.dirname(p) in ("/", "/etc"):
            spec.symlinks.append((p, os.readlink(p)))  # e.g. /bin -> usr/bin (merged /usr)
            p = os.path.realpath(p)
        real = os.path.abspath(p)
        for cand in {real, os.path.realpath(real)}:
            if cand not in seen and os.path.exists(cand):
                seen.add(cand)
                spec.read_only.append(cand)
    # drop paths already covered by an allowed ancestor
    spec.read_only = sorted(p for p in spec.read_only
                            if not any(q != p and _inside(p, q) for q in spec.read_only))
    for h in hide:
        h = os.path.realpath(h)
        if any(_inside(h, q) and h != q for q in spec.read_only):
            spec.masks.append(h)
    return spec


def _bind_readonly(src: str, dst: str) -> None:
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst):
            open(dst, "a").close()
    mount(src, dst, None, MS_BIND | MS_REC)
    keep = 0
    try:
        fl = os.statvfs(src).f_flag
        keep = sum(ms for st, ms in _ST_TO_MS.items() if fl & st)
    except OSError:
        pass
    mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | keep)


def setup_root(spec: RootSpec, new_root: str, workdir: str | None, *, disk_mb: int = 256,
               tmp_size_mb: int = 256, owner: tuple[int, int] | None = None,
               overlay: bool = False) -> None:
    """In the new mount+pid namespace (as PID 1): build the root from the allow-list and
    pivot into it. SANDBOX_CWD is a tmpfs of `disk_mb` holding a copy of `workdir` (its
    pages count in the sandbox's memory cgroup; nothing of it lands on the host's disk)."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    R = new_root.rstrip("/")
    # /tmp first: allowed paths may live under /tmp (a clone in /tmp, a test's course)
    # and their binds must land on top of the sandbox's tmpfs, not under it.
    os.makedirs(R + "/tmp", exist_ok=True)
    mount("tmpfs", R + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_size_mb}m,mode=1777")
    ops: list[tuple[str, str]] = [(p, "bind") for p in spec.read_only] + [(m, "mask") for m in spec.masks]
    ops.sort(key=lambda op: (op[0].count("/"), op[1] == "bind"))
    for path, kind in ops:
        if kind == "bind":
            _bind_readonly(path, R + path)
        else:
            if os.path.isdir(path):
                os.makedirs(R + path, exist_ok=True)
                mount("tmpfs", R + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      "size=4k,mode=755")
            else:
                mount("/dev/null", R + path, None, MS_BIND)
    for path, target in spec.symlinks:
        if not os.path.lexists(R + path):
            os.makedirs(os.path.dirname(R + path), exist_ok=True)
            os.symlink(target, R + path)
    # /dev: a few harmless device nodes, shm, the fd links
    os.makedirs(R + "/dev", exist_ok=True)
    mount("tmpfs", R + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=755")
    for dev in spec.devices:
        if os.path.exists(f"/dev/{dev}"):
            open(f"{R}/dev/{dev}", "a").close()
            mount(f"/dev/{dev}", f"{R}/dev/{dev}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{R}/dev/{name}")
    os.makedirs(R + "/dev/shm")
    mount("tmpfs", R + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    os.makedirs(R + "/proc", exist_ok=True)
    mount("proc", R + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(R + SANDBOX_CWD, exist_ok=True)
    if not (overlay and workdir is not None and _overlay(workdir, R, disk_mb, owner)):
        mount("tmpfs", R + SANDBOX_CWD, "tmpfs", MS_NOSUID | MS_NODEV, f"size={disk_mb}m,mode=755")
        if owner:
            os.lchown(R + SANDBOX_CWD, *owner)
        if workdir is not None:
            copy_tree(workdir, R + SANDBOX_CWD, owner)
    mount(None, R, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    os.chdir(R)
    pivot_root(".", ".")
    umount2(".", MNT_DETACH)  # the old root, stacked under the new one, goes away
    os.chdir(SANDBOX_CWD)


def _overlay(workdir: str, R: str, disk_mb: int, owner: tuple[int, int] | None) -> bool:
    """SANDBOX_CWD as an overlay: `workdir` read-only below, the sandbox's writes in a
    tmpfs of `disk_mb` above. False (and nothing mounted) where overlayfs refuses, e.g.
    an old kernel in a user namespace, or a path overlayfs cannot name."""
    if any(c in workdir for c in ",:\\") or not os.path.isdir(workdir):
        return False
    layer = R + "/.layer"
    os.makedirs(layer, exist_ok=True)
    mount("tmpfs", layer, "tmpfs", MS_NOSUID | MS_NODEV, f"size={disk_mb}m,mode=700")
    upper, work = layer + "/upper", layer + "/work"
    os.makedirs(upper)
    os.makedirs(work)
    if owner:
        os.lchown(upper, *owner)
    try:
        mount("overlay", R + SANDBOX_CWD, "overlay", MS_NOSUID | MS_NODEV,
              f"lowerdir={workdir},upperdir={upper},workdir={work}")
    except OSError:
        umount2(layer, MNT_DETACH)
        return False
    return True


def copy_tree(src: str, dst: str, owner: tuple[int, int] | None = None) -> None:
    """Copy a submission folder (files, folders, symlinks as links) into dst, owned by
    `owner` (uid, gid) when given. Special files are skipped."""
    import shutil
    import stat
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        target = dst if rel == "." else os.path.join(dst, rel)
        if rel != ".":
            os.makedirs(target, exist_ok=True)
        if owner:
            os.lchown(target, *owner)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path, out = os.path.join(dirpath, name), os.path.join(target, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                os.symlink(os.readlink(path), out)
            elif stat.S_ISREG(mode):
                try:
                    shutil.copyfile(path, out)
                except OSError as exc:   # larger than the working folder: left out
                    if exc.errno != errno.ENOSPC:
                        raise
                    os.unlink(out)
                    continue
                os.chmod(out, 0o644)
            else:
                continue
            if owner:
                os.lchown(out, *owner)


def drop_privileges(mode: str) -> None:
    """namespaces: become nobody; userns: drop every capability inside the user ns."""
    if mode == "namespaces":
        os.setgroups([])
        os.setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID)
        os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    elif mode == "userns":
        for cap in range(64):
            if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                break
        if SYS_CAPSET is not None:
            header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
            data = (ctypes.c_uint32 * 6)()
            _libc.syscall(SYS_CAPSET, header, data)
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def apply_rlimits(memory_mb: int, mode: str, *, pids_cgroup: bool) -> None:
    mem = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))
    if mode == "namespaces" and not pids_cgroup:
        # RLIMIT_NPROC counts every process of the sandbox uid, so sandboxes running at
        # the same time share it: only a fallback for machines without a pids cgroup.
        resource.setrlimit(resource.RLIMIT_NPROC, (NPROC_LIMIT, NPROC_LIMIT))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file is an OSError, not a kill


_KEEP_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")


def sandbox_environ(home: str, tmp: str, ipython_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV}
    path = [os.path.join(sys.prefix, "bin"), "/usr/local/bin", "/usr/bin", "/bin"]
    env.update({
        "PATH": ":".join(dict.fromkeys(path)), "HOME": home, "TMPDIR": tmp, "SHELL": "/bin/sh",
        "TERM": "dumb", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "IPYTHONDIR": ipython_dir, "PYTHONNOUSERSITE": "1",
        # a notebook's own `grader.check()` / `!grader check` does nothing while it is
        # being graded or checked (grader.notebook): no recursion, in any sandbox
        "GRADER_SELF_CHECK": "1",
    })
    return env


def alive(pid: int) -> bool:
    """Whether process `pid` exists (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def owned_entries(folder: str, pattern: Any) -> list[tuple[str, int]]:
    """(name, pid) of the entries of `folder` named by `pattern` (a compiled regex whose
    group 1 is the pid of the process that made them): what to clean up after the dead."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [(name, int(found.group(1))) for name in names if (found := pattern.match(name))]


def descendants(root_pid: int) -> list[int]:
    """Every live process below root_pid (deepest last is not guaranteed). Read from each
    thread's /proc/PID/task/TID/children: a look at the processes below, where scanning
    all of /proc costs three system calls for every process on the machine; the scan
    where the kernel lacks that file (CONFIG_PROC_CHILDREN)."""
    if not _HAS_CHILDREN_FILES:
        return _descendants_by_scan(root_pid)
    out: list[int] = []
    todo = _children(root_pid)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(_children(pid))
    return out


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:   # gone
        return found
    for tid in tasks:
        try:
            fd = os.open(f"/proc/{pid}/task/{tid}/children", os.O_RDONLY | os.O_CLOEXEC)
            try:
                text = b""
                while chunk := os.read(fd, 65536):
                    text += chunk
            finally:
                os.close(fd)
        except OSError:   # the thread ended
            continue
        found.extend(int(p) for p in text.split())
    return found


def _descendants_by_scan(root_pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:   # os.open: three system calls a process where open() takes seven
            fd = os.open(f"/proc/{entry}/stat", os.O_RDONLY | os.O_CLOEXEC)
            try:
                stat = os.read(fd, 4096)
            finally:
                os.close(fd)
            ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out: list[int] = []
    todo = list(children.get(root_pid, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


_HAS_CHILDREN_FILES = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
