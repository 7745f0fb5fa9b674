"""Named tokenizers on disk: one native JSON file per name.

Layout: ``<data dir>/tokenizers/<name>.json``, in ``bpe_core``'s native
format.  Writes are atomic (a temporary file renamed into place), so a
reader, in this process or another, sees the old file or the new one, never
half of one.  Creating a name that must not exist yet uses a hard link, which
the operating system refuses if the name appeared in the meantime: two
servers sharing the directory cannot both "create" the same name.

The reference tokenizers (``cl100k_base``, ``o200k_base`` and the model
names that stand for them, :mod:`bpe_core.reference`) are names too: read
only, loaded on first use into their own small dict (100 to 200 MB each,
so never in the byte-bounded cache), and never saved over or deleted.

A file that cannot be read as a tokenizer is reported by name and skipped;
it never breaks listing.  A process killed mid-save leaves its hidden
temporary file (``.NAME.json.*.tmp``) behind; :meth:`TokenizerStore.remove_stale_temporaries`
deletes such files once they are old enough that no live writer can own them.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import stat
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bpe_core import BPEError, Tokenizer, load_tokenizer, reference, save_tokenizer

logger = logging.getLogger(__name__)

NAME_RULE = (
    "1 to 64 characters: letters (any script), digits, '_', '-' and '.', starting with a letter or digit, "
    "with no '..' and not ending in '.'"
)
#: The characters a name may use, as a JSON-schema pattern (the tools' schemas use it too);
#: :func:`validate_name` adds what a pattern cannot say well ('..', a trailing '.', reserved names).
NAME_PATTERN = r"^[^\W_][\w.-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
SUFFIX = ".json"
#: A temporary file untouched for this long has no writer left: a live one
#: writes and renames its file within moments, whichever process it is in.
STALE_TEMPORARY_SECONDS = 60.0


class StoreError(ValueError):
    """A request about stored tokenizers cannot be carried out (the message says why)."""


class UnknownTokenizer(StoreError):
    pass


class TokenizerExists(StoreError):
    pass


class ReadOnlyTokenizer(StoreError):
    """A reference tokenizer's name was given to something that writes or deletes."""


@dataclass(frozen=True)
class ReferenceFacts:
    """What listing shows of a reference tokenizer without loading it (checked against the loaded one in tests)."""

    name: str
    vocab_size: int
    merges: int
    pattern: str
    aliases: tuple[str, ...]


#: The reference tokenizers as listing shows them: loading one takes seconds and 100-200 MB.
REFERENCES = {
    facts.name: facts
    for facts in (
        ReferenceFacts("cl100k_base", 100_261, 233_378, "cl100k",
                       tuple(a for a, n in reference.MODEL_ALIASES.items() if n == "cl100k_base")),
        ReferenceFacts("o200k_base", 200_000, 446_189, "o200k",
                       tuple(a for a, n in reference.MODEL_ALIASES.items() if n == "o200k_base")),
    )
}


def reference_name(name: str) -> str | None:
    """The reference encoding ``name`` stands for (its own name or a model alias), else None.

    >>> reference_name("GPT-4o"), reference_name("gpt-4"), reference_name("my-bpe")
    ('o200k_base', 'cl100k_base', None)
    """
    if not isinstance(name, str) or not reference.is_reference_name(name):
        return None
    return reference.resolve_reference_name(name)


@dataclass
class StoredTokenizer:
    name: str
    path: Path
    tokenizer: Tokenizer
    size_bytes: int
    modified: datetime
    reference: bool = False  # a built-in reference tokenizer (read-only)


@dataclass(frozen=True)
class TokenizerSummary:
    """What listing shows of a stored tokenizer: small, kept instead of the tokenizer itself."""

    name: str
    mode: str
    pattern: str
    vocab_size: int
    merges: int
    special_tokens: tuple[str, ...]
    size_bytes: int
    modified: datetime

    @classmethod
    def of(cls, stored: StoredTokenizer) -> TokenizerSummary:
        tokenizer = stored.tokenizer
        return cls(stored.name, tokenizer.mode, tokenizer.pattern_name, tokenizer.vocab_size,
                   len(tokenizer.merges), tuple(tokenizer.special_tokens), stored.size_bytes, stored.modified)


@dataclass
class BrokenFile:
    file: str
    error: str


def validate_name(name: str) -> str:
    """Return ``name`` if it is a safe tokenizer name, else raise :class:`StoreError`.

    >>> validate_name("gpt-small_v2")
    'gpt-small_v2'
    >>> validate_name("../etc/passwd")
    Traceback (most recent call last):
    ...
    server.storage.StoreError: invalid tokenizer name '../etc/passwd': use 1 to 64 characters: letters (any script), digits, '_', '-' and '.', starting with a letter or digit, with no '..' and not ending in '.'
    """
    if (
        not isinstance(name, str)
        or not _NAME.fullmatch(name)
        or ".." in name
        or name.endswith(".")
        or name.split(".")[0].lower() in _WINDOWS_RESERVED
    ):
        raise StoreError(f"invalid tokenizer name {name!r}: use {NAME_RULE}")
    return name


