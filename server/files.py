"""File access inside allowed roots only.

The server reads corpus files and imported tokenizers, and writes exports,
only inside the *allowed roots*: the ``--root`` directories plus the roots
the MCP client offers.  A path is resolved first (``..`` collapsed, every
symlink followed), and the *resolved* path must lie inside a resolved root,
so a symlink inside a root that leads outside is refused.

Corpus paths may name files, directories (read recursively, hidden entries
skipped) or glob patterns (``corpus/**/*.txt``).  Relative paths are taken
from the first root.
"""

from __future__ import annotations

import functools
import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from .config import Limits

_GLOB_CHARACTERS = set("*?[")


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


@dataclass
class CorpusFiles:
    files: list[Path]
    total_bytes: int
    skipped: list[str] = field(default_factory=list)  # why some matches were not read


def _refuse_unusable_paths(method):
    """Turn the operating system's refusals into a :class:`FileAccessError`.

    A user-supplied path can make ``Path`` methods raise instead of answer: a
    name longer than the file system allows (``OSError`` ENAMETOOLONG), a
    symlink loop (``RuntimeError`` from ``resolve``), ``~nobody`` (no such
    user's home).  Those are the caller's to fix, not crashes.
    """

    @functools.wraps(method)
    def checked(self, path, *args, **kwargs):
        try:
            return method(self, path, *args, **kwargs)
        except (OSError, RuntimeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            shown = repr(path) if len(repr(path)) <= 200 else repr(path)[:200] + "..."
            raise FileAccessError(f"cannot use the path {shown}: {reason}") from None

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
            path = str(paths_from_root_uris([path])[0])
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = self.roots[0] / candidate
        return candidate

    def inside(self, resolved: Path) -> bool:
        return any(resolved == root or resolved.is_relative_to(root) for root in self.roots)

    def _outside_error(self, given: str, resolved: Path) -> FileAccessError:
        via = "" if str(resolved) == given else f" (it resolves to {str(resolved)!r})"
        return FileAccessError(
            f"{given!r} is outside the allowed roots{via}; allowed roots: {self.describe_roots()}. "
            "Start the server with --root DIR to allow another directory"
        )

    @_refuse_unusable_paths
    def readable_file(self, path: str, *, directory_ok: bool = False) -> Path:
        """An existing regular file (or, if allowed, directory) inside the roots."""
        self._require_roots()
        resolved = self._absolute(path).resolve()
        if not self.inside(resolved):
            raise self._outside_error(path, resolved)
        if not (resolved.is_file() or (directory_ok and resolved.is_dir())):
            raise FileAccessError(f"{path!r} does not exist or is not a regular file")
        return resolved

    @_refuse_unusable_paths
    def writable_path(self, path: str) -> Path:
        """A path inside the roots that may be written (its directory must exist)."""
        self._require_roots()
        candidate = self._absolute(path)
        # Resolve the directory, keep the name: the name itself may be a
        # symlink, and following it could lead outside.
        resolved = candidate.parent.resolve() / candidate.name
        if candidate.is_symlink() or resolved.is_symlink():
            target = resolved.resolve()
            if not self.inside(target):
                raise self._outside_error(path, target)
            resolved = target
        if not self.inside(resolved):
            raise self._outside_error(path, resolved)
        if not resolved.parent.is_dir():
            raise FileAccessError(f"the directory of {path!r} does not exist; create it first")
        return resolved

    @_refuse_unusable_paths
    def corpus_files(self, patterns: list[str]) -> CorpusFiles:
        """Expand files, directories and globs into corpus files, within the limits."""
        self._require_roots()
        files: list[Path] = []
        seen: set[Path] = set()
        skipped: list[str] = []

        def add(candidate: Path, shown: str, explicit: bool) -> None:
            try:
                resolved = candidate.resolve()
            except RuntimeError as exc:  # a symlink loop met while walking a directory
                if explicit:
                    raise
                skipped.append(f"{shown}: refused, {exc}")
                return
            if not self.inside(resolved):
                if explicit:
                    raise self._outside_error(shown, resolved)
                skipped.append(f"{shown}: refused, it resolves to {str(resolved)!r} outside the allowed roots")
                return
            if not resolved.is_file():
                if explicit:
                    raise FileAccessError(f"{shown!r} is not a regular file")
                return
            if resolved not in seen:
                seen.add(resolved)
                files.append(resolved)
                if len(files) > self.limits.max_files:
                    self.limits.check("corpus files", len(files), "the corpus")

        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern.strip():
                raise FileAccessError(f"corpus paths must be non-empty strings; got {pattern!r}")
            absolute = self._absolute(pattern)
            if _GLOB_CHARACTERS & set(pattern):
                matches = sorted(glob.glob(str(absolute), recursive=True))
                if not matches:
                    raise FileAccessError(f"the pattern {pattern!r} matches no files")
                for match in matches:
                    if Path(match).is_dir():
                        self._walk(Path(match), add)
                    else:
                        add(Path(match), match, explicit=False)
                continue
            resolved = absolute.resolve()
            if not self.inside(resolved):
                raise self._outside_error(pattern, resolved)
            if resolved.is_dir():
                self._walk(absolute, add)
            elif resolved.is_file():
                add(absolute, pattern, explicit=True)
            elif resolved.exists():
                raise FileAccessError(f"{pattern!r} is not a regular file or a directory (a device, FIFO or socket)")
            else:
                raise FileAccessError(f"{pattern!r} does not exist (looked for {str(absolute)!r})")
        if not files:
            raise FileAccessError(f"no readable corpus files found in {patterns!r}")
        total = sum(f.stat().st_size for f in files)
        self.limits.check("corpus bytes", total, "the corpus")
        return CorpusFiles(files, total, skipped)

    @staticmethod
    def _walk(directory: Path, add) -> None:
        """Every regular, non-hidden file under ``directory``, in a stable order."""
        for current, subdirectories, names in os.walk(directory, followlinks=False):
            subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
            for name in sorted(names):
                if not name.startswith("."):
                    path = Path(current) / name
                    add(path, str(path), explicit=False)
