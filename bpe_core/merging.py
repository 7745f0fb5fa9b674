"""Applying learned merges to one word: the BPE model at encode time.

Given the symbols of a word and a table ``merge_ranks[(left, right)] =
(rank, new_id)``, repeatedly merge the adjacent pair with the lowest rank,
leftmost first among equal ranks, until no pair in the table is left::

    >>> ranks = {(1, 2): (0, 10), (10, 3): (1, 11)}
    >>> apply_merges([1, 2, 3, 1, 2], ranks)
    [11, 10]

The candidates sit in a heap and the word in a linked list, so a word of
``n`` symbols costs ``O(n log n)``: a run of 100,000 letters with no space
stays fast.

``monotonic=True`` applies the merges strictly in rank order, never going
back to a lower rank that a later merge makes possible.  That is classic
BPE's "apply the merge list in order" (what training did to every word);
byte-level BPE (Hugging Face, tiktoken) always takes the lowest rank present.

``trace`` (a list) receives one ``(rank, new_id, index)`` per merge, for
explanations: the merge joined the symbols at ``index`` and ``index + 1``
of the word as it stood just before.  Each entry is the change, not the
whole word, so a trace stays linear in the word's length::

    >>> trace = []
    >>> apply_merges([1, 2, 3, 1, 2], ranks, trace=trace)
    [11, 10]
    >>> trace
    [(0, 10, 0), (0, 10, 2), (1, 11, 0)]
"""

from __future__ import annotations

import heapq


def apply_merges(
    symbols: list[int],
    merge_ranks: dict[tuple[int, int], tuple[int, int]],
    *,
    monotonic: bool = False,
    trace: list | None = None,
) -> list[int]:
    """Merge ``symbols`` by ``merge_ranks``; returns the token ids."""
    length = len(symbols)
    if length < 2:
        return list(symbols)
    current = list(symbols)  # current[i]: token starting at i (or -1 once absorbed)
    following = list(range(1, length + 1))  # next live position (length = end)
    preceding = list(range(-1, length - 1))
    # Candidates are (rank, position, left, right, new_id): an entry is still
    # valid while the tokens at its position are its left and right.
    pairs = list(zip(current, current[1:]))
    candidates = [
        (found[0], position, pair[0], pair[1], found[1])
        for position, (pair, found) in enumerate(zip(pairs, map(merge_ranks.get, pairs)))
        if found is not None
    ]
    heapq.heapify(candidates)
    live = _LivePositions(length) if trace is not None else None
    floor = -1
    while candidates:
        rank, position, left, right, new_id = heapq.heappop(candidates)
        if current[position] != left:
            continue  # this position was absorbed or rewritten since the push
        right_position = following[position]
        if right_position >= length or current[right_position] != right or (monotonic and rank < floor):
            continue
        floor = rank
        current[position] = new_id
        current[right_position] = -1
        after = following[right_position]
        following[position] = after
        if after < length:
            preceding[after] = position
        before = preceding[position]
        if before >= 0:
            found = merge_ranks.get((current[before], new_id))
            if found is not None:
                heapq.heappush(candidates, (found[0], before, current[before], new_id, found[1]))
        if after < length:
            found = merge_ranks.get((new_id, current[after]))
            if found is not None:
                heapq.heappush(candidates, (found[0], position, new_id, current[after], found[1]))
        if live is not None:
            trace.append((rank, new_id, live.before(position)))
            live.remove(right_position)
    return [token for token in current if token >= 0]


class _LivePositions:
    """Which of ``n`` positions are still live, and how many live ones come
    before a given one, each in ``O(log n)`` (a Fenwick tree of ones).

    >>> live = _LivePositions(5)
    >>> live.remove(1)
    >>> live.before(3)
    2
    """

    def __init__(self, n: int):
        tree = [0] + [1] * n
        for i in range(1, n + 1):  # O(n) construction: each node adds itself to its parent
            parent = i + (i & -i)
            if parent <= n:
                tree[parent] += tree[i]
        self._tree = tree

    def before(self, position: int) -> int:
        tree, total, i = self._tree, 0, position
        while i > 0:
            total += tree[i]
            i -= i & -i
        return total

    def remove(self, position: int) -> None:
        tree, i, n = self._tree, position + 1, len(self._tree) - 1
        while i <= n:
            tree[i] -= 1
            i += i & -i
