"""Fence in the process that runs the student's code; loaded by driver.py.

Like the driver, this file imports only the standard library and never the
grader. ``enter`` runs before the student's module is imported:

- resource limits: address space, CPU time, file size, no core files, and,
  for a user other than root, a cap on the user's processes;
- the network: a new network namespace with no interface up, where the
  kernel allows it (root, or where unprivileged user namespaces are on). In
  every case, an audit hook rejects sockets and name lookups with a clear error;
- an audit hook that rejects writes outside the working directory and the
  group's home, starting other programs, and signals to processes outside the
  group's session, with checked versions of the few calls that raise no
  audit event;
- no Linux capabilities, so that even root cannot raise its limits again;
- Landlock, where the kernel has it, which enforces the same rules on files,
  programs, TCP and signals for native code too.

The audit hooks stop what Python code requests, not what native code does:
C extensions and ctypes pass them. Landlock, the grader's file hashes, its
watch of the session and the kernel's limits cover that ground;
docs/security.md lists what is left.
"""

from __future__ import annotations

import ctypes
import os
import socket
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
# From <linux/landlock.h> and <asm/unistd.h> (the same numbers on every
# architecture).
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
ACCESS_FS_EXECUTE = 1 << 0
ACCESS_FS_WRITE_FILE = 1 << 1
# Remove a folder or file; make a character device, folder, regular file,
# socket, FIFO, block device or symbolic link.
ACCESS_FS_WRITES = ACCESS_FS_WRITE_FILE | sum(1 << bit for bit in range(4, 13))
ACCESS_FS_REFER = 1 << 13
ACCESS_FS_TRUNCATE = 1 << 14
ACCESS_NET_BIND_TCP = 1 << 0
ACCESS_NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1
# From <linux/prctl.h> and <linux/capability.h>.
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
# Above CAP_LAST_CAP (40 on the CI machine's kernel); dropping an unknown one fails.
CAPABILITY_COUNT = 64
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# The CPU time between the soft limit's SIGXCPU and the hard limit's SIGKILL.
CPU_GRACE_S = 5
DEVICES = ("/dev/null",)
# Modules whose functions close_unaudited_calls replaces.
REPLACED_MODULES = frozenset({"_posixsubprocess", "posix"})

NETWORK_OFF = (
    "Network access is off while grading ({action}). The grader hands "
    "keras.datasets.mnist.load_data() its own copy of MNIST, so the script "
    "needs no download; remove other network calls."
)
WRITE_OFF = (
    "Writing outside the working directory is off while grading ({action} {path}). "
    "Write logs under logs/ with relative paths."
)
PROGRAMS_OFF = (
    "Starting other programs is off while grading ({command}). "
    "The exercise needs only Python, TensorFlow and Keras."
)
SIGNALS_OFF = (
    "Sending signals to processes this task did not start is off while grading "
    "(os.{call} to {target})."
)


