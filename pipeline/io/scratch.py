"""Temporary files and folders that a killed run cannot leave behind for long.

Every temporary name carries the host and process id of the run that made it. A run that is
killed (SIGKILL) cannot clean up after itself, so the next run on the same host that writes
to the same place removes the leftovers whose process is gone. A live run's files, and any
made on another host (a shared folder), are never touched, so concurrent runs stay safe.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's live process, or a platform that cannot tell: keep
    return True


def _host() -> str:
    # A name part: letters, digits and "_" only (dots and dashes separate the parts).
    return re.sub(r"[^0-9A-Za-z]+", "_", socket.gethostname())[:40] or "host"


def _tag() -> str:
    return f"{_host()}~{os.getpid()}"


def _owner(name: str, prefix: str) -> int | None:
    """The pid in ``<prefix><host>~<pid>...`` when ``host`` is this one, else None."""
    rest = name[len(prefix) :]
    host, sep, tail = rest.partition("~")
    if not sep or host != _host():
        return None
    head = re.match(r"\d+", tail)
    return int(head.group()) if head else None


def is_orphan(path: Path, prefix: str) -> bool:
    """Whether ``path`` (named ``prefix<host>~<pid>...``) was left by a dead run on this host."""
    pid = _owner(path.name, prefix)
    return pid is not None and pid != os.getpid() and not _alive(pid)


def remove_orphans(folder: str | Path, prefix: str) -> int:
    """Remove entries of ``folder`` named ``prefix<pid>...`` whose process is gone; how many."""
    removed = 0
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return 0
    for p in entries:
        if not p.name.startswith(prefix) or not is_orphan(p, prefix):
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed += 1
    return removed


def umask() -> int:
    """The process's file-mode creation mask, read without changing it where the system
    says it (Linux), so another thread creating a file meanwhile is not affected."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def as_if_created(path: Path) -> None:
    """Give a file the mode a plain ``open(path, "w")`` would have: temporary files are made
    private (0600), and a finished output renamed from one should be readable by whoever the
    umask lets read it (a web server, an import job running as another user)."""
    os.chmod(path, 0o666 & ~umask())


def scratch_file(target: Path) -> Path:
    """An empty temporary file beside ``target`` (``.<name>.<host>~<pid>.<random>.tmp``), after
    removing the ones killed runs left there."""
    prefix = f".{target.name}."
    remove_orphans(target.parent, prefix)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{_tag()}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def scratch_dir(prefix: str, parent: str | Path | None = None) -> Path:
    """A private temporary folder (``<prefix><host>~<pid>-<random>``, in the system's temporary
    folder unless ``parent``), after removing the ones killed runs left there."""
    where = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    remove_orphans(where, prefix)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{_tag()}-", dir=where))
