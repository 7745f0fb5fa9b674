"""File access inside allowed roots only.

The server reads corpus files and imported tokenizers, and writes exports,
only inside the *allowed roots*: the ``--root`` directories plus the roots
the MCP client offers.  A path is resolved first (every component, ``..``
collapsed, every symlink followed), and the *resolved* path must lie inside a
resolved root, so neither ``..`` nor a symlink inside a root that leads
outside gets out.

Corpus paths may name files, directories (read recursively; hidden entries
and files that are not UTF-8 text are skipped) or glob patterns
(``corpus/**/*.txt``).  A glob is expanded by walking only inside the roots:
its fixed prefix (``corpus`` above) is checked first, so a pattern such as
``/etc/*`` is refused before anything is listed, and an outside path or
pattern gets the same answer whether it exists or not.  A path that exists
as given is a path even if its name holds ``[`` or ``*``.  Walks stop at
``--max-files`` and when the call is cancelled.  Relative paths are taken
from the first root.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from bpe_core import TrainingCancelled
from bpe_core.base import StopCheck
from bpe_core.corpus_formats import looks_like_corpus

from .config import Limits

_GLOB_CHARACTERS = set("*?[")
#: A walk may look at this many directory entries per allowed corpus file
#: before it gives up: it bounds the time a pattern over a huge tree of
#: directories (or of skipped files) can take, whatever it matches.
ENTRIES_PER_ALLOWED_FILE = 20
#: Skipped entries named in a result; the rest are counted.
SKIPPED_SHOWN = 50
#: Extensions of files that are never text, skipped by directory walks
#: without being opened.
BINARY_SUFFIXES = frozenset(
    ".pyc .pyo .so .o .a .dll .dylib .exe .bin .class .jar .whl .egg .zip .gz .tgz .bz2 .xz .zst .7z .tar .rar "
    ".png .jpg .jpeg .gif .bmp .ico .webp .tif .tiff .pdf .mp3 .mp4 .wav .ogg .flac .avi .mov .mkv .woff .woff2 "
    ".ttf .otf .eot .db .sqlite .sqlite3 .pickle .pkl .npy .npz .pt .safetensors .parquet .arrow".split()
)
_SNIFF_BYTES = 8192



class FileAccessError(ValueError):
    """A path cannot be used (outside the roots, missing, over a limit...)."""


def paths_from_root_uris(uris: list[str]) -> list[Path]:
    """Local directories from MCP root URIs (``file://`` only; others are ignored).

    >>> [p.as_posix() for p in paths_from_root_uris(["file:///home/ann/corpus", "https://example.com"])]
    ['/home/ann/corpus']
    """
    paths = []
    for uri in uris:
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            continue
        local = url2pathname(unquote(parsed.path))
        if parsed.netloc and parsed.netloc != "localhost":
            local = f"//{parsed.netloc}{local}"  # a UNC share
        paths.append(Path(local))
    return paths


def not_text_reason(path: Path) -> str | None:
    """Why ``path`` is not a UTF-8 text file, judged from its name and first bytes; ``None`` if it looks fine.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "a.txt").write_bytes("héllo 你好".encode())
    13
    >>> (folder / "b.dat").write_bytes(b"\\x00\\x01\\x02")
    3
    >>> not_text_reason(folder / "a.txt") is None, not_text_reason(folder / "b.dat"), not_text_reason(folder / "c.pyc")
    (True, 'binary content (a NUL byte)', 'a binary file type (.pyc)')
    """
    if looks_like_corpus(path):  # compressed text or JSON Lines, Parquet: bpe_core reads them
        return None
    if path.suffix.lower() in BINARY_SUFFIXES:
        return f"a binary file type ({path.suffix.lower()})"
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except FileNotFoundError:
        head = b""
    if b"\0" in head:
        return "binary content (a NUL byte)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut_short = exc.reason == "unexpected end of data" and len(head) == _SNIFF_BYTES
        if not cut_short:  # the sniffed block may end inside a character
            return f"not UTF-8 text (invalid byte 0x{head[exc.start]:02x} at offset {exc.start})"
    return None


@dataclass
class CorpusFiles:
    files: list[Path]
    total_bytes: int
    skipped: list[str] = field(default_factory=list)  # why some matches were not read (at most SKIPPED_SHOWN)
    skipped_total: int = 0  # how many were skipped in all


def _shown(path: str) -> str:
    """A user's path for an error message: quoted, and cut if it is very long."""
    text = repr(path)
    return text if len(text) <= 200 else text[:200] + "..."


