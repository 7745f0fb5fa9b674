"""Byte-level BPE done one character at a time first: the encode shortcut for CJK.

A byte-level word is spelled in bytes, so a Chinese word of eight characters
starts as 24 symbols, and most of its merges only rebuild its characters
(``e4 b8`` + ``ad`` -> ``中``).  :class:`CharPieces` remembers, per
character, what BPE makes of that character's bytes alone, so a word can
start from its characters' pieces (``word.translate(pieces)``, in C) and the
merge loop only does the merges between characters::

    >>> from bpe_core import train
    >>> tok = train("中文 中文 中国", vocab_size=262)
    >>> pieces = CharPieces.build(tok.merge_ranks, tok._byte_ids, tok.token_bytes)
    >>> [len(pieces[ord(c)]) for c in "中x"]   # 中: one token (3 bytes merged); x: one byte
    [1, 1]

Starting there gives exactly the ids of BPE on the bytes when two things
hold, which :meth:`build` and :meth:`__missing__` check:

* every merge ranks after the merges that make its two tokens (true of any
  trained table).  Then merges happen in rank order, and a pair that shows
  up early (because a character was whole from the start) still waits for
  its rank, as it would have;
* no piece that a character passes through on its way (first or last
  piece of each state) is an input of a merge that would join it with
  something outside the character (a "crossing" merge, such as ``(bd,
  数)``: a trailing byte glued to the next character, or ``(Ġ, e4)``) and
  that ranks between the merges that make and unmake that state: only then
  could the crossing merge have happened.  A character for which that
  fails (2% of the characters of the Chinese test corpus, such as ``函``,
  whose last byte can join ``数``) keeps its bytes, and the merge loop does
  its merges as before.

Why mixing the two is exact: merges then happen in rank order; a pre-merged
character's intermediate states could only matter through a crossing merge,
which the check above rules out; and any merge that takes a character's
finished token ranks after the merges that make that token, so by its rank
the character would have been finished anyway.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Callable

from .merging import apply_merges

#: Characters remembered per tokenizer (about 100 bytes each): texts hold a
#: few thousand distinct characters, and a text of every code point must
#: not grow the table without bound.
MAX_CHARS = 1 << 16
_NEVER = 1 << 62


class CharPieces(dict):
    """``ord(char)`` -> the character's tokens after BPE on its bytes alone
    (or its bytes, where that would not be exact), one ``chr(id)`` each;
    filled on first use."""

    def __init__(self, merge_ranks, byte_ids, crossing_left, crossing_right):
        super().__init__((b, chr(byte_ids[b])) for b in range(128))  # ASCII: one byte, one token
        self.merge_ranks = merge_ranks
        self.byte_ids = byte_ids
        self.crossing_left = crossing_left
        self.crossing_right = crossing_right

    @classmethod
    def build(
        cls,
        merge_ranks: dict[tuple[int, int], tuple[int, int]],
        byte_ids: list[int],
        token_bytes: Callable[[int], bytes],
    ) -> "CharPieces | None":
        """The table for a byte-level merge table, or None if the shortcut would not be exact."""
        made_at: dict[int, int] = {}  # token id -> the highest rank that makes it
        for rank, new_id in merge_ranks.values():
            made_at[new_id] = max(rank, made_at.get(new_id, -1))
        if max(byte_ids) >= 0x110000 or max(made_at, default=0) >= 0x110000:
            return None  # an id that is not a character
        partial: dict[int, bool] = {}

        def is_partial(token_id: int) -> bool:
            found = partial.get(token_id)
            if found is None:
                try:
                    token_bytes(token_id).decode("utf-8")
                    found = False
                except UnicodeDecodeError:
                    found = True
                partial[token_id] = found
            return found

        # token -> ranks of the crossing merges that take it on that side
        crossing_left: dict[int, list[int]] = {}
        crossing_right: dict[int, list[int]] = {}
        for (left, right), (rank, _new_id) in merge_ranks.items():
            if rank <= made_at.get(left, -1) or rank <= made_at.get(right, -1):
                return None  # a merge ranked before one that makes its input: merges are not in rank order
            left_partial, right_partial = is_partial(left), is_partial(right)
            if not (left_partial or right_partial):
                continue  # whole characters on both sides: not the shortcut's concern
            if left_partial and right_partial and _within_one_character(token_bytes(left) + token_bytes(right)):
                continue  # rebuilds part of one character
            if left_partial:
                crossing_left.setdefault(left, []).append(rank)
            if right_partial:
                crossing_right.setdefault(right, []).append(rank)
        for ranks in (*crossing_left.values(), *crossing_right.values()):
            ranks.sort()
        return cls(merge_ranks, byte_ids, crossing_left, crossing_right)

    def __missing__(self, code: int) -> str:
        encoded = chr(code).encode("utf-8")  # a lone surrogate raises here, and the caller spells in bytes
        state = [self.byte_ids[b] for b in encoded]
        trace: list = []
        final = apply_merges(state, self.merge_ranks, trace=trace)
        pieces = "".join(map(chr, final))
        # Each state lasts from the rank of the merge that made it to the rank of the next one.
        since = -1
        for rank, new_id, index in (*trace, (_NEVER, None, None)):
            if self._crosses(state, since, rank):
                pieces = "".join(chr(self.byte_ids[b]) for b in encoded)
                break
            if new_id is not None:
                state[index : index + 2] = [new_id]
            since = rank
        if len(self) < MAX_CHARS:
            self[code] = pieces
        return pieces

    def _crosses(self, state: list[int], since: int, until: int) -> bool:
        """Whether a crossing merge ranked between ``since`` and ``until`` takes the state's first or last piece."""
        if len(state) == 1:
            return False  # one token is the whole character
        for ranks in (self.crossing_right.get(state[0]), self.crossing_left.get(state[-1])):
            if ranks is not None:
                after = bisect_right(ranks, since)
                if after < len(ranks) and ranks[after] < until:
                    return True
        return False


def _within_one_character(data: bytes) -> bool:
    """Whether bytes can all belong to one UTF-8 character: at most 4, and
    only the first may be other than a continuation byte (0x80-0xBF).

    >>> _within_one_character(b"\\xe4\\xb8"), _within_one_character(b"\\xad\\xe6")
    (True, False)
    """
    return len(data) <= 4 and all(0x80 <= b < 0xC0 for b in data[1:])