class TokenizerStore:
    """Save, load, list and delete tokenizers by name in one directory."""

    def __init__(self, data_dir: Path, cache_bytes: int = 64 * 2**20):
        self.data_dir = Path(data_dir)
        self.directory = self.data_dir / "tokenizers"
        # Loaded tokenizers, least recently used first, bounded by the size of
        # their files (a loaded tokenizer takes a few times its file's size).
        # A tokenizer larger than the whole budget is loaded for each call and
        # not kept.  Summaries for listing are kept for every file: they are small.
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[str, tuple[tuple, int, Tokenizer]] = OrderedDict()
        self._summaries: dict[str, tuple[tuple, TokenizerSummary | BrokenFile]] = {}
        self._lock = threading.Lock()
        # Reference tokenizers loaded so far (at most two: outside the cache budget), and one
        # lock per name, so that two first uses at once load (or convert) it once.
        self._references: dict[str, StoredTokenizer] = {}
        self._reference_locks = {name: threading.Lock() for name in REFERENCES}

    def uri(self, name: str) -> str:
        return f"bpe://tokenizers/{name}"

    def path_for(self, name: str) -> Path:
        return self.directory / (validate_name(name) + SUFFIX)

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the data directory {str(self.directory)!r} ({exc.strerror or exc}); "
                "start the server with --data-dir pointing to a writable directory"
            ) from None

    # --- reading ---------------------------------------------------------

    def names(self) -> list[str]:
        """Names of the files that look like tokenizers (not checked), sorted."""
        if not self.directory.is_dir():
            return []
        names = []
        for path in self.directory.glob("*" + SUFFIX):
            name = path.name[: -len(SUFFIX)]
            try:
                validate_name(name)
            except StoreError:
                continue  # not ours (hand-copied file with an odd name)
            if path.is_file():
                names.append(name)
        return sorted(names, key=str.lower)

    def load(self, name: str) -> StoredTokenizer:
        """The tokenizer called ``name`` (cached while its file is unchanged), or a reference tokenizer."""
        if (encoding := reference_name(name)) is not None:
            return self.load_reference(encoding)
        path = self.path_for(name)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise self._unknown(name) from None
        key = _file_key(stat)
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and cached[0] == key:
                self._cache.move_to_end(name)
        if cached is not None and cached[0] == key:
            tokenizer = cached[2]
        else:
            try:
                tokenizer = load_tokenizer(path)
            except BPEError as exc:
                raise StoreError(
                    f"tokenizer {name!r} cannot be loaded: {exc}. Delete it with delete_tokenizer, "
                    "or train it again with overwrite=true"
                ) from None
            self._keep(name, key, stat.st_size, tokenizer)
        modified = datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc)
        stored = StoredTokenizer(name, path, tokenizer, stat.st_size, modified)
        with self._lock:
            self._summaries[name] = (key, TokenizerSummary.of(stored))
        return stored

    def load_reference(self, encoding: str) -> StoredTokenizer:
        """A reference tokenizer, loaded once per process (its first use takes seconds, or a minute to convert)."""
        with self._reference_locks[encoding]:
            stored = self._references.get(encoding)
            if stored is None:
                tokenizer = reference.load_reference(encoding)
                path = reference.cache_path(reference.reference_spec(encoding), reference.default_cache_dir())
                try:
                    info = path.stat()
                    size, modified = info.st_size, datetime.fromtimestamp(info.st_mtime, tz=timezone.utc)
                except OSError:  # no cache file (read-only cache): about 60 bytes a token in native JSON
                    size, modified = 60 * tokenizer.vocab_size, datetime.now(timezone.utc)
                stored = self._references[encoding] = StoredTokenizer(encoding, path, tokenizer, size, modified,
                                                                      reference=True)
        return stored

    def check_writable(self, name: str) -> None:
        """Refuse to save or delete under a reference tokenizer's name (or one of its model aliases)."""
        encoding = reference_name(name)
        if encoding is not None:
            shown = repr(name) + (f" (the model name for {encoding})" if encoding != name else "")
            raise ReadOnlyTokenizer(
                f"{shown} is a built-in reference tokenizer: read-only, it cannot be replaced or deleted; "
                "choose another name"
            )

    def _keep(self, name: str, key: tuple, size: int, tokenizer: Tokenizer) -> None:
        """Cache ``tokenizer``, evicting the least recently used ones beyond the byte budget."""
        with self._lock:
            self._cache.pop(name, None)
            if size > self.cache_bytes:
                return
            self._cache[name] = (key, size, tokenizer)
            held = sum(entry[1] for entry in self._cache.values())
            while held > self.cache_bytes:
                _, (_, evicted_size, _) = self._cache.popitem(last=False)
                held -= evicted_size

    @property
    def cached_names(self) -> list[str]:
        """Names whose tokenizer is loaded in memory now, least recently used first."""
        with self._lock:
            return list(self._cache)

    def list(self) -> tuple[list[TokenizerSummary], list[BrokenFile]]:
        """A summary of every readable tokenizer, and every file that could not be read.

        A summary is remembered while its file is unchanged, so listing loads
        each tokenizer once, not at every call, and keeps only the summary.
        """
        good, broken = [], []
        for name in self.names():
            try:
                stat = self.path_for(name).stat()
            except FileNotFoundError:
                continue  # deleted while listing
            key = _file_key(stat)
            with self._lock:
                remembered = self._summaries.get(name)
            if remembered is None or remembered[0] != key:
                try:
                    summary = TokenizerSummary.of(self.load(name))
                except UnknownTokenizer:
                    continue
                except StoreError as exc:
                    logger.warning("skipping unreadable tokenizer file %s: %s", name + SUFFIX, exc)
                    summary = BrokenFile(name + SUFFIX, str(exc))
                remembered = (key, summary)
                with self._lock:
                    self._summaries[name] = remembered
            (broken if isinstance(remembered[1], BrokenFile) else good).append(remembered[1])
        return good, broken

    def _unknown(self, name: str) -> UnknownTokenizer:
        known = self.names()
        references = (f"the reference tokenizers {', '.join(REFERENCES)} (or a model name: "
                      f"{', '.join(reference.MODEL_ALIASES)})")
        if not known:
            return UnknownTokenizer(
                f"no tokenizer named {name!r}: none is stored yet. Use {references}, train one with train_bpe "
                "or import one with import_tokenizer"
            )
        close = difflib.get_close_matches(name, known + list(REFERENCES) + list(reference.MODEL_ALIASES), n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        shown = ", ".join(repr(n) for n in known[:50]) + (" ..." if len(known) > 50 else "")
        return UnknownTokenizer(f"no tokenizer named {name!r}.{suggestion} Stored tokenizers: {shown}; and "
                                f"{references}")

    # --- writing ---------------------------------------------------------

    def remove_stale_temporaries(self, older_than: float = STALE_TEMPORARY_SECONDS) -> list[str]:
        """Delete the hidden ``.*.tmp`` files not modified for ``older_than`` seconds; returns their names.

        They are what a save killed before its rename leaves behind (the
        tokenizer files themselves are intact).  Recent ones are kept: they
        may belong to another server writing into the same directory now.
        """
        if not self.directory.is_dir():
            return []
        removed = []
        now = time.time()
        for path in self.directory.glob(".*.tmp"):
            try:
                info = path.lstat()
                if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < older_than:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue  # another server removed it first
            except OSError as exc:
                logger.warning("cannot remove the stale temporary file %s: %s", path, exc.strerror or exc)
                continue
            removed.append(path.name)
        if removed:
            logger.warning("removed %d stale temporary file(s) left in %s by an interrupted save: %s",
                           len(removed), self.directory, ", ".join(sorted(removed)))
        return sorted(removed)

    def save(self, name: str, tokenizer: Tokenizer, *, overwrite: bool = False) -> tuple[Path, bool]:
        """Store ``tokenizer`` as ``name``; returns the path and whether a tokenizer was replaced.

        A write that fails (disk full, permission denied) leaves the previous
        version in place, since only a complete file is ever renamed or linked
        to the name, and becomes a :class:`StoreError` that says so.
        """
        self.check_writable(name)
        try:
            return self._write(name, tokenizer, overwrite=overwrite)
        except OSError as exc:
            raise StoreError(
                f"cannot save tokenizer {name!r} in {str(self.directory)!r}: {exc.strerror or exc}. "
                "Nothing was changed (a previous version, if any, is intact); free some disk space or fix the "
                "directory's permissions, or start the server with --data-dir pointing to a writable directory"
            ) from None

    def _write(self, name: str, tokenizer: Tokenizer, *, overwrite: bool) -> tuple[Path, bool]:
        path = self.path_for(name)
        self._ensure_directory()
        clash = next((n for n in self.names() if n.lower() == name.lower() and n != name), None)
        if clash is not None:
            raise TokenizerExists(
                f"a tokenizer named {clash!r} already exists, and names that differ only in case "
                "would share one file on macOS and Windows; choose another name"
            )
        existed = overwrite and path.exists()
        try:
            # Without overwrite, the name is created, never replaced, even if
            # another process made it a moment ago (bpe_core.atomic_files).
            save_tokenizer(tokenizer, path, replace=overwrite)
        except FileExistsError:
            raise self.exists_error(name) from None
        return path, existed

    def exists_error(self, name: str) -> TokenizerExists:
        return TokenizerExists(
            f"a tokenizer named {name!r} already exists; pass overwrite=true to replace it, "
            "or choose another name"
        )

    def delete(self, name: str) -> Path:
        self.check_writable(name)
        path = self.path_for(name)
        try:
            path.unlink()
        except FileNotFoundError:
            raise self._unknown(name) from None
        with self._lock:
            self._cache.pop(name, None)
            self._summaries.pop(name, None)
        return path


def _file_key(stat: os.stat_result) -> tuple:
    """What tells that a file changed: its modification time, size and inode."""
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)