def _refuse_unusable_paths(method):
    """Turn the operating system's refusals into a :class:`FileAccessError`.

    A user-supplied path can make ``Path`` methods raise instead of answer: a
    name longer than the file system allows (``OSError`` ENAMETOOLONG), a
    symlink loop (``RuntimeError`` from ``resolve``), ``~nobody`` (no such
    user's home), a NUL character (``ValueError``).  Those are the caller's to
    fix, not crashes.
    """

    @functools.wraps(method)
    def checked(self, path, *args, **kwargs):
        for given in [path] if isinstance(path, str) else list(path):
            if isinstance(given, str) and "\0" in given:
                raise FileAccessError(f"the path {_shown(given)} contains a NUL character, which no file name can hold")
        try:
            return method(self, path, *args, **kwargs)
        except (OSError, RuntimeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise FileAccessError(f"cannot use the path {_shown(path)}: {reason}") from None

    return checked


class FileAccess:
    """Resolves user-supplied paths against a fixed set of allowed roots."""

    def __init__(self, roots: list[Path] | tuple[Path, ...], limits: Limits):
        resolved = []
        for root in roots:
            root = Path(root).expanduser().resolve()
            if root not in resolved:
                resolved.append(root)
        self.roots = resolved
        self.limits = limits

    def describe_roots(self) -> str:
        if not self.roots:
            return "none"
        return ", ".join(str(r) for r in self.roots)

    def _require_roots(self) -> None:
        if not self.roots:
            raise FileAccessError(
                "this server may not read or write any files: no allowed roots are set. "
                "Start it with --root DIR (repeatable), or use an MCP client that offers roots; "
                "or pass the corpus as text instead of paths"
            )

    def _absolute(self, path: str) -> Path:
        if path.startswith("file://"):
            uris = paths_from_root_uris([path])
            path = str(uris[0]) if uris else path
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = self.roots[0] / candidate
        return candidate

    def inside(self, resolved: Path) -> bool:
        return any(resolved == root or resolved.is_relative_to(root) for root in self.roots)

    def _outside_error(self, given: str, lexical: Path, resolved: Path) -> FileAccessError:
        # Say where a path leads only when it is named inside a root (a link
        # of the user's own): for a path named outside, the answer must not
        # tell whether it exists or where its links point.
        via = ""
        if self.inside(lexical) and str(resolved) != given:
            via = f" (it resolves to {str(resolved)!r})"
        return FileAccessError(
            f"{_shown(given)} is outside the allowed roots{via}; allowed roots: {self.describe_roots()}. "
            "Start the server with --root DIR to allow another directory"
        )

    def _resolved_inside(self, given: str, candidate: Path) -> Path:
        """``candidate`` with every component resolved, or the error if that is outside the roots."""
        resolved = candidate.resolve()
        if not self.inside(resolved):
            raise self._outside_error(given, Path(os.path.normpath(candidate)), resolved)
        return resolved

    @_refuse_unusable_paths
    def readable_file(self, path: str, *, directory_ok: bool = False) -> Path:
        """An existing regular file (or, if allowed, directory) inside the roots."""
        self._require_roots()
        candidate = self._absolute(path)
        resolved = self._resolved_inside(path, candidate)
        if not (resolved.is_file() or (directory_ok and resolved.is_dir())):
            if resolved.exists():
                raise FileAccessError(f"{_shown(path)} is not a regular file (a directory, device, FIFO or socket)")
            raise FileAccessError(f"{_shown(path)} does not exist (looked for {str(candidate)!r})")
        return resolved

    @_refuse_unusable_paths
    def writable_path(self, path: str) -> Path:
        """Where to write ``path``: inside the roots once fully resolved (its directory may not exist yet).

        Every component counts, ``..`` and ``.`` included: ``".."`` from a
        root is that root's parent, refused.  A name that is a symlink is
        returned as the link (replacing it replaces the link, never its
        target), and only if the link leads inside the roots too.
        """
        self._require_roots()
        candidate = self._absolute(path)
        resolved = self._resolved_inside(path, candidate)
        if candidate.name in ("", ".", "..") or not candidate.is_symlink():
            return resolved
        # The name is a link (leading inside, as checked): keep the link itself.
        location = self._resolved_inside(path, candidate.parent) / candidate.name
        if not self.inside(location):
            raise self._outside_error(path, Path(os.path.normpath(candidate)), location)
        return location

    @_refuse_unusable_paths
    def make_directory(self, path: str, directory: Path) -> Path:
        """Create ``directory`` (a :meth:`writable_path` result) and its parents, inside the roots."""
        directory.mkdir(parents=True, exist_ok=True)
        # Checked again once it exists: a link swapped in meanwhile must not lead out.
        return self._resolved_inside(path, directory)

    @_refuse_unusable_paths
    def corpus_files(self, patterns: list[str], should_stop: StopCheck | None = None) -> CorpusFiles:
        """Expand files, directories and globs into corpus files, within the limits."""
        self._require_roots()
        walk = _Walk(self, should_stop)
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern.strip():
                raise FileAccessError(f"corpus paths must be non-empty strings; got {pattern!r}")
            absolute = self._absolute(pattern)
            if _GLOB_CHARACTERS & set(pattern) and not os.path.lexists(absolute):
                walk.glob(pattern, absolute)
                continue
            resolved = self._resolved_inside(pattern, absolute)
            if resolved.is_dir():
                walk.directory(absolute)
            elif resolved.is_file():
                walk.add(absolute, pattern, explicit=True)
            elif resolved.exists():
                raise FileAccessError(f"{_shown(pattern)} is not a regular file or a directory (a device, FIFO or socket)")
            else:
                raise FileAccessError(f"{_shown(pattern)} does not exist (looked for {str(absolute)!r})")
        if not walk.files:
            raise FileAccessError(f"no readable corpus files found in {_shown(str(patterns))}"
                                  + (f"; skipped: {'; '.join(walk.skipped[:5])}" if walk.skipped else ""))
        total = sum(f.stat().st_size for f in walk.files)
        self.limits.check("corpus bytes", total, "the corpus")
        return CorpusFiles(walk.files, total, walk.skipped[:SKIPPED_SHOWN] + walk.more_skipped(), walk.skipped_total)


class _Walk:
    """One call's expansion of corpus paths: the files found, what was skipped, and the budget."""

    def __init__(self, access: FileAccess, should_stop: StopCheck | None):
        self.access = access
        self.should_stop = should_stop
        self.files: list[Path] = []
        self.seen: set[Path] = set()
        self.skipped: list[str] = []
        self.skipped_total = 0
        self.entries = 0
        self.max_entries = max(access.limits.max_files * ENTRIES_PER_ALLOWED_FILE, 1000)

    def skip(self, note: str) -> None:
        self.skipped_total += 1
        if len(self.skipped) < SKIPPED_SHOWN:
            self.skipped.append(note)

    def more_skipped(self) -> list[str]:
        extra = self.skipped_total - len(self.skipped)
        return [f"... and {extra:,} more skipped"] if extra > 0 else []

    def tick(self, where: str) -> None:
        """Count one directory entry looked at; stop at the budget or on cancellation."""
        self.entries += 1
        if self.entries > self.max_entries:
            limit = self.access.limits.max_files
            raise FileAccessError(
                f"the corpus paths cover more than {self.max_entries:,} entries (while walking {_shown(where)}); "
                f"a walk looks at no more than {ENTRIES_PER_ALLOWED_FILE} entries per allowed file "
                f"(--max-files is {limit:,}). Name a narrower directory or pattern, or start the server with "
                "--max-files N to raise it"
            )
        if self.should_stop is not None and self.entries % 256 == 0 and self.should_stop():
            raise TrainingCancelled("the call was cancelled while listing the corpus files")

    def add(self, candidate: Path, shown: str, explicit: bool) -> None:
        access = self.access
        try:
            resolved = candidate.resolve()
        except RuntimeError as exc:  # a symlink loop met while walking a directory
            if explicit:
                raise
            self.skip(f"{shown}: refused, {exc}")
            return
        if not access.inside(resolved):
            if explicit:
                raise access._outside_error(shown, Path(os.path.normpath(candidate)), resolved)
            self.skip(f"{shown}: refused, it is a link that leads outside the allowed roots")
            return
        if not resolved.is_file():
            if explicit:
                raise FileAccessError(f"{_shown(shown)} is not a regular file")
            return
        if resolved in self.seen:
            return
        if not explicit:
            reason = not_text_reason(resolved)
            if reason is not None:
                self.skip(f"{shown}: skipped, {reason}")
                return
        self.seen.add(resolved)
        self.files.append(resolved)
        if len(self.files) > access.limits.max_files:
            access.limits.check("corpus files", len(self.files), "the corpus")

    def directory(self, directory: Path) -> None:
        """Every regular, non-hidden text file under ``directory``, in a stable order."""
        for current, subdirectories, names in os.walk(directory, followlinks=False):
            for _ in subdirectories:
                self.tick(current)
            subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
            for name in sorted(names):
                self.tick(current)
                if not name.startswith("."):
                    path = Path(current) / name
                    self.add(path, str(path), explicit=False)

    def glob(self, pattern: str, absolute: Path) -> None:
        """Expand ``pattern`` from its fixed prefix, which must resolve inside the roots."""
        parts = absolute.parts
        first_wild = next(i for i, part in enumerate(parts) if _GLOB_CHARACTERS & set(part))
        wild = parts[first_wild:]
        if ".." in wild:
            raise FileAccessError(f"{_shown(pattern)}: '..' may not follow a wildcard in a corpus pattern")
        prefix = Path(*parts[:first_wild])
        base = self.access._resolved_inside(pattern, prefix)  # refuses /etc/* before listing anything
        matched = False
        for match in self._matches(base, list(wild), prefix):
            matched = True
            if match.is_dir() and not match.is_symlink():
                self.directory(match)
            else:
                self.add(match, str(match), explicit=False)
        if not matched:
            raise FileAccessError(f"the pattern {_shown(pattern)} matches no files (looked under {str(prefix)!r})")

    def _matches(self, directory: Path, wild: list[str], shown: Path) -> Iterator[Path]:
        """Entries under ``directory`` matching the pattern components ``wild`` (``**``: any depth).

        ``shown`` is the directory as the user named it, so matches read as
        they were asked for.  Hidden names match only a component that starts
        with ``.`` (as the shell and :mod:`glob` do), and a directory that
        resolves outside the roots is never entered.
        """
        head, rest = wild[0], wild[1:]
        if head == "**" and rest:
            yield from self._matches(directory, rest, shown)  # '**' standing for no directory at all
        deeper = wild if head == "**" else rest  # below, '**' goes on matching at every depth
        for name, entry_is_dir in self._listing(directory):
            if not fnmatch.fnmatchcase(name, head) or (name.startswith(".") and not head.startswith(".")):
                continue
            if not rest:
                yield shown / name
            if entry_is_dir and deeper:
                inner = self._enter(directory / name)
                if inner is not None:
                    yield from self._matches(inner, deeper, shown / name)

    def _listing(self, directory: Path) -> list[tuple[str, bool]]:
        try:
            with os.scandir(directory) as entries:
                listing = []
                for entry in entries:
                    self.tick(str(directory))
                    listing.append((entry.name, entry.is_dir(follow_symlinks=False)))
        except OSError:
            return []  # unreadable or vanished: nothing to match there
        return sorted(listing)

    def _enter(self, directory: Path) -> Path | None:
        resolved = directory.resolve()
        return resolved if self.access.inside(resolved) else None
