"""Learning merges from word counts: one incremental mechanism for every BPE family.

The textbook algorithm (Sennrich et al. 2016) is a loop::

    vocab = {"l o w </w>": 5, "l o w e r </w>": 2, ...}
    for _ in range(num_merges):
        pairs = get_stats(vocab)             # count every adjacent pair
        best = max(pairs, key=pairs.get)     # the most frequent one
        vocab = merge_vocab(best, vocab)     # glue it everywhere

It recounts every pair of every word for every merge.  :class:`BPETrainer`
learns the same merges without recounting:

* each distinct word is stored once, with its count (``word_counts``), as
  a string of one character per token, so that finding and replacing a
  pair in it are ``str`` methods that run in C;
* ``pair_counts[pair]`` is kept exact: merging ``(a, b)`` into ``c`` only
  changes pairs next to the merge sites, so only those are updated, and
  only in the words listed in ``words_with_pair[(a, b)]``;
* the best pair comes from a max-heap that is updated lazily: an entry
  whose count went stale is re-pushed with the current count when it
  reaches the top.

The two BPE families (:mod:`bpe_core.families`) differ here only in how a
word is spelled (``family.alphabet``, ``family.training_speller``) and how
ties between equally frequent pairs are broken (``family.tie_break``):

* ``"first_occurrence"`` (classic): the pair whose first occurrence in the
  current segmentation comes first (words in the order first seen, then
  left to right), which is what ``max(pairs, key=pairs.get)`` does over
  the insertion-ordered reference dicts;
* ``"smallest_ids"`` (byte-level): the smallest ``(id_left, id_right)``, as
  in Hugging Face ``tokenizers``' ``BpeTrainer``.

>>> from bpe_core.families import CLASSIC
>>> result = learn_merges({"low": 5, "lower": 2, "newest": 6, "widest": 3},
...                       CLASSIC, MergeLimits(max_merges=3))
>>> result.merges
[('e', 's'), ('es', 't'), ('est', '</w>')]
"""

from __future__ import annotations

import heapq
import time
from collections import defaultdict
from dataclasses import dataclass
from operator import add
from typing import Sequence

from .base import ProgressCallback, StopCheck
from .errors import BPEError, TrainingCancelled
from .families import BPEFamily
from .gc_pause import cyclic_gc_paused

# How often (seconds) training looks at the progress callback and stop check.
_CHECK_INTERVAL = 0.05

# A first-occurrence heap entry's first occurrence before it is looked up:
# it sorts before every real one, so the entry still ranks no lower than the
# pair truly does (what the lazy heap needs), and _pop_best replaces it with
# the real one when it reaches the top.  Looking first occurrences up only
# there saves most of them: 1000 merges on 1 MB of English push 24,000 entries.
_UNKNOWN_FIRST = (-1, -1)


@dataclass(frozen=True)
class MergeLimits:
    """When training stops: at ``max_vocab`` tokens, after ``max_merges``
    merges, or when the best pair occurs fewer than ``min_frequency`` times
    (and always when no pair is left)."""

    max_vocab: int | None = None
    max_merges: int | None = None
    min_frequency: int = 0


@dataclass
class MergeResult:
    """What training learned: the vocabulary (id order) and the merges (rank order)."""

    tokens: list[str]
    merges: list[tuple[str, str]]
    stop_reason: str
    seconds: float = 0.0


