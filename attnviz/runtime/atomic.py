"""Files written whole or not at all: every output of the command line (profile, CSV, report,
checkpoint, weights) is written under a temporary name in its own folder and renamed onto its
name with ``os.replace`` once complete, so Ctrl-C or a crash mid-write leaves the old file (or
none), never a truncated one beside a complete one."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator


def _mode(path: Path) -> int:
    """The mode the file would have if written in place: the old file's, else 0o666 less the
    umask (mkstemp makes 0o600)."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on leaving the block it replaces ``path``
    (one rename, in the same folder so on the same file system), or is removed when the block
    raises (KeyboardInterrupt included)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _mode(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """``Path.write_text``, whole or not at all."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
