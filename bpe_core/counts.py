"""Word counts you can keep: count once, merge counts of many runs, train from them.

BPE training needs only the table of distinct words and their counts, so a
corpus can be counted once (here, on a Dask cluster, or with Spark or
DuckDB), saved, merged with other counts, and trained from as often as
needed.  :func:`bpe_core.train` with ``word_counts=`` learns exactly the
merges that training on the corpus itself gives.

The counts file (``.tsv``, UTF-8, one record a line)::

    #{"format": "bpe_core-counts", "version": 1, "mode": "byte_level", "pattern": "gpt2", "regex": "...",
      "special_tokens": ["<|endoftext|>"], "unk_token": null}          <- one line
    5\t"Ġlow"
    2\t"Ġlower"

* the first line is ``#`` and a JSON object: the settings the words were
  cut with (mode, pattern name and regex, special tokens, classic's unk
  token) and the format version; other keys are information only;
* then ``count<TAB>word``, the word as a JSON string (quotes included), so
  tabs, newlines and any character survive;
* words in the order they first occur in the corpus: classic BPE breaks
  ties between equally frequent pairs by first occurrence, so that order is
  part of the result (byte-level BPE does not depend on it).  A word listed
  twice is summed at its first place, and merged files keep the order of
  the first file, then the new words of the second, and so on.

>>> table = count_words("low low lower", mode="classic")
>>> table.counts, table.settings.mode
({'low': 2, 'lower': 1}, 'classic')
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "counts.tsv")
>>> _ = save_counts(table, path)
>>> open(path, encoding="utf-8").read().splitlines()[1:]
['2\\t"low"', '1\\t"lower"']
>>> load_counts(path).counts == table.counts
True
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .atomic_files import write_atomically_streamed
from .base import ProgressCallback, StopCheck
from .counting import CorpusReading, add_counts
from .counting import count_words as count_corpus_words
from .errors import BPEError
from .families import DEFAULT_MODE, FAMILIES, family_named
from .pretokenize import PreTokenizer

COUNTS_FORMAT = "bpe_core-counts"
COUNTS_VERSION = 1
DEFAULT_PATTERN = "gpt2"
DEFAULT_UNK_TOKEN = "<unk>"


@dataclass(frozen=True)
class CountSettings:
    """How a corpus was cut into words: what must match between counting and training."""

    mode: str
    pattern: str  # "whitespace", a preset name, or "custom"
    regex: str | None
    special_tokens: tuple[str, ...] = ()
    unk_token: str | None = None  # classic only: cut out of the corpus like a special token

    @classmethod
    def create(cls, mode: str = DEFAULT_MODE, pattern: str | None = None, special_tokens: Sequence[str] = (),
               unk_token: str | None = DEFAULT_UNK_TOKEN) -> CountSettings:
        """Checked settings (the errors ``train()`` gives for the same arguments)."""
        family = family_named(mode)
        if isinstance(special_tokens, str):
            raise BPEError(
                f"special_tokens must be a list of strings, not the string {special_tokens!r}; "
                f"write special_tokens=[{special_tokens!r}]"
            )
        specials = tuple(dict.fromkeys(special_tokens))
        if any(not isinstance(s, str) or not s for s in specials):
            raise BPEError(f"special tokens must be non-empty strings; got {special_tokens!r}")
        pre_tokenizer = PreTokenizer.create(family.pre_tokenizer(pattern, default=DEFAULT_PATTERN))
        return cls(family.name, pre_tokenizer.name, pre_tokenizer.pattern, specials,
                   (unk_token or DEFAULT_UNK_TOKEN) if family.needs_unk_token else None)

    @property
    def pre_tokenizer_pattern(self) -> str:
        """What :func:`~bpe_core.pretokenize.PreTokenizer.create` takes to rebuild the pre-tokenizer."""
        return self.regex if self.regex is not None else self.pattern

    @property
    def reserved(self) -> list[str]:
        """Strings cut out of the corpus before counting: the special tokens, and classic's unk token.

        Were ``<unk>`` learned by merging '<', 'u', ..., it would share the unk id.
        """
        specials = list(self.special_tokens)
        if self.unk_token is not None and self.unk_token not in specials:
            specials.append(self.unk_token)
        return specials

    def header(self) -> dict:
        return {"format": COUNTS_FORMAT, "version": COUNTS_VERSION, "mode": self.mode, "pattern": self.pattern,
                "regex": self.regex, "special_tokens": list(self.special_tokens), "unk_token": self.unk_token}

    def differences(self, other: CountSettings) -> list[str]:
        """What differs, as ``name: this vs other`` phrases.

        >>> CountSettings.create("classic").differences(CountSettings.create("byte_level"))[0]
        "mode 'classic' vs 'byte_level'"
        """
        found = []
        for name in ("mode", "regex", "special_tokens", "unk_token"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                shown = "pattern" if name == "regex" else name
                if name == "regex":
                    mine, theirs = self.pattern if self.pattern != "custom" else mine, \
                        other.pattern if other.pattern != "custom" else theirs
                found.append(f"{shown} {_short(mine)} vs {_short(theirs)}")
        return found


def _short(value) -> str:
    text = repr(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class CountsTable:
    """Word counts (in first-occurrence order) and the settings they were counted with."""

    settings: CountSettings
    counts: dict[str, int]
    corpus_bytes: int = 0
    #: Bad records skipped while counting (``on_error="skip"``), and the first of them described.
    skipped_records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def total_words(self) -> int:
        return sum(self.counts.values())

    def __repr__(self) -> str:
        return (f"CountsTable(mode={self.settings.mode!r}, pattern={self.settings.pattern!r}, "
                f"distinct_words={len(self.counts)}, words={self.total_words})")


def count_words(
    texts: str | Iterable[str] = (),
    *,
    files: Iterable[str | os.PathLike] = (),
    mode: str = DEFAULT_MODE,
    pattern: str | None = None,
    special_tokens: Sequence[str] = (),
    unk_token: str = DEFAULT_UNK_TOKEN,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    **reading,
) -> CountsTable:
    """Count the words of a corpus as ``train()`` would, to save, merge or train from later.

    Takes ``train()``'s corpus and pre-tokenizer arguments: ``texts``,
    ``files``, ``mode``, ``pattern``, ``special_tokens``, ``unk_token``, and
    the keywords of :class:`~bpe_core.counting.CorpusReading` (``text_field``,
    ``on_error``, ``workers``, ``dask``, ``shard_bytes``).
    """
    unknown = sorted(set(reading) - set(CorpusReading.__dataclass_fields__))
    if unknown:
        raise TypeError(f"count_words() got unexpected keyword arguments {unknown}")
    return count_table(texts, files, CountSettings.create(mode, pattern, special_tokens, unk_token),
                       CorpusReading(**reading), on_progress=on_progress, should_stop=should_stop)


def count_table(
    texts: str | Iterable[str],
    files: str | os.PathLike | Iterable[str | os.PathLike],
    settings: CountSettings,
    reading: CorpusReading,
    *,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> CountsTable:
    """:func:`count_words` with its settings checked already (what ``train()`` calls)."""
    if isinstance(texts, str):
        texts = [texts]
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    counted = count_corpus_words(texts, files, PreTokenizer.create(settings.pre_tokenizer_pattern),
                                 settings.reserved, reading, on_progress=on_progress, should_stop=should_stop)
    return CountsTable(settings, counted.counts, counted.corpus_bytes, counted.skipped_records, counted.problems)


def save_counts(table: CountsTable, path: str | os.PathLike) -> Path:
    """Write ``table`` to ``path`` (atomically: a reader never sees half a file); returns the path."""
    path = Path(path)
    header = table.settings.header() | {"distinct_words": len(table.counts), "words": table.total_words,
                                        "corpus_bytes": table.corpus_bytes, "skipped_records": table.skipped_records}

    def write(stream) -> None:
        stream.write(("#" + json.dumps(header, ensure_ascii=False) + "\n").encode("utf-8"))
        lines = []
        for word, n in table.counts.items():
            lines.append(f"{n}\t{_word_json(word)}\n")
            if len(lines) >= 4096:
                stream.write("".join(lines).encode("utf-8"))
                lines = []
        stream.write("".join(lines).encode("utf-8"))

    write_atomically_streamed(path, write)
    return path


def _word_json(word: str) -> str:
    text = json.dumps(word, ensure_ascii=False)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form; JSON can escape it
        return json.dumps(word)


def load_counts(path: str | os.PathLike) -> CountsTable:
    """Read a counts file (streamed: memory follows the number of distinct words)."""
    path = Path(path)
    try:
        handle = open(path, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise BPEError(f"cannot read the counts file {str(path)!r}: {exc.strerror or exc}") from None
    with handle:
        try:
            settings, header = _read_header(path, handle.readline())
            counts: dict[str, int] = {}
            get = counts.get
            for number, line in enumerate(handle, 2):
                count, tab, word_json = line.rstrip("\r\n").partition("\t")
                try:
                    n = int(count)
                    word = json.loads(word_json)
                    if n < 0 or not tab or not isinstance(word, str):
                        raise ValueError
                except ValueError:
                    raise BPEError(
                        f"counts file {str(path)!r}, line {number}: expected a count, a tab and a JSON string "
                        f"(like 5\\t\"word\"); found {line[:60]!r}"
                    ) from None
                counts[word] = get(word, 0) + n
        except UnicodeDecodeError as exc:
            raise BPEError(f"counts file {str(path)!r} is not UTF-8 text ({exc.reason}); a counts file is "
                           "written in UTF-8") from None
    return CountsTable(settings, counts, int(header.get("corpus_bytes") or 0), int(header.get("skipped_records") or 0))


def _read_header(path: Path, line: str) -> tuple[CountSettings, dict]:
    hint = ('the first line must be # and a JSON object such as #{"format": "bpe_core-counts", "version": 1, '
            '"mode": "byte_level", "pattern": "gpt2"} (see bpe_core.counts)')
    try:
        header = json.loads(line[1:]) if line.startswith("#") else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format", COUNTS_FORMAT) != COUNTS_FORMAT:
        raise BPEError(f"{str(path)!r} is not a bpe_core counts file: {hint}")
    version = header.get("version", COUNTS_VERSION)
    if version != COUNTS_VERSION:
        raise BPEError(f"counts file {str(path)!r} has format version {version!r}; this bpe_core reads version "
                       f"{COUNTS_VERSION}; count the corpus again with this version")
    mode = header.get("mode")
    if not isinstance(mode, str) or mode not in FAMILIES:
        raise BPEError(f"counts file {str(path)!r}: the header's mode must be one of {', '.join(FAMILIES)}; "
                       f"got {mode!r}")
    try:
        settings = CountSettings.create(mode, header.get("regex") or header.get("pattern"),
                                        header.get("special_tokens") or (), header.get("unk_token"))
    except BPEError as exc:
        raise BPEError(f"counts file {str(path)!r}: its header's settings cannot be used: {exc}") from None
    return settings, header


def merge_counts(tables: Iterable[CountsTable | str | os.PathLike]) -> CountsTable:
    """The counts of several tables or files as one: the first's words first, then the new words of the next...

    Every table must have been counted with the same settings.
    """
    merged: CountsTable | None = None
    first_name = ""
    for number, table in enumerate(tables, 1):
        name = str(table) if not isinstance(table, CountsTable) else f"table {number}"
        if not isinstance(table, CountsTable):
            table = load_counts(table)
        if merged is None:
            merged = CountsTable(table.settings, dict(table.counts), table.corpus_bytes, table.skipped_records,
                                 list(table.problems))
            first_name = name
            continue
        differences = merged.settings.differences(table.settings)
        if differences:
            raise BPEError(f"cannot merge counts made with different settings: {first_name} and {name} differ in "
                           f"{'; '.join(differences)}; count them again with the same settings")
        add_counts(merged.counts, table.counts)
        merged.corpus_bytes += table.corpus_bytes
        merged.skipped_records += table.skipped_records
        merged.problems += table.problems
    if merged is None:
        raise BPEError("give at least one counts table or file to merge")
    return merged