def learn_merges(
    word_counts: dict[str, int],
    family: BPEFamily,
    limits: MergeLimits,
    *,
    reserved: Sequence[str] = (),
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> MergeResult:
    """Learn merges from ``{word: count}`` (insertion order = order first seen).

    ``reserved`` tokens (special tokens) take the first ids and never merge.
    """
    with cyclic_gc_paused():
        return BPETrainer(word_counts, family, reserved, should_stop).run(limits, on_progress)


#: A word is stored as a ``str`` with one character per token, ``chr(id)``:
#: then counting a pair's occurrences, finding them and replacing them (BPE's
#: leftmost, non-overlapping merge) are ``str.count``, ``str.find`` and
#: ``str.replace``, which run in C.  A pair's key is its two characters, which
#: sort like ``(left, right)`` ids.  Hence the vocabulary limit.
MAX_TOKENS = 0x110000


def pair_key(left: int, right: int) -> str:
    """The two-character key of the pair ``(left, right)``.

    >>> pair_key(104, 105)
    'hi'
    """
    return chr(left) + chr(right)


def split_pair_key(key: str) -> tuple[int, int]:
    """The pair a key stands for.

    >>> split_pair_key(pair_key(7, 300))
    (7, 300)
    """
    return ord(key[0]), ord(key[1])


class BPETrainer:
    """The state of one training run; see the module docstring."""

    def __init__(
        self,
        word_counts: dict[str, int],
        family: BPEFamily,
        reserved: Sequence[str] = (),
        should_stop: StopCheck | None = None,
    ):
        self.family = family
        # Ties by smallest ids need nothing in the heap entry but the pair key (keys sort like ids).
        self.ties_by_ids = family.tie_break == "smallest_ids"
        self.should_stop = should_stop
        self.token_strings: list[str] = []
        self.token_id: dict[str, int] = {}
        for token in [*reserved, *family.alphabet(word_counts)]:
            self._intern(token)
        self.words: list[str] = []  # each word's tokens, as chr(id) characters
        self.word_counts: list[int] = list(word_counts.values())
        self.pair_counts: defaultdict[str, int] = defaultdict(int)
        # May list words that no longer hold the pair, or a word twice
        # (cleaned lazily).  Lists, not sets: most pairs are rare, and a
        # one-element set costs three times a one-element list.
        self.words_with_pair: defaultdict[str, list[int]] = defaultdict(list)
        self._spell_and_count_pairs(word_counts)
        self.heap = self._initial_heap()

    def _intern(self, token: str) -> int:
        """The id of a token string, adding it if new (equal strings share one id)."""
        token_id = self.token_id.get(token)
        if token_id is None:
            token_id = self.token_id[token] = len(self.token_strings)
            if token_id >= MAX_TOKENS:
                raise BPEError(f"a vocabulary is limited to {MAX_TOKENS} tokens")
            self.token_strings.append(token)
        return token_id

    def _spell_and_count_pairs(self, word_counts: dict[str, int]) -> None:
        spell = self.family.training_speller(self.token_id)
        pair_counts = self.pair_counts
        words_with_pair = self.words_with_pair
        for index, (text, count) in enumerate(word_counts.items()):
            if index % 8192 == 0 and self.should_stop is not None and self.should_stop():
                raise TrainingCancelled("training was cancelled while counting pairs")
            word = spell(text)
            self.words.append(word)
            for key in map(add, word, word[1:]):  # the word's pair keys, made in C
                pair_counts[key] += count
                holders = words_with_pair[key]
                if not holders or holders[-1] != index:
                    holders.append(index)

    def _initial_heap(self) -> list[tuple]:
        if self.ties_by_ids:
            heap = [(-count, key) for key, count in self.pair_counts.items()]
        else:
            # First occurrences are found only for the pairs that reach the
            # top (see _UNKNOWN_FIRST): a few thousand, not every pair.
            heap = [(-count, _UNKNOWN_FIRST, key) for key, count in self.pair_counts.items()]
        heapq.heapify(heap)
        return heap

    # --- choosing the best pair -------------------------------------------

    def _heap_entry(self, key: str) -> tuple:
        """Heap key: most frequent first, then the family's tie-break.

        ``smallest_ids`` needs nothing more: pair keys sort like (left, right).
        """
        if self.ties_by_ids:
            return (-self.pair_counts[key], key)
        return (-self.pair_counts[key], self._first_occurrence(key), key)

    def _first_occurrence(self, key: str) -> tuple[int, int]:
        """(word index, character offset) of the pair's first occurrence.

        Character offsets (unlike symbol indices) do not move when other
        merges happen in the word, so a stored key only goes stale when the
        occurrence itself disappears.
        """
        holders = self.words_with_pair.get(key)
        if not holders:
            return (0, 0)
        # Sorted (fast on the mostly sorted lists left by earlier calls),
        # then the stale listings before the first real one are dropped.
        ordered = sorted(holders)
        words = self.words
        for skipped, index in enumerate(ordered):
            word = words[index]
            position = word.find(key)
            if position >= 0:
                holders[:] = ordered[skipped:] if skipped else ordered
                token_strings = self.token_strings
                return (index, sum(len(token_strings[ord(token)]) for token in word[:position]))
        holders.clear()
        return (0, 0)

    def _pop_best(self) -> str | None:
        """The best pair's key by the tie-break, or None when no pair is left."""
        heap = self.heap
        pair_counts = self.pair_counts
        while heap:
            entry = heap[0]
            key = entry[-1]
            if pair_counts.get(key, 0) <= 0:
                heapq.heappop(heap)
                continue
            current = self._heap_entry(key)
            if current == entry:
                heapq.heappop(heap)
                return key
            heapq.heapreplace(heap, current)
        return None

    # --- merging ----------------------------------------------------------

    def _merge(self, key: str) -> int:
        """Replace every occurrence of a pair by a new token; returns its id."""
        left, right = key
        new_id = self._intern(self.token_strings[ord(left)] + self.token_strings[ord(right)])
        new = chr(new_id)
        words = self.words
        word_counts = self.word_counts
        # Around each merge site (x a b y -> x ab y) the pairs (x, a) and
        # (b, y) are lost and (x, ab) and (ab, y) gained; nothing else changes.
        lost: defaultdict[str, int] = defaultdict(int)
        # A gained pair lists its word once per site, so its count is the
        # sum of those words' counts (summed at C speed after the loop).
        gained_at: defaultdict[str, list[int]] = defaultdict(list)
        for index in dict.fromkeys(self.words_with_pair.pop(key, ())):
            word = words[index]
            sites = word.count(key)  # leftmost, non-overlapping: BPE's merge sites
            if not sites:
                continue  # a stale listing
            count = word_counts[index]
            last = len(word) - 2
            position = -2
            for _ in range(sites):
                end_of_previous = position + 2
                position = word.find(key, end_of_previous)
                if position:
                    # Right after the previous site, the left neighbour is already the new token.
                    before = new if position == end_of_previous else word[position - 1]
                    lost[before + left] += count
                    gained_at[before + new].append(index)
                if position < last:
                    after = word[position + 2]
                    lost[right + after] += count
                    gained_at[new + after].append(index)
            words[index] = word.replace(key, new)
        pair_counts = self.pair_counts
        for lost_key, count in lost.items():
            pair_counts[lost_key] -= count
        pair_counts.pop(key, None)
        # Only pairs that gained occurrences can have a better key than their
        # heap entries; the others are fixed lazily in _pop_best.
        words_with_pair = self.words_with_pair
        heap = self.heap
        ties_by_ids = self.ties_by_ids
        count_of = word_counts.__getitem__
        for gained_key, sites in gained_at.items():
            words_with_pair[gained_key] += sites
            count = pair_counts[gained_key] = pair_counts[gained_key] + sum(map(count_of, sites))
            if count > 0:
                # (-count, key) is _heap_entry's byte-level key, inlined: this runs for every new pair.
                heapq.heappush(heap, (-count, gained_key) if ties_by_ids else (-count, _UNKNOWN_FIRST, gained_key))
        return new_id

    def run(self, limits: MergeLimits, on_progress: ProgressCallback | None = None) -> MergeResult:
        """Merge the best pair until a limit is reached; report progress now and then."""
        started = time.perf_counter()
        max_vocab, max_merges, min_frequency = limits.max_vocab, limits.max_merges, limits.min_frequency
        should_stop = self.should_stop
        merges: list[tuple[str, str]] = []
        targets = []
        if max_vocab is not None:
            targets.append(max(0, max_vocab - len(self.token_strings)))
        if max_merges is not None:
            targets.append(max(0, max_merges))
        total = min(targets) if targets else len(self.pair_counts)
        last_check = time.monotonic()
        stop_reason = "no_pairs_left"
        while True:
            if max_vocab is not None and len(self.token_strings) >= max_vocab:
                stop_reason = "vocab_size"
                break
            if max_merges is not None and len(merges) >= max_merges:
                stop_reason = "num_merges"
                break
            now = time.monotonic()
            if now - last_check >= _CHECK_INTERVAL:
                last_check = now
                if should_stop is not None and should_stop():
                    raise TrainingCancelled("training was cancelled while merging")
                if on_progress is not None:
                    on_progress("merging", len(merges), total)
            key = self._pop_best()
            if key is None:
                break
            count = self.pair_counts[key]
            if count < min_frequency:
                stop_reason = "min_frequency"
                break
            left, right = split_pair_key(key)
            merges.append((self.token_strings[left], self.token_strings[right]))
            self._merge(key)
        if on_progress is not None:
            on_progress("merging", len(merges), len(merges))
        return MergeResult(list(self.token_strings), merges, stop_reason, time.perf_counter() - started)

