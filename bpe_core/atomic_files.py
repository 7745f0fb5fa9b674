"""Writing files so that nobody ever sees half of one, and creating without replacing.

Every file this project writes (tokenizers, exports, counts, pages) goes
through here:

* :func:`write_atomically` writes a temporary file beside the target,
  flushes it to disk, then renames it over the target: a reader sees the
  old file or the new one, never a mix.
* :func:`create_atomically` does the same but never replaces: the complete
  temporary file is hard-linked to the name, which the operating system
  refuses if the name exists, even if another process made it a moment ago.
* :func:`place_files` moves several finished files into place together,
  replacing or not, and takes back what it placed if one name is taken.

The temporary file is created with mode 0o666 through ``os.open``, so the
operating system applies the umask as it does for any new file (no need
to read the umask); a replaced file keeps its own mode.  Temporary names
are hidden: ``.NAME.RANDOM.tmp``.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_atomically(folder / "a.txt", b"one")
>>> create_atomically(folder / "a.txt", b"two")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
FileExistsError: [Errno 17] File exists: '...a.txt'
>>> (folder / "a.txt").read_bytes(), sorted(p.name for p in folder.iterdir())
(b'one', ['a.txt'])
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers never see a partial file."""
    write_atomically_streamed(path, lambda stream: stream.write(data))


def write_atomically_streamed(path: str | os.PathLike, fill: Callable[[BinaryIO], object]) -> None:
    """Like :func:`write_atomically`, for output written piece by piece: ``fill(stream)`` writes it."""
    path = Path(path)
    temporary = _write_temporary(path, fill)
    try:
        try:
            os.chmod(temporary, path.stat().st_mode & 0o7777)  # a replaced file keeps its mode
        except FileNotFoundError:
            pass
        os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


def create_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path``, which must not exist; :class:`FileExistsError` if it does."""
    path = Path(path)
    temporary = _write_temporary(path, lambda stream: stream.write(data))
    try:
        _link_new(temporary, path)
    finally:
        _remove(temporary)


def place_files(moves: list[tuple[Path, Path]], *, replace: bool) -> None:
    """Move each finished ``(staged, final)`` file into place.

    With ``replace``, each final name is replaced (a symlink there is
    replaced itself, never the file it points to).  Without it, no existing
    name is replaced (each staged file is linked to its name and left for the
    caller's clean-up): if one is taken, the files placed so far are removed
    and :class:`FileExistsError` names it.
    """
    placed: list[Path] = []
    for staged, final in moves:
        if replace:
            if final.is_symlink():
                final.unlink()
            os.replace(staged, final)
            continue
        try:
            _link_new(staged, final)
        except FileExistsError:
            for path in placed:
                path.unlink(missing_ok=True)
            raise
        placed.append(final)


def _write_temporary(path: Path, fill: Callable[[BinaryIO], object]) -> Path:
    directory = path.parent if str(path.parent) else Path(".")
    while True:
        temporary = directory / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue  # a name another writer drew: draw again
    try:
        with os.fdopen(handle, "wb") as stream:
            fill(stream)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        _remove(temporary)
        raise
    return temporary


def _link_new(source: Path, name: Path) -> None:
    """Give ``source`` the new ``name``; never replaces an existing one."""
    try:
        os.link(source, name)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(name)) from None
    except OSError:
        # File systems without hard links: check, then rename (a narrow race
        # remains there between two processes creating the same name).
        if os.path.lexists(name):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(name)) from None
        os.replace(source, name)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
