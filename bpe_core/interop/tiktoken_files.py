"""tiktoken rank files (``.tiktoken``) in and out.

A rank file lists every mergeable token as its bytes in base64 and its
rank, one per line (``IGhp 256`` is the token ``b" hi"`` with rank 256).  In
tiktoken a token's rank is also its id *and* its merge priority: while
encoding, the adjacent pair whose concatenation has the lowest rank is
merged first.  There is no merge list, no pattern and no special token in
the file, so export writes a small JSON companion (``NAME.tiktoken.json``)
holding the pattern, the special tokens and the Python lines that build the
``tiktoken.Encoding``.

>>> from bpe_core import train
>>> tok = train("hello hello world", vocab_size=260)
>>> lines = rank_file_text(tok).splitlines()
>>> lines[-1]
'aGVsbG8= 259'
>>> tokenizer_from_ranks(parse_rank_file("\\n".join(lines), "x.tiktoken"), "gpt2", {}, "x.tiktoken").encode("hello")
[259]

On import the merges are recovered from the ranks: for each token, in rank
order, BPE with the lower ranks must split its bytes into exactly two
tokens, which become its merge (:func:`recover_merges`).
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Mapping, Sequence

from ..byte_symbols import bytes_to_symbols
from ..errors import BPEError
from ..merging import apply_merges
from ..pretokenize import PreTokenizer
from ..tokenizer import Tokenizer
from .files import (
    add_entry,
    build_tokenizer,
    check_count,
    fail,
    read_json,
    read_lines,
    require_mode,
    write_json,
    write_text,
)

SPEC_FORMAT = "bpe_core.tiktoken_spec"
SUFFIX = ".tiktoken"

#: Tokens longer than this are refused on import (real vocabularies stay far below it).
MAX_TOKEN_BYTES = 4096
#: Merge recovery may touch this many bytes per byte of the file's tokens
#: (real files: about 3), so its time and memory follow the file's size.
MERGE_BYTES_PER_TOKEN_BYTE = 16

# tiktoken spells GPT-2's pattern this way (its r50k_pat_str).  It matches
# what ours matches: possessive runs give nothing back because nothing
# follows them, and "\s++$|...|\s" ends a whitespace run where "\s+" would.
_TIKTOKEN_GPT2 = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""


def spec_path(rank_path: Path) -> Path:
    """Where the companion JSON of a rank file lives: ``NAME.tiktoken.json``."""
    return rank_path.with_name(rank_path.name + ".json")


# --- export -------------------------------------------------------------------


def tiktoken_ranks(tokenizer: Tokenizer) -> dict[bytes, int]:
    """Our ids as tiktoken ranks, after checking tiktoken will encode as we do.

    tiktoken merges by the id of the merged token, and takes a word found in
    the ranks as one token without merging; so the merges must create ids in
    increasing order, and every token must be what the merges make of its
    own bytes.  Tokenizers trained here or by ``tokenizers`` satisfy both.
    """
    require_mode(tokenizer, "byte_level", "tiktoken")
    specials = tokenizer.special_tokens
    previous_id, previous_merge = -1, None
    for rank, (left, right) in enumerate(tokenizer.merges):
        merged = left + right
        if merged in specials:
            raise BPEError(f"merge #{rank} ({left!r}, {right!r}) makes the special token {merged!r}; "
                           "tiktoken keeps special tokens out of the ranks, so it cannot hold this tokenizer")
        token_id = tokenizer.vocab[merged]
        if token_id < previous_id:
            raise BPEError(
                f"merge #{rank} ({left!r}, {right!r}) creates id {token_id}, lower than the id {previous_id} "
                f"created by the earlier merge {previous_merge!r}; tiktoken merges in id order, so its "
                "encoding would differ. Only tokenizers whose merges create ids in increasing order can be "
                "exported to tiktoken (any tokenizer trained by bpe_core or tokenizers' BpeTrainer)"
            )
        previous_id, previous_merge = token_id, (left, right)
    ranks = {}
    for token, token_id in tokenizer.vocab.items():
        if token in specials:
            continue
        if len(token) > 1:
            ids = apply_merges([tokenizer.vocab[s] for s in token], tokenizer.merge_ranks)
            if ids != [token_id]:
                parts = [tokenizer.id_to_token[i] for i in ids]
                raise BPEError(
                    f"token {token!r} (id {token_id}) is not what the merges make of its own bytes ({parts}); "
                    "tiktoken takes a word found in its ranks as one token, so a word spelled like this token "
                    "would encode differently there"
                )
        ranks[tokenizer.token_bytes(token_id)] = token_id
    return ranks


def rank_file_text(tokenizer: Tokenizer) -> str:
    ranks = tiktoken_ranks(tokenizer)
    return "".join(f"{base64.b64encode(token).decode('ascii')} {rank}\n"
                   for token, rank in sorted(ranks.items(), key=lambda item: item[1]))


def tiktoken_pattern(tokenizer: Tokenizer) -> str:
    """The ``pat_str`` to give tiktoken (its own spelling for the presets)."""
    if tokenizer.pattern_name == "gpt2":
        return _TIKTOKEN_GPT2
    return tokenizer.pre_tokenizer.pattern


def export_tiktoken(tokenizer: Tokenizer, destination: str | os.PathLike) -> list[Path]:
    """Write ``NAME.tiktoken`` and its companion ``NAME.tiktoken.json``."""
    path = Path(destination)
    if path.is_dir():
        path = path / f"tokenizer{SUFFIX}"
    text = rank_file_text(tokenizer)
    name = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem
    spec = {
        "format": SPEC_FORMAT,
        "name": name,
        "mergeable_ranks": path.name,
        "pat_str": tiktoken_pattern(tokenizer),
        "special_tokens": dict(sorted(tokenizer.special_tokens.items(), key=lambda item: item[1])),
        "n_vocab": max(tokenizer.id_to_token) + 1,  # what tiktoken's Encoding.n_vocab reports
        "usage": usage_snippet(path.name, spec_path(path).name),
    }
    return [write_text(path, text), write_json(spec_path(path), spec)]


def usage_snippet(rank_file: str, spec_file: str) -> str:
    """Python lines that build the ``tiktoken.Encoding`` from the two files.

    The rank file is parsed directly: ``tiktoken.load.load_tiktoken_bpe``
    caches files by path, so it would keep serving an older export.
    """
    return (
        "import base64, json, tiktoken\n"
        f"spec = json.load(open({spec_file!r}, encoding='utf-8'))\n"
        f"ranks = {{base64.b64decode(t): int(r) for t, r in (line.split() for line in open({rank_file!r}, 'rb') if line.strip())}}\n"
        "enc = tiktoken.Encoding(spec['name'], pat_str=spec['pat_str'], mergeable_ranks=ranks, "
        "special_tokens=spec['special_tokens'])\n"
    )


# --- import -------------------------------------------------------------------


def parse_rank_file(text: str, path) -> dict[bytes, int]:
    """``{token bytes: rank}`` from rank-file text; any malformed line is an error."""
    ranks: dict[bytes, int] = {}
    owner: dict[int, bytes] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            shown = line if len(line) <= 60 else line[:60] + "..."
            raise fail(path, f"line {number} should be '<base64 token> <rank>', found {shown!r}; "
                             "this is not a tiktoken rank file, or it is corrupt")
        try:
            token = base64.b64decode(parts[0], validate=True)
        except (binascii.Error, ValueError):
            raise fail(path, f"line {number}: {parts[0]!r} is not valid base64") from None
        if not token:
            raise fail(path, f"line {number}: the token is empty")
        add_entry(ranks, owner, token, int(parts[1]), path, f"line {number}", earlier="an earlier line",
                  id_name="rank")
    if not ranks:
        raise fail(path, "holds no tokens (an empty or truncated rank file)")
    return ranks


def recover_merges(ranks: dict[bytes, int], path) -> list[tuple[bytes, bytes]]:
    """The merge list (as byte pairs, in rank order) that reproduces tiktoken.

    Each token's first merge is the pair BPE with the lower ranks leaves of
    its bytes; any other split of it into two tokens follows, with the same
    priority, because tiktoken merges *any* adjacent pair whose
    concatenation is a token.

    >>> ranks = {bytes([b]): b for b in range(256)} | {b"ab": 256, b"bc": 257, b"abc": 258}
    >>> recover_merges(ranks, "x")
    [(b'a', b'b'), (b'b', b'c'), (b'ab', b'c'), (b'a', b'bc')]

    The cost stays linear in the file: BPE over a token of ``n`` bytes is
    ``O(n log n)`` (:func:`~bpe_core.merging.apply_merges`), and the other
    splits are only tried where both parts have the length of some token.
    A token longer than :data:`MAX_TOKEN_BYTES`, or a file whose tokens
    split in so many ways that the merges would spell more than
    :data:`MERGE_BYTES_PER_TOKEN_BYTE` times the bytes of its tokens, is
    refused before the work or the memory runs away.
    """
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise fail(path, f"lacks {len(missing)} of the 256 single bytes (for example 0x{missing[0]:02x}); "
                         "byte-level BPE needs every byte as a token")
    longest = max(ranks, key=len)
    if len(longest) > MAX_TOKEN_BYTES:
        raise fail(path, f"token {longest[:16]!r}... (rank {ranks[longest]}) is {len(longest):,} bytes long; "
                         f"tokens of more than {MAX_TOKEN_BYTES:,} bytes are refused (real vocabularies stay "
                         "under a few hundred), so this file cannot be imported")
    # Work done (bytes sliced and hashed, bytes of merges kept) may grow with
    # the file's own size, not with the square of its longest token.
    budget = MERGE_BYTES_PER_TOKEN_BYTE * sum(map(len, ranks)) + (1 << 20)
    work = 0
    token_of = {rank: token for token, rank in ranks.items()}
    lengths = sorted({len(token) for token in ranks})
    length_set = set(lengths)
    merge_ranks: dict[tuple[int, int], tuple[int, int]] = {}
    merges: list[tuple[bytes, bytes]] = []
    byte_rank = [ranks[bytes([b])] for b in range(256)]
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        size = len(token)
        if size < 2:
            continue
        parts = apply_merges([byte_rank[b] for b in token], merge_ranks)
        if len(parts) != 2:
            raise fail(
                path,
                f"token {token!r} (rank {rank}) is not the merge of two lower-ranked tokens: BPE with the lower "
                f"ranks splits it into {len(parts)} parts, so no merge list reproduces this file",
            )
        first_cut = len(token_of[parts[0]])
        splits = [first_cut]
        for cut in lengths:
            if cut >= size:
                break
            if cut != first_cut and size - cut in length_set:
                work += size
                if token[:cut] in ranks and token[cut:] in ranks:
                    splits.append(cut)
        work += size * len(splits)
        if work > budget:
            raise fail(path, f"its tokens split into pairs of tokens in too many ways (by token {token[:16]!r}, "
                             f"rank {rank}): recovering the merges would take more than "
                             f"{MERGE_BYTES_PER_TOKEN_BYTE} times the bytes of the tokens, so this file cannot be "
                             "imported")
        for cut in splits:
            left_bytes, right_bytes = token[:cut], token[cut:]
            merge_ranks.setdefault((ranks[left_bytes], ranks[right_bytes]), (len(merges), rank))
            merges.append((left_bytes, right_bytes))
    return merges


def tokenizer_from_ranks(ranks: dict[bytes, int], pattern: str, special_tokens: dict[str, int], path) -> Tokenizer:
    """A tokenizer whose ids are the ranks, with merges recovered from them."""
    merges = recover_merges(ranks, path)
    vocab = {bytes_to_symbols(token): rank for token, rank in ranks.items()}
    owner = {rank: token for token, rank in ranks.items()}  # bytes, as people read a rank file
    for special, token_id in special_tokens.items():
        if not isinstance(special, str) or not special or not isinstance(token_id, int) or token_id < 0:
            raise fail(path, f"special token {special!r} -> {token_id!r}: special tokens map non-empty strings to ids")
        if special in vocab:
            raise fail(path, f"special token {special!r} is spelled like a mergeable token; give it another name")
        add_entry(vocab, owner, special, token_id, path, f"special token {special!r}", earlier="the rank file")
    return build_tokenizer(
        path,
        mode="byte_level",
        vocab=vocab,
        merges=[(bytes_to_symbols(a), bytes_to_symbols(b)) for a, b in merges],
        pattern=pattern,
        special_tokens=sorted(special_tokens, key=special_tokens.get),
    )


def import_tiktoken(
    path: str | os.PathLike,
    *,
    pattern: str | None = None,
    special_tokens: Mapping[str, int] | Sequence[str] | None = None,
    max_vocab_size: int | None = None,
) -> Tokenizer:
    """Read a rank file; ``pattern`` and ``special_tokens`` default to those of
    its companion ``NAME.tiktoken.json`` when there is one.  Special tokens
    given by name only are numbered after the last rank, as tiktoken's own
    encodings do.  With ``max_vocab_size``, a file with more tokens is
    refused before any is decoded."""
    path = Path(path)
    text = read_lines(path, "the rank file", max_vocab_size)
    ranks = parse_rank_file(text, path)
    del text
    spec = _read_spec(spec_path(path)) if spec_path(path).is_file() else {}
    pattern = pattern or spec.get("pat_str")
    if pattern is None:
        raise BPEError(
            f"{path}: a tiktoken rank file holds no pre-tokenizer pattern; pass the one it was made with: "
            f"pattern='cl100k', 'o200k', 'gpt2' or the regex itself"
        )
    if pattern == _TIKTOKEN_GPT2:
        pattern = "gpt2"
    PreTokenizer.create(pattern)  # a bad pattern fails here, before the work
    if special_tokens is None:
        special_tokens = spec.get("special_tokens", {})
    elif not isinstance(special_tokens, Mapping):
        first_free = max(ranks.values()) + 1
        special_tokens = {name: first_free + n for n, name in enumerate(dict.fromkeys(special_tokens))}
    check_count(path, "the rank file with its special tokens", len(ranks) + len(special_tokens), max_vocab_size)
    return tokenizer_from_ranks(ranks, pattern, dict(special_tokens), path)


def _read_spec(path: Path) -> dict:
    spec = read_json(path)
    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
        raise fail(path, f"is not a tiktoken companion file written by bpe_core (format {SPEC_FORMAT!r})")
    if not isinstance(spec.get("pat_str"), str) or not isinstance(spec.get("special_tokens"), dict):
        raise fail(path, "needs a 'pat_str' string and a 'special_tokens' object")
    return spec
