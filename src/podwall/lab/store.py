"""Where a lab keeps its state, and why it trusts only what its own user wrote.

The lab runs as root and `PODWALL_LAB_STATE` may point anywhere. A state directory or file that
another user owns, or that others may write, could have been planted or changed under us: its
server PIDs would be killed, its names handed to `ip`, its snapshot trusted as what the kernel
enforces. So every directory on the way in (the root and the lab's own) and every file read must
be a real directory or file (no symlink), owned by the invoking user, and not writable by group
or others; anything else is refused with a clear message (exit 2), and nothing is read from it.
Files are data (JSON), written whole to a temporary file and renamed, so a crash never leaves a
torn file behind a valid name.

One lock per lab (`flock` on `<state dir>/lock`) serialises every change. A teardown removes the
directory, lock file included, while holding the lock; a process that was waiting then holds a
lock on a file nobody else can see, so `locked` re-checks that the path still names the file it
locked, and starts over when it does not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from podwall.errors import DataplaneError

LOCK = "lock"


class UnsafeStateError(DataplaneError):
    """A state directory or file that someone other than the invoking user could have written."""


def check_owned(path: Path, st: os.stat_result, *, directory: bool) -> None:
    """Refuse `path` (already lstat'ed/fstat'ed as `st`) unless it is ours and only ours."""
    kind = "directory" if directory else "file"
    problem = None
    if stat.S_ISLNK(st.st_mode):
        problem = "is a symbolic link"
    elif directory != stat.S_ISDIR(st.st_mode) or (not directory and not stat.S_ISREG(st.st_mode)):
        problem = f"is not a {kind}"
    elif st.st_uid != os.geteuid():
        problem = f"is owned by uid {st.st_uid}, not by you (uid {os.geteuid()})"
    elif st.st_mode & 0o022:
        problem = f"is writable by others (mode {stat.S_IMODE(st.st_mode):o})"
    if problem:
        raise UnsafeStateError(
            f"refusing lab state {kind} {path}: it {problem}; podwall runs as root and would "
            "trust what is there. Use a directory only you can write (PODWALL_LAB_STATE=DIR)")


class Store:
    """The state directory of one lab: `<root>/<lab>/`."""

    def __init__(self, root: Path, lab: str) -> None:
        self.root = root
        self.directory = root / lab
        self.lab = lab

    def _check_dir(self, path: Path) -> bool:
        """Whether `path` exists (refusing it when it is not safe)."""
        try:
            st = path.lstat()
        except FileNotFoundError:
            return False
        check_owned(path, st, directory=True)
        return True

    def exists(self) -> bool:
        return self._check_dir(self.root) and self._check_dir(self.directory)

    def ensure(self) -> None:
        """Create the directories (only we may enter or write them), checking those that exist."""
        with self.errors():
            for path in (self.root, self.directory):
                if not self._check_dir(path):
                    path.mkdir(parents=True, mode=0o700, exist_ok=True)
                    self._check_dir(path)

    def read(self, name: str) -> bytes | None:
        """A file's bytes (None when absent), after checking the directories and the file."""
        if not self.exists():
            return None
        path = self.directory / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:  # ELOOP: a symlink in place of the file
            raise UnsafeStateError(f"refusing lab state file {path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            check_owned(path, os.fstat(handle.fileno()), directory=False)
            return handle.read()

    def read_json(self, name: str) -> Any:
        data = self.read(name)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            raise DataplaneError(f"the state of lab {self.lab!r} is damaged ({name}): "
                                 f"podwall lab down --name {self.lab}") from None

    def write(self, name: str, data: str) -> None:
        """Whole or not at all: a temporary file, then a rename."""
        with self.errors():
            self.ensure()
            tmp = self.directory / f".{name}.tmp"
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(data)
            tmp.replace(self.directory / name)

    def write_json(self, name: str, data: Any) -> None:
        self.write(name, json.dumps(data, indent=1))

    def path(self, name: str) -> Path:
        return self.directory / name

    def remove(self) -> None:
        """The lab's directory, and the root when no other lab uses it (default root only)."""
        shutil.rmtree(self.directory, ignore_errors=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the lab's lock; removes the directory on the way out when no state was made
        (a command that failed before creating anything leaves nothing behind)."""
        while True:
            self.ensure()
            path = self.directory / LOCK
            try:
                with self.errors():
                    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            except DataplaneError:
                if self.directory.exists():
                    raise
                continue  # a teardown removed the directory under us: make it again
            try:
                check_owned(path, os.fstat(fd), directory=False)
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.stat(path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
            except BaseException:
                os.close(fd)
                raise
            if same:
                break
            os.close(fd)
        try:
            yield
        finally:
            try:
                leftover = sorted(p.name for p in self.directory.iterdir()) == [LOCK]
            except OSError:
                leftover = False
            if leftover:
                self.remove()
            os.close(fd)

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """The state directory cannot be written: one clear message, never a traceback."""
        try:
            yield
        except OSError as exc:
            raise DataplaneError(
                f"cannot write the state of lab {self.lab!r} in {self.directory}: "
                f"{exc.strerror or exc} (PODWALL_LAB_STATE=DIR puts it elsewhere)") from None
