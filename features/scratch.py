"""Temporary files and folders that a killed run cannot leave behind for long.

Every temporary name carries the process id of the run that made it. A run that is killed
(SIGKILL, a lost machine) cannot clean up after itself, so the next run that writes to the
same place removes the leftovers whose process is gone; a live run's files are never touched,
so concurrent runs stay safe.
"""

from __future__ import annotations

import os
import shutil
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


def _owner(name: str, prefix: str) -> int | None:
    rest = name[len(prefix) :]
    head = rest.split(".", 1)[0].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def remove_orphans(folder: str | Path, prefix: str) -> int:
    """Remove entries of ``folder`` named ``prefix<pid>...`` whose process is gone; how many."""
    removed = 0
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return 0
    for p in entries:
        if not p.name.startswith(prefix):
            continue
        pid = _owner(p.name, prefix)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed += 1
    return removed


def scratch_file(target: Path) -> Path:
    """An empty temporary file beside ``target`` (``.<name>.<pid>.<random>.tmp``), after
    removing the ones killed runs left there."""
    prefix = f".{target.name}."
    remove_orphans(target.parent, prefix)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def scratch_dir(prefix: str, parent: str | Path | None = None) -> Path:
    """A private temporary folder (``<prefix><pid>-<random>``, in the system's temporary
    folder unless ``parent``), after removing the ones killed runs left there."""
    where = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    remove_orphans(where, prefix)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=where))