class Fence:
    """An audit hook that checks each audited event of the student's process."""

    def __init__(self, writable: list[str]) -> None:
        self.writable = [os.path.realpath(path) for path in writable]
        self.session = os.getsid(0)
        self.handlers = {
            "open": self.on_open,
            "os.remove": lambda args: self.check_path("remove", args[0], args[1]),
            "os.rmdir": lambda args: self.check_path("rmdir", args[0], args[1]),
            "os.mkdir": lambda args: self.check_path("mkdir", args[0], args[2]),
            "os.rename": self.on_rename,
            "os.link": self.on_link,
            "os.symlink": lambda args: self.check_path("symlink", args[1], args[2]),
            "os.truncate": lambda args: self.check_path("truncate", args[0], None),
            "os.chmod": lambda args: self.check_path("chmod", args[0], args[2]),
            "os.chown": lambda args: self.check_path("chown", args[0], args[3]),
            "os.utime": lambda args: self.check_path("utime", args[0], args[3]),
            "shutil.rmtree": lambda args: self.check_path("rmtree", args[0], None),
            "os.setxattr": lambda args: self.check_path("setxattr", args[0], None),
            "os.removexattr": lambda args: self.check_path(
                "removexattr", args[0], None
            ),
            "sqlite3.connect": self.on_database,
            "socket.__new__": self.on_socket,
            "socket.connect": lambda args: self.reject_network("socket.connect"),
            "socket.bind": lambda args: self.reject_network("socket.bind"),
            "socket.sendto": lambda args: self.reject_network("socket.sendto"),
            "socket.getaddrinfo": lambda args: self.reject_network(
                f"a lookup of {args[0]!r}"
            ),
            "socket.gethostbyname": lambda args: self.reject_network(
                f"a lookup of {args[0]!r}"
            ),
            "subprocess.Popen": lambda args: self.reject_program(args[1]),
            "os.system": lambda args: self.reject_program(args[0]),
            "os.exec": lambda args: self.reject_program(args[1]),
            "os.posix_spawn": lambda args: self.reject_program(args[1]),
            "os.spawn": lambda args: self.reject_program(args[2]),
            "import": self.on_import,
            "os.kill": lambda args: self.check_signal("kill", args[0]),
            "os.killpg": lambda args: self.check_signal("killpg", -args[0]),
        }

    def __call__(self, event: str, args: tuple) -> None:
        handler = self.handlers.get(event)
        if handler is not None:
            handler(args)

    def on_open(self, args: tuple) -> None:
        path, mode, flags = args
        writing = bool((flags or 0) & WRITE_FLAGS) or (
            isinstance(mode, str) and any(letter in mode for letter in "wax+")
        )
        if writing:
            self.check_path("open for writing", path, None)

    def on_database(self, args: tuple) -> None:
        database = os.fsdecode(os.fspath(args[0]))
        if database in ("", ":memory:"):
            return
        path = database.removeprefix("file:").split("?")[0]
        self.check_path("sqlite3.connect", path, None)

    def on_import(self, args: tuple) -> None:
        if args[0] in REPLACED_MODULES:
            self.reject_program(f"a new import of {args[0]}")

    def on_link(self, args: tuple) -> None:
        # A hard link to an outside file would let it be written from inside.
        self.check_path("link", args[0], args[2])
        self.check_path("link", args[1], args[3])

    def on_rename(self, args: tuple) -> None:
        self.check_path("rename", args[0], args[2])
        self.check_path("rename", args[1], args[3])

    def check_path(self, action: str, path: object, dir_fd: object) -> None:
        if isinstance(path, int) or path is None:  # an open file descriptor
            return
        name = os.fsdecode(os.fspath(path))
        if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(name):
            name = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), name)
        resolved = os.path.realpath(name)
        if resolved in DEVICES or any(
            resolved == root or resolved.startswith(root + os.sep)
            for root in self.writable
        ):
            return
        raise PermissionError(WRITE_OFF.format(action=action, path=name))

    def on_socket(self, args: tuple) -> None:
        family = args[1]
        if family != getattr(socket, "AF_UNIX", None):
            self.reject_network("opening a network socket")

    def reject_network(self, action: str) -> None:
        raise PermissionError(NETWORK_OFF.format(action=action))

    def reject_program(self, command: object) -> None:
        if isinstance(command, (list, tuple)):
            command = " ".join(map(str, command))
        raise PermissionError(PROGRAMS_OFF.format(command=str(command)[:200]))

    def check_signal(self, call: str, target: int) -> None:
        """Allow a signal into this session; a ``target`` below 0 is a group."""
        if target == 0 or target == os.getpid():
            return
        try:
            inside = target != -1 and os.getsid(abs(target)) == self.session
        except OSError:  # no such process: the call fails on its own
            return
        if not inside:
            raise PermissionError(SIGNALS_OFF.format(call=call, target=target))


def apply_limits(limits: dict) -> None:
    """Set the kernel's resource limits on this process and the ones it starts."""
    try:
        import resource
    except ImportError:  # not on this platform; the wall clock still holds
        return
    memory = int(limits["memory_bytes"])
    file_size = int(limits["file_bytes"])
    cpu = max(1, int(limits["cpu_s"]))
    requested = [
        ("RLIMIT_AS", memory, memory),
        ("RLIMIT_FSIZE", file_size, file_size),
        ("RLIMIT_CPU", cpu, cpu + CPU_GRACE_S),
        ("RLIMIT_CORE", 0, 0),
    ]
    # The headroom is counted from /proc, so the cap is set only where it exists.
    if os.geteuid() != 0 and os.path.isdir("/proc"):
        allowed = user_tasks() + int(limits["nproc_headroom"])
        requested.append(("RLIMIT_NPROC", allowed, allowed))
    for name, soft, hard in requested:
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (AttributeError, ValueError, OSError):
            # NOTE: untested off Linux. A platform that lacks a limit or
            # rejects its value keeps the watch loop and the wall clock.
            continue


def user_tasks() -> int:
    """Return how many threads this user runs, which is what RLIMIT_NPROC counts."""
    uid = os.getuid()
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                total += len(os.listdir(f"/proc/{entry}/task"))
        except OSError:  # the process ended while we read
            continue
    return total


def leave_network() -> str:
    """Move this process into a network namespace of its own; return how it went."""
    if not sys.platform.startswith("linux"):
        return "unavailable"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) == 0:
        return "namespace"
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        return "unavailable"
    # Keep the user's own ids inside the namespace, so files keep their owner.
    try:
        with open("/proc/self/setgroups", "w") as stream:
            stream.write("deny")
        with open("/proc/self/uid_map", "w") as stream:
            stream.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as stream:
            stream.write(f"{gid} {gid} 1")
    except OSError:
        pass
    return "user namespace"


