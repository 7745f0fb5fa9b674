"""Server settings: where tokenizers live, which files may be read, and limits.

Each setting comes from a command-line flag, else an environment variable,
else a default.  Every limit names the flag that raises it, so an error
message can tell the user exactly what to change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "mcp-server-bpe"

#: Environment variables read when the matching flag is not given.
ENV_DATA_DIR = "MCP_BPE_DATA_DIR"
ENV_ROOTS = "MCP_BPE_ROOTS"  # several directories, separated by os.pathsep


@dataclass(frozen=True)
class Limit:
    """A bound on user input, with the flag and variable that change it."""

    name: str  # what is limited, for messages ("corpus size")
    flag: str
    env: str
    default: int
    unit: str = ""

    def describe(self, value: int) -> str:
        return f"{value:,}{self.unit}"

    def hint(self) -> str:
        return f"start the server with {self.flag} N (or set {self.env}) to raise it"


LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        Limit("corpus bytes", "--max-corpus-bytes", "MCP_BPE_MAX_CORPUS_BYTES", 200 * 2**20, " bytes"),
        Limit("text characters", "--max-text-chars", "MCP_BPE_MAX_TEXT_CHARS", 1_000_000, " characters"),
        Limit("vocab size", "--max-vocab-size", "MCP_BPE_MAX_VOCAB_SIZE", 262_144),
        Limit("corpus files", "--max-files", "MCP_BPE_MAX_FILES", 10_000, " files"),
        Limit("reply bytes", "--max-reply-bytes", "MCP_BPE_MAX_REPLY_BYTES", 16 * 2**20, " bytes"),
        Limit("concurrent trainings", "--max-concurrent-trainings", "MCP_BPE_MAX_CONCURRENT_TRAININGS", 2,
              " trainings"),
        Limit("tokenizer cache bytes", "--max-cache-bytes", "MCP_BPE_MAX_CACHE_BYTES", 64 * 2**20, " bytes"),
    )
}


class LimitExceeded(ValueError):
    """An input is larger than a configured limit."""


@dataclass(frozen=True)
class Limits:
    max_corpus_bytes: int = LIMITS["corpus bytes"].default
    max_text_chars: int = LIMITS["text characters"].default
    max_vocab_size: int = LIMITS["vocab size"].default
    max_files: int = LIMITS["corpus files"].default
    max_reply_bytes: int = LIMITS["reply bytes"].default
    max_concurrent_trainings: int = LIMITS["concurrent trainings"].default
    max_cache_bytes: int = LIMITS["tokenizer cache bytes"].default

    def value(self, name: str) -> int:
        return getattr(self, _FIELD_OF[name])

    def check(self, name: str, amount: int, what: str) -> None:
        """Raise :class:`LimitExceeded` if ``amount`` is over the limit ``name``.

        >>> Limits(max_vocab_size=10).check("vocab size", 20, "vocab_size")
        Traceback (most recent call last):
        ...
        server.config.LimitExceeded: vocab_size is 20, over this server's vocab size limit of 10; start the server with --max-vocab-size N (or set MCP_BPE_MAX_VOCAB_SIZE) to raise it
        """
        limit, allowed = LIMITS[name], self.value(name)
        if amount > allowed:
            raise LimitExceeded(
                f"{what} is {limit.describe(amount)}, over this server's {name} limit of "
                f"{limit.describe(allowed)}; {limit.hint()}"
            )


_FIELD_OF = {
    "corpus bytes": "max_corpus_bytes",
    "text characters": "max_text_chars",
    "vocab size": "max_vocab_size",
    "corpus files": "max_files",
    "reply bytes": "max_reply_bytes",
    "concurrent trainings": "max_concurrent_trainings",
    "tokenizer cache bytes": "max_cache_bytes",
}


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    roots: tuple[Path, ...] = ()
    use_client_roots: bool = True
    limits: Limits = field(default_factory=Limits)
    training_workers: int | None = None  # processes for word counting; None: bpe_core decides
    dask: str | None = None  # a Dask scheduler address (or local[:N]) to count words on; None: local processes
    auth_token: str | None = None  # streamable HTTP only: required bearer token (see server.auth)


def default_data_dir() -> Path:
    """The platform's per-user data directory for this application, as ``platformdirs`` knows it.

    Linux and other Unixes: ``$XDG_DATA_HOME/mcp-server-bpe`` (default
    ``~/.local/share/mcp-server-bpe``); macOS: ``~/Library/Application
    Support/mcp-server-bpe``; Windows: ``%LOCALAPPDATA%\\mcp-server-bpe``.
    """
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def data_dir_from(flag: str | None) -> Path:
    chosen = flag or os.environ.get(ENV_DATA_DIR)
    return Path(chosen).expanduser() if chosen else default_data_dir()


def roots_from(flags: list[str] | None) -> tuple[Path, ...]:
    """``--root`` directories, plus those in ``MCP_BPE_ROOTS``."""
    entries = list(flags or [])
    entries += [e for e in os.environ.get(ENV_ROOTS, "").split(os.pathsep) if e]
    roots = []
    for entry in entries:
        path = Path(entry).expanduser().resolve()
        if not path.is_dir():
            raise ValueError(f"allowed root {entry!r} is not a directory")
        if path not in roots:
            roots.append(path)
    return tuple(roots)


def limits_from(values: dict[str, int | None]) -> Limits:
    """Build :class:`Limits` from flag values (``None``: use the environment or default)."""
    chosen = {}
    for name, limit in LIMITS.items():
        value = values.get(_FIELD_OF[name])
        if value is None and os.environ.get(limit.env):
            try:
                value = int(os.environ[limit.env])
            except ValueError:
                raise ValueError(f"{limit.env} must be a whole number; got {os.environ[limit.env]!r}") from None
        if value is not None:
            if value < 1:
                raise ValueError(f"{limit.flag} must be at least 1; got {value}")
            chosen[_FIELD_OF[name]] = value
    return Limits(**chosen)
