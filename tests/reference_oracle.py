"""The oracle for the reference tokenizers: tiktoken's own description of each encoding.

``tiktoken_encoding(name)`` runs ``tiktoken_ext.openai_public``'s
constructor with its file loader replaced by one that parses the same
shipped rank file (tiktoken would download it), so the pattern, special
tokens and expected hash are tiktoken's.  ``EMOJI`` is text whose
characters are many bytes and several code points each.
"""

from __future__ import annotations

import base64

import pytest

from bpe_core import reference
from bpe_core.reference import verified_rank_file

EMOJI = "Family 👨‍👩‍👧‍👦, flags 🇯🇵🇫🇷, skin tones 👍🏽 and plain ☕ 🦊; ZWJ sequences 🧑‍💻\n"


def tiktoken_encoding(name: str):
    """tiktoken's Encoding for ``name``, built by tiktoken's own constructor from the shipped rank file."""
    tiktoken = pytest.importorskip("tiktoken")
    openai_public = pytest.importorskip("tiktoken_ext.openai_public")
    spec = reference.reference_spec(name)
    seen_hashes = []

    def load_tiktoken_bpe(url, expected_hash=None):
        seen_hashes.append(expected_hash)
        data = verified_rank_file(spec)
        return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines())}

    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = load_tiktoken_bpe
    try:
        constructor = getattr(openai_public, name)()
    finally:
        openai_public.load_tiktoken_bpe = original
    assert seen_hashes == [spec.sha256]  # we check the hash tiktoken publishes
    assert constructor["special_tokens"] == spec.special_tokens
    return tiktoken.Encoding(
        name=f"{name}-oracle", pat_str=constructor["pat_str"], mergeable_ranks=constructor["mergeable_ranks"],
        special_tokens=constructor["special_tokens"],
    )