def close_unaudited_calls(fence: Fence) -> None:
    """Replace the calls that start programs or make files without an audit event.

    In CPython 3.11, _posixsubprocess.fork_exec (behind subprocess and the
    "spawn" start method of multiprocessing) raises no event of its own, the
    "open" event of os.open does not carry dir_fd, and os.mknod and os.mkfifo
    raise none. Importing _posixsubprocess or posix anew is rejected by the
    fence, so the originals cannot be loaded again by import.
    """
    import _posixsubprocess
    import posix

    def fork_exec(*args, **kwargs):
        fence.reject_program(args[0] if args else "")

    _posixsubprocess.fork_exec = fork_exec
    for module in (os, posix):
        module.open = checked_open(posix.open, fence)
        for name in ("mknod", "mkfifo"):
            if hasattr(posix, name):
                setattr(module, name, checked_maker(name, getattr(posix, name), fence))


def checked_open(original, fence: Fence):
    def open(path, flags, mode=0o777, *, dir_fd=None):  # noqa: A001
        if flags & WRITE_FLAGS:
            fence.check_path("open for writing", path, dir_fd)
        return original(path, flags, mode, dir_fd=dir_fd)

    return open


def checked_maker(name: str, original, fence: Fence):
    def make(path, *args, dir_fd=None, **kwargs):
        fence.check_path(name, path, dir_fd)
        return original(path, *args, dir_fd=dir_fd, **kwargs)

    return make


class CapabilityHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapabilitySet(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> bool:
    """Give up every Linux capability, for good; return whether it worked.

    Root keeps its user id, so it still owns its files, but can no longer
    raise its hard limits, rejoin the network, set files immutable, or act
    on other users' processes. A program it starts gains nothing back.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for capability in range(CAPABILITY_COUNT):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
    header = CapabilityHeader(LINUX_CAPABILITY_VERSION_3, 0)
    empty = (CapabilitySet * 2)()
    return libc.capset(ctypes.byref(header), empty) == 0


class RulesetAttributes(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class PathBeneathAttributes(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_rights(abi: int) -> tuple[int, int, int]:
    """Return the file, network and scope rights that Landlock ABI ``abi`` handles."""
    files = ACCESS_FS_EXECUTE | ACCESS_FS_WRITES
    if abi >= 2:
        files |= ACCESS_FS_REFER
    if abi >= 3:
        files |= ACCESS_FS_TRUNCATE
    network = ACCESS_NET_BIND_TCP | ACCESS_NET_CONNECT_TCP if abi >= 4 else 0
    scopes = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    return files, network, scopes


def restrict_with_landlock(writable: list[str]) -> int:
    """Let the kernel enforce the fence's rules; return the Landlock ABI, 0 if none.

    No program can be started, files can be changed only under ``writable``
    and /dev/null, and (from ABI 4 and 6) TCP and signals to processes outside
    this one and its children are denied. Unlike the audit hook, this holds
    for native code too. It needs Linux 5.13 with Landlock on, and
    no_new_privs, which drop_capabilities sets.
    """
    if not sys.platform.startswith("linux"):
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(
        SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
        ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION),
    )  # fmt: skip
    if abi <= 0:
        return 0
    files, network, scopes = landlock_rights(abi)
    attributes = RulesetAttributes(files, network, scopes)
    size = 8 * (1 + (abi >= 4) + (abi >= 6))
    ruleset = libc.syscall(
        SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attributes),
        ctypes.c_size_t(size), ctypes.c_uint32(0),
    )  # fmt: skip
    if ruleset < 0:
        return 0
    rules = [(root, files & ~ACCESS_FS_EXECUTE) for root in writable]
    rules += [(device, ACCESS_FS_WRITE_FILE) for device in DEVICES]
    try:
        if not all(add_landlock_rule(libc, ruleset, *rule) for rule in rules):
            return 0
        if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), 0) != 0:
            return 0
    finally:
        os.close(ruleset)
    return abi


def add_landlock_rule(libc, ruleset: int, path: str, allowed: int) -> bool:
    """Allow ``allowed`` rights beneath ``path``; return whether the kernel took it."""
    descriptor = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = PathBeneathAttributes(allowed, descriptor)
        return libc.syscall(
            SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset),
            ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
            ctypes.c_uint32(0),
        ) == 0  # fmt: skip
    finally:
        os.close(descriptor)


def enter(limits: dict, writable: list[str]) -> dict:
    """Fence in this process; return the network's state and Landlock's ABI."""
    network = leave_network()
    apply_limits(limits)
    drop_capabilities()
    landlock = restrict_with_landlock(writable)
    fence = Fence(writable)
    close_unaudited_calls(fence)
    sys.addaudithook(fence)
    return {"network": network, "landlock_abi": landlock}
