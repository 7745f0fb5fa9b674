"""Classic BPE merges as a subword-nmt style codes file, in and out.

The layout is subword-nmt's: ``#version: 0.2``, then one merge per line.
The model is the classic one of Sennrich et al.'s reference code, where
the end-of-word marker ``</w>`` is a symbol of its own (``l o w </w>``), so
a line may read ``est </w>``.  subword-nmt itself glues the marker to the
last character (``l o w</w>``) and would never apply such a line: read
these files back with bpe_core, not with ``subword-nmt apply-bpe``.  For
the same reason tokenizers' ``end_of_word_suffix`` cannot hold this model.

The codes list no alphabet, unknown token or special tokens, so export
writes them to a companion ``NAME.vocab.json`` (the vocabulary with its
ids); without it, import rebuilds the alphabet from the merges.

>>> from bpe_core import train
>>> tok = train("low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3, mode="classic", num_merges=3)
>>> merge_lines(tok.merges).splitlines()  # the codes
['#version: 0.2', 'e s', 'es t', 'est </w>']
>>> back = from_codes(tok.merges, None, "codes.txt")
>>> [t.token for t in back.encode_tokens("nest")]  # no companion: 'n' was never merged, so unknown
['<unk>', 'est</w>']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..base import END_OF_WORD
from ..tokenizer import Tokenizer
from ..counts import DEFAULT_UNK_TOKEN
from .files import (build_tokenizer, check_vocab, fail, merge_lines, ordered_vocab, read_json, read_merges,
    require_mode, write_json, write_text)

VOCAB_FORMAT = "bpe_core.classic_vocab"
DEFAULT_FILE = "codes.txt"


def vocab_path(codes_path: Path) -> Path:
    """The companion of ``codes.txt``: ``codes.txt.vocab.json``."""
    return codes_path.with_name(codes_path.name + ".vocab.json")


def export_subword_nmt(tokenizer: Tokenizer, destination: str | os.PathLike) -> list[Path]:
    """Write the codes file and its ``.vocab.json`` companion."""
    require_mode(tokenizer, "classic", "subword-nmt codes")
    path = Path(destination)
    if path.is_dir():
        path = path / DEFAULT_FILE
    companion = {
        "format": VOCAB_FORMAT,
        "unk_token": tokenizer.unk_token,
        "special_tokens": list(tokenizer.special_tokens),
        "vocab": ordered_vocab(tokenizer),
    }
    return [write_text(path, merge_lines(tokenizer.merges)), write_json(vocab_path(path), companion)]


def import_subword_nmt(
    path: str | os.PathLike, *, special_tokens: Iterable[str] | None = None, max_vocab_size: int | None = None
) -> Tokenizer:
    """Read a codes file (and its companion ``.vocab.json`` when present).
    With ``max_vocab_size``, larger files are refused before they are parsed."""
    path = Path(path)
    if path.is_dir():
        path = path / DEFAULT_FILE
    merges = read_merges(path, "the codes", max_vocab_size)
    companion = vocab_path(path)
    return from_codes(merges, _read_companion(companion, max_vocab_size) if companion.is_file() else None, path,
                      special_tokens)


def _read_companion(path: Path, max_vocab_size: int | None = None) -> dict:
    document = read_json(path, max_vocab_size)
    if not isinstance(document, dict) or document.get("format") != VOCAB_FORMAT:
        raise fail(path, f"is not a classic vocabulary written by bpe_core (format {VOCAB_FORMAT!r})")
    check_vocab(document.get("vocab"), path, max_vocab_size=max_vocab_size)
    if not isinstance(document.get("special_tokens"), list) or not isinstance(document.get("unk_token"), str):
        raise fail(path, "needs a 'special_tokens' list and an 'unk_token' string")
    return document


def from_codes(merges: list[tuple[str, str]], companion: dict | None, path, special_tokens=None) -> Tokenizer:
    """A classic tokenizer from its merges (and, if known, its exact vocabulary)."""
    _check_end_of_word_is_separate(merges, path)
    if companion is not None:
        vocab, unk_token = companion["vocab"], companion["unk_token"]
        specials = companion["special_tokens"] if special_tokens is None else list(special_tokens)
    else:
        unk_token, specials = DEFAULT_UNK_TOKEN, list(special_tokens or ())
        # Every merged token is built from single characters and </w>.
        alphabet = sorted({symbol for pair in merges for symbol in pair if len(symbol) == 1})
        products = [left + right for left, right in merges]
        vocab = {}
        for token in [*specials, END_OF_WORD, unk_token, *alphabet, *products]:
            vocab.setdefault(token, len(vocab))
    return build_tokenizer(path, mode="classic", vocab=vocab, merges=merges, special_tokens=specials,
                           unk_token=unk_token)


def _check_end_of_word_is_separate(merges: list[tuple[str, str]], path) -> None:
    """Refuse subword-nmt's own files, where ``t</w>`` is one initial symbol."""
    made: set[str] = set()
    for number, (left, right) in enumerate(merges, start=2):  # line 1 is the header
        for symbol in (left, right):
            if len(symbol) > 1 and symbol != END_OF_WORD and symbol not in made:
                if symbol.endswith(END_OF_WORD):
                    raise fail(
                        path,
                        f"line {number} uses {symbol!r}, which glues {END_OF_WORD!r} to a character as subword-nmt "
                        f"does; the classic model here keeps {END_OF_WORD!r} as a symbol of its own, so this "
                        "file's merges would segment differently and cannot be imported exactly",
                    )
                raise fail(path, f"line {number} uses {symbol!r}, which no earlier merge makes")
        made.add(left + right)
