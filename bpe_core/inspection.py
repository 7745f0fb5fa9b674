"""Views of a vocabulary: token lengths, searching, and how a token is built.

Everything here reads a :class:`~bpe_core.tokenizer.Tokenizer` and changes
nothing.  The merge tree answers "where does this token come from?": a
token made by merge #r is the concatenation of the two tokens that merge
joined, each of which is a base symbol or was itself made by an earlier
merge.

>>> from bpe_core import train
>>> tok = train("low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3,
...             mode="classic", num_merges=10)
>>> print(render_tree(merge_tree(tok, tok.vocab["est</w>"])))
est</w>  (merge #2)
├── est  (merge #1)
│   ├── es  (merge #0)
│   │   ├── e
│   │   └── s
│   └── t
└── </w>
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import regex

from .errors import BPEError

TokenKind = Literal["special", "unknown", "end_of_word", "byte", "character", "merged"]
SortKey = Literal["id", "length", "alphabetical"]

#: Seconds a caller-supplied search pattern may run over the whole vocabulary.
SEARCH_TIMEOUT = 2.0


@dataclass
class MergeNode:
    """One token in a merge tree; ``left``/``right`` are absent for base symbols.

    ``cut`` marks a merged token whose parts were left out to keep the tree
    within a size cap (see :func:`merge_tree`).
    """

    id: int
    token: str
    rank: int | None = None  # the merge that made this token
    left: "MergeNode | None" = None
    right: "MergeNode | None" = None
    cut: bool = False


def token_id_of(tokenizer, token: str) -> int | None:
    """The id of a token given as stored (``'Ġlow'``, ``'low</w>'``) or as the text it reads as
    (``' low'``; classic: ``'low'`` for the word-final token), else ``None``.

    >>> from bpe_core import train
    >>> tok = train("low low lower", vocab_size=262)
    >>> token_id_of(tok, "Ġlow") == token_id_of(tok, " low") == tok.vocab["Ġlow"], token_id_of(tok, "zzz")
    (True, None)
    """
    if token in tokenizer.vocab:
        return tokenizer.vocab[token]
    stored = tokenizer.family.stored_form(token)
    return None if stored is None else tokenizer.vocab.get(stored)


def merge_origins(tokenizer) -> dict[int, tuple[int, int, int]]:
    """``{token id: (rank, left id, right id)}`` for every token a merge made.

    A token made by several merges (possible in imported vocabularies)
    keeps the first, as encoding does.
    """
    origins: dict[int, tuple[int, int, int]] = {}
    vocab = tokenizer.vocab
    for rank, (left, right) in enumerate(tokenizer.merges):
        merged = vocab[left + right]
        if merged not in origins:
            origins[merged] = (rank, vocab[left], vocab[right])
    return origins


def token_kind(tokenizer, token_id: int, origins: dict | None = None) -> TokenKind:
    token = tokenizer.id_to_token[token_id]
    if token in tokenizer.special_tokens:
        return "special"
    if tokenizer.unk_token is not None and token == tokenizer.unk_token:
        return "unknown"
    if token == tokenizer.family.end_of_word:
        return "end_of_word"
    origins = merge_origins(tokenizer) if origins is None else origins
    if token_id in origins:
        return "merged"
    return tokenizer.family.base_kind


def merge_tree(
    tokenizer, token_id: int, origins: dict | None = None, *, max_nodes: int | None = None,
    max_depth: int | None = None, max_chars: int | None = None,
) -> MergeNode:
    """How ``token_id`` is built from merges, down to base symbols.

    Built breadth first without recursion, so a chain of thousands of merges
    is fine.  ``max_nodes`` / ``max_depth`` / ``max_chars`` (characters of
    the tokens in the tree) cap it, keeping the nodes nearest the top; a
    merged token whose parts were left out has ``cut=True``.  Uncapped, a tree has fewer than two nodes per symbol of
    the token (a merge's parts are strictly shorter than what it makes).

    >>> from bpe_core import train
    >>> tok = train("aaaa aaaa", vocab_size=258)
    >>> top = merge_tree(tok, tok.vocab["aaaa"], max_depth=1)
    >>> top.left.token, top.left.cut, top.left.left
    ('aa', True, None)
    """
    if token_id not in tokenizer.id_to_token:
        raise BPEError(f"token id {token_id!r} is not in the vocabulary")
    origins = merge_origins(tokenizer) if origins is None else origins
    names = tokenizer.id_to_token
    root = MergeNode(token_id, names[token_id])
    level, depth, nodes, chars = [root], 0, 1, len(root.token)
    while level:
        following = []
        for node in level:
            origin = origins.get(node.id)
            if origin is None:
                continue
            node.rank = origin[0]
            parts_chars = len(names[origin[1]]) + len(names[origin[2]])
            if ((max_depth is not None and depth >= max_depth) or (max_nodes is not None and nodes + 2 > max_nodes)
                    or (max_chars is not None and chars + parts_chars > max_chars)):
                node.cut = True
                continue
            node.left = MergeNode(origin[1], names[origin[1]])
            node.right = MergeNode(origin[2], names[origin[2]])
            following += (node.left, node.right)
            nodes, chars = nodes + 2, chars + parts_chars
        level, depth = following, depth + 1
    return root


def merges_building(tokenizer, token_id: int, origins: dict | None = None) -> list[int]:
    """The ranks of every merge in ``token_id``'s tree, each once, in order:
    the token's recipe as a flat list (its length is bounded by the merges,
    however deep or repetitive the tree).

    >>> from bpe_core import train
    >>> tok = train("aaaa aaaa", vocab_size=258)
    >>> merges_building(tok, tok.vocab["aaaa"])
    [0, 1]
    """
    origins = merge_origins(tokenizer) if origins is None else origins
    ranks, seen, pending = set(), {token_id}, [token_id]
    while pending:
        origin = origins.get(pending.pop())
        if origin is not None:
            ranks.add(origin[0])
            for part in origin[1:]:
                if part not in seen:
                    seen.add(part)
                    pending.append(part)
    return sorted(ranks)


def merge_depth(tokenizer, token_id: int, origins: dict | None = None) -> int:
    """The number of merges on the longest path from ``token_id`` down to a
    base symbol (0 for a base symbol), computed without recursion.

    >>> from bpe_core import train
    >>> tok = train("aaaa aaaa", vocab_size=258)
    >>> merge_depth(tok, tok.vocab["aaaa"]), merge_depth(tok, tok.vocab["a"])
    (2, 0)
    """
    origins = merge_origins(tokenizer) if origins is None else origins
    depth: dict[int, int] = {}
    pending = [token_id]
    while pending:
        node = pending[-1]
        origin = origins.get(node)
        if origin is None:
            depth[node] = 0
            pending.pop()
            continue
        parts = [part for part in origin[1:] if part not in depth]
        if parts:  # its parts first (they are strictly shorter, so this ends)
            pending += parts
            continue
        depth[node] = 1 + max(depth[origin[1]], depth[origin[2]])
        pending.pop()
    return depth[token_id]


def render_tree(node: MergeNode, show=None, *, max_lines: int | None = None) -> str:
    """Draw a merge tree with box characters (for people, not machines).

    ``show(node)`` labels a node (default: the token as stored).  Drawn
    without recursion; ``max_lines`` stops the drawing with a last line
    saying so.
    """
    show = show or (lambda n: n.token)
    lines: list[str] = []
    stack = [(node, "", "")]  # (node, what precedes its line, what precedes its children's lines)
    while stack:
        if max_lines is not None and len(lines) >= max_lines:
            lines.append("... (the rest of the tree is not drawn)")
            break
        current, lead, indent = stack.pop()
        label = show(current)
        if current.rank is not None:
            label += f"  (merge #{current.rank}" + ("; parts not drawn)" if current.cut else ")")
        lines.append(lead + label)
        children = [child for child in (current.left, current.right) if child is not None]
        for position in reversed(range(len(children))):
            last = position == len(children) - 1
            branch, extension = ("└── ", "    ") if last else ("├── ", "│   ")
            stack.append((children[position], indent + branch, indent + extension))
    return "\n".join(lines)


def vocabulary_summary(tokenizer, origins: dict | None = None, *, first_merges: int = 0) -> dict:
    """What a vocabulary holds, as data: the one summary the CLI's ``inspect`` and the server show.

    >>> from bpe_core import train
    >>> info = vocabulary_summary(train("ab ab ab", vocab_size=258), first_merges=1)
    >>> info["vocab_size"], info["base_symbols"], info["length_histogram"], info["first_merges"][0]["token"]
    (258, 256, {1: 256, 2: 1, 3: 1}, 'ab')
    """
    origins = merge_origins(tokenizer) if origins is None else origins
    return {
        "mode": tokenizer.mode,
        "pattern": tokenizer.pattern_name,
        "pattern_regex": tokenizer.pre_tokenizer.pattern,
        "vocab_size": tokenizer.vocab_size,
        "merges": len(tokenizer.merges),
        "base_symbols": tokenizer.vocab_size - len(origins) - len(tokenizer.special_tokens),
        "special_tokens": dict(tokenizer.special_tokens),
        "unk_token": tokenizer.unk_token,
        "length_unit": tokenizer.family.length_unit,
        "length_histogram": length_histogram(tokenizer),
        "first_merges": [
            {"rank": rank, "left": left, "right": right, "token": left + right, "id": tokenizer.vocab[left + right]}
            for rank, (left, right) in enumerate(tokenizer.merges[:first_merges])
        ],
        "training": tokenizer.training.to_dict() if tokenizer.training else None,
    }


def length_histogram(tokenizer) -> dict[int, int]:
    """``{length: number of tokens}`` over the vocabulary, special tokens left out.

    >>> from bpe_core import train
    >>> tok = train("ab ab ab", vocab_size=258)
    >>> length_histogram(tok)
    {1: 256, 2: 1, 3: 1}
    """
    counts: dict[int, int] = {}
    specials = set(tokenizer.special_tokens.values())
    for token_id in tokenizer.id_to_token:
        if token_id not in specials:
            length = tokenizer.token_length(token_id)
            counts[length] = counts.get(length, 0) + 1
    return dict(sorted(counts.items()))


def find_tokens(
    tokenizer,
    *,
    contains: str | None = None,
    pattern: str | None = None,
    sort: SortKey = "id",
    descending: bool = False,
) -> list[int]:
    """Ids of the tokens whose text or stored form matches, in ``sort`` order.

    ``contains`` is a plain substring; ``pattern`` a regular expression
    searched anywhere in the token (both are tried against the readable
    text, ``' the'``, and the stored form, ``'Ġthe'``).

    >>> from bpe_core import train
    >>> tok = train("the then there", vocab_size=270)
    >>> [tok.id_to_token[i] for i in find_tokens(tok, contains="the", sort="length")][:2]
    ['the', 'Ġthe']
    """
    if sort not in ("id", "length", "alphabetical"):
        raise BPEError(f"sort must be 'id', 'length' or 'alphabetical'; got {sort!r}")
    compiled = None
    if pattern is not None:
        try:
            compiled = regex.compile(pattern)
        except regex.error as exc:
            raise BPEError(f"search pattern {pattern!r} is not a valid regular expression: {exc}") from None
    ids = sorted(tokenizer.id_to_token)
    texts = {token_id: tokenizer.token_text(token_id) for token_id in ids}
    selected = []
    deadline = time.monotonic() + SEARCH_TIMEOUT
    try:
        for token_id in ids:
            stored, text = tokenizer.id_to_token[token_id], texts[token_id]
            if contains is not None and contains not in text and contains not in stored:
                continue
            if compiled is not None:
                left = max(deadline - time.monotonic(), 0.001)
                if not (compiled.search(text, timeout=left) or compiled.search(stored, timeout=left)):
                    continue
            selected.append(token_id)
    except TimeoutError:
        raise BPEError(
            f"search pattern {pattern!r} took more than {SEARCH_TIMEOUT:g} s over the vocabulary and was "
            "stopped; simplify it (avoid nested quantifiers such as (a+)+)"
        ) from None
    if sort == "length":
        selected.sort(key=lambda i: (tokenizer.token_length(i), i), reverse=descending)
    elif sort == "alphabetical":
        selected.sort(key=lambda i: (texts[i], i), reverse=descending)
    elif descending:
        selected.reverse()
    return selected
