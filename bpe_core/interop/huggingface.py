"""Hugging Face ``tokenizer.json``: a byte-level BPE tokenizer in and out.

A ``tokenizer.json`` describes the whole pipeline (normalizer,
pre-tokenizer, model, post-processor, decoder).  We write, and read back,
the parts a byte-level BPE needs:

* ``pre_tokenizer``: for the ``gpt2`` pattern, ``ByteLevel(use_regex=True)``
  (its built-in regex *is* GPT-2's); for any other pattern a ``Sequence`` of
  ``Split(Regex(pattern))`` and ``ByteLevel(use_regex=False)``;
* ``model``: ``BPE`` with our vocabulary and merges (tokenizers, like us,
  merges the lowest-ranked adjacent pair first);
* ``added_tokens``: our special tokens, with ``special: true``;
* ``decoder``: ``ByteLevel``.

>>> from bpe_core import train
>>> tok = train("low lower lowest " * 10, vocab_size=262, special_tokens=["<|end|>"])
>>> document = to_tokenizer_json(tok)
>>> document["pre_tokenizer"]["type"], document["model"]["merges"][:2]
('ByteLevel', [['l', 'o'], ['lo', 'w']])
>>> from_tokenizer_json(document, "tokenizer.json").encode("lowest") == tok.encode("lowest")
True

Importing is strict: every setting that would make ``tokenizers`` encode
differently from us is refused with a message naming it; settings that
only touch offsets or inputs we never produce are accepted (see
:func:`from_tokenizer_json`).
"""

from __future__ import annotations

import os
from pathlib import Path

import regex

from ..errors import BPEError
from ..merging import apply_merges
from ..pretokenize import PRESET_PATTERNS
from ..tokenizer import Tokenizer
from .files import (
    add_entry,
    build_tokenizer,
    check_count,
    check_vocab,
    fail,
    is_byte_symbols,
    ordered_vocab,
    parse_merge,
    read_json,
    require_mode,
    write_json,
)

FILE_NAME = "tokenizer.json"

CLASSIC_ADVICE = (
    "tokenizers' BPE marks word ends only through end_of_word_suffix, which glues '</w>' to the last "
    "character ('t</w>' is one symbol), while the classic model here keeps '</w>' as a symbol of its own "
    "('t', '</w>'), so the same merges would mean something else. Export classic tokenizers with "
    "format='subword_nmt'."
)

# --- export -------------------------------------------------------------------


def to_tokenizer_json(tokenizer: Tokenizer) -> dict:
    """The ``tokenizer.json`` document (a dict) for a byte-level tokenizer."""
    require_mode(tokenizer, "byte_level", "Hugging Face tokenizer.json", CLASSIC_ADVICE)
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": token_id, "content": token, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for token, token_id in sorted(tokenizer.special_tokens.items(), key=lambda item: item[1])
        ],
        "normalizer": None,
        "pre_tokenizer": _pre_tokenizer_json(tokenizer),
        # Offsets stay untrimmed (a token's leading space is part of it), as ours do.
        "post_processor": None,
        "decoder": _byte_level(use_regex=True, add_prefix_space=True, trim_offsets=True),
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": ordered_vocab(tokenizer),
            "merges": [[left, right] for left, right in tokenizer.merges],
        },
    }


def _byte_level(*, use_regex: bool, add_prefix_space: bool = False, trim_offsets: bool = False) -> dict:
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": trim_offsets,
            "use_regex": use_regex}


def _pre_tokenizer_json(tokenizer: Tokenizer) -> dict:
    if tokenizer.pattern_name == "gpt2":
        return _byte_level(use_regex=True)
    # tokenizers' "Isolated" keeps the text between matches as pieces of its
    # own; a preset matches every character, so nothing falls between.  A
    # custom pattern may skip text, which our pre-tokenizer (like tiktoken)
    # drops: "Removed" + invert keeps exactly the matches, one piece each.
    preset = tokenizer.pattern_name != "custom"
    split = {
        "type": "Split",
        "pattern": {"Regex": to_oniguruma(tokenizer.pre_tokenizer.pattern)},
        "behavior": "Isolated" if preset else "Removed",
        "invert": not preset,
    }
    return {"type": "Sequence", "pretokenizers": [split, _byte_level(use_regex=False)]}


def export_huggingface(tokenizer: Tokenizer, destination: str | os.PathLike) -> list[Path]:
    """Write ``tokenizer.json`` (``destination`` a file, or a directory to put it in)."""
    document = to_tokenizer_json(tokenizer)
    path = Path(destination)
    if path.is_dir():
        path = path / FILE_NAME
    return [write_json(path, document)]


# --- import -------------------------------------------------------------------


def import_huggingface(path: str | os.PathLike, *, max_vocab_size: int | None = None) -> Tokenizer:
    """Read a byte-level BPE ``tokenizer.json`` (see :func:`from_tokenizer_json`)."""
    path = Path(path)
    if path.is_dir():
        path = path / FILE_NAME
    return from_tokenizer_json(read_json(path, max_vocab_size), path, max_vocab_size)


def from_tokenizer_json(document, path, max_vocab_size: int | None = None) -> Tokenizer:
    """Rebuild a tokenizer from a ``tokenizer.json`` document, or refuse it.

    Accepted: a ``BPE`` model; a ``ByteLevel`` pre-tokenizer (alone, or after
    one regex ``Split``); special added tokens; no normalizer; a ``ByteLevel``
    (offsets only) or token-free template post-processor; a ``ByteLevel`` or
    no decoder.  ``unk_token``, ``fuse_unk`` and ``byte_fallback`` are
    accepted because they only act on symbols missing from the vocabulary,
    and a byte-level vocabulary has all 256.  ``ignore_merges`` is accepted
    when every token is what the merges make of its own bytes (then looking
    a word up first changes nothing).

    Refused, with the part named: other normalizers, pre-tokenizers,
    post-processors, decoders or model types; ``dropout``;
    ``continuing_subword_prefix``; ``end_of_word_suffix``; non-special or
    stripping added tokens; ``truncation`` and ``padding``.
    """
    if not isinstance(document, dict):
        raise fail(path, f"expected a JSON object, found {type(document).__name__}")
    if document.get("format") == "bpe_core.tokenizer":
        raise fail(path, "is a bpe_core tokenizer file, not a Hugging Face tokenizer.json; load it with format='native'")
    model = document.get("model")
    if not isinstance(model, dict):
        raise fail(path, "has no 'model' object, so it is not a Hugging Face tokenizer.json")
    for setting in ("truncation", "padding"):
        if document.get(setting) is not None:
            raise fail(
                path,
                f"{setting} is set ({document[setting]!r}), which changes every encoding; bpe_core does "
                f"{setting} per call (encode_batch). Save the tokenizer with {setting} disabled "
                f"(tokenizer.no_{setting}()) and import that",
            )
    for part in ("vocab", "merges"):
        if isinstance(model.get(part), (dict, list)):
            check_count(path, f"model.{part}", len(model[part]), max_vocab_size)
    if isinstance(document.get("added_tokens"), list) and isinstance(model.get("vocab"), dict):
        extra = sum(1 for added in document["added_tokens"]
                    if not isinstance(added, dict) or added.get("content") not in model["vocab"])
        check_count(path, "model.vocab with added_tokens", len(model["vocab"]) + extra, max_vocab_size)
    vocab, merges, ignore_merges = _read_model(model, path)
    _check_normalizer(document.get("normalizer"), path)
    pattern = _pattern_of(document.get("pre_tokenizer"), path)
    _check_post_processor(document.get("post_processor"), path)
    _check_decoder(document.get("decoder"), path)
    specials = _read_added_tokens(document.get("added_tokens", []), vocab, path)
    for token, token_id in vocab.items():
        if token not in specials and not is_byte_symbols(token):
            raise fail(
                path,
                f"model.vocab token {token!r} (id {token_id}) is not spelled in ByteLevel byte symbols, so no "
                "byte-level BPE can produce it; if it is a special token, list it in added_tokens with special: true",
            )
    tokenizer = build_tokenizer(path, mode="byte_level", vocab=vocab, merges=merges, pattern=pattern,
                                special_tokens=sorted(specials, key=vocab.get))
    if ignore_merges:
        _check_ignore_merges_is_harmless(tokenizer, path)
    return tokenizer


def _type_of(component) -> str | None:
    return component.get("type") if isinstance(component, dict) else None


def _check_normalizer(normalizer, path) -> None:
    if normalizer is None or (_type_of(normalizer) == "Sequence" and not normalizer.get("normalizers")):
        return
    raise fail(
        path,
        f"normalizer {_describe(normalizer)} rewrites the text before tokenization, which bpe_core does not "
        "do; only tokenizers without a normalizer (\"normalizer\": null) can be imported exactly",
    )


def _describe(component) -> str:
    kind = _type_of(component)
    if component is None:
        return "null"
    if kind == "Sequence":
        parts = next((v for k, v in component.items() if isinstance(v, list)), [])
        return "Sequence[" + ", ".join(str(_type_of(p)) for p in parts) + "]"
    return repr(kind) if kind else repr(component)


def _flatten(component, key: str) -> list:
    if _type_of(component) == "Sequence":
        return [leaf for part in component.get(key) or [] for leaf in _flatten(part, key)]
    return [component]


def _pattern_of(pre_tokenizer, path) -> str:
    """The regex source (or preset name) equivalent to the file's pre-tokenizer."""
    steps = _flatten(pre_tokenizer, "pretokenizers") if pre_tokenizer is not None else []
    unsupported = (
        f"pre_tokenizer {_describe(pre_tokenizer)} is not supported: bpe_core imports ByteLevel (GPT-2 "
        "regex) or Split(Regex) followed by ByteLevel(use_regex=false)"
    )
    if not steps or _type_of(steps[-1]) != "ByteLevel":
        raise fail(path, unsupported)
    byte_level = steps[-1]
    if byte_level.get("add_prefix_space", True):
        raise fail(
            path,
            "pre_tokenizer ByteLevel has add_prefix_space=true (a space is added before the first word), "
            "which bpe_core does not do; set it to false, or add the space to your texts yourself",
        )
    use_regex = byte_level.get("use_regex", True)
    splits = steps[:-1]
    if not splits and use_regex:
        return "gpt2"
    if len(splits) == 1 and not use_regex and _type_of(splits[0]) == "Split":
        return _split_pattern(splits[0], path)
    raise fail(path, unsupported)


def _split_pattern(split: dict, path) -> str:
    spec = split.get("pattern")
    if isinstance(spec, dict) and isinstance(spec.get("Regex"), str):
        source = from_oniguruma(spec["Regex"], path)
    elif isinstance(spec, dict) and isinstance(spec.get("String"), str) and spec["String"]:
        source = regex.escape(spec["String"])
    else:
        raise fail(path, f"pre_tokenizer Split has an unreadable pattern {spec!r}")
    behavior, invert = split.get("behavior"), bool(split.get("invert", False))
    if behavior == "Removed" and invert:
        return source  # exactly the matches, one piece each: what we do
    if behavior == "Isolated" and not invert:
        return _keep_gaps(source, path)
    raise fail(
        path,
        f"pre_tokenizer Split with behavior={behavior!r}, invert={invert} is not supported; bpe_core imports "
        "behavior 'Isolated' (invert false) or 'Removed' (invert true)",
    )


def _keep_gaps(source: str, path) -> str:
    """A pattern whose matches are ``source``'s matches *and* the text between them.

    That is what tokenizers' ``Isolated`` produces.  The presets match every
    character, so they are kept as they are (and keep their names).

    >>> regex.findall(_keep_gaps("[a-z]+", "t.json"), "ab, cd")
    ['ab', ', ', 'cd']
    """
    for name, preset in PRESET_PATTERNS.items():
        if source == preset:
            return name
    try:
        compiled = regex.compile(source)
    except regex.error as exc:
        raise fail(path, f"pre_tokenizer Split pattern {source!r} is not a regex bpe_core can compile: {exc}") from None
    if compiled.match(""):
        raise fail(path, f"pre_tokenizer Split pattern {source!r} can match empty text, which is not supported")
    return f"(?:{source})|(?s:(?:(?!(?:{source})).)+)"


# tokenizers runs patterns with Oniguruma, tiktoken and bpe_core with engines
# that read "X{1,3}+" as a possessive interval; Oniguruma reads it as
# "(?:X{1,3})+", so "\p{N}{1,3}+" would swallow a whole run of digits.
_POSSESSIVE_INTERVAL = regex.compile(r"(?<!\\)\{\d*,?\d*\}\+")
# cl100k as tokenizers must read it: the same matches, since nothing follows
# the digits' alternative, so giving up possessiveness changes nothing.
_ONIGURUMA_PRESETS = {"cl100k": PRESET_PATTERNS["cl100k"].replace(r"\p{N}{1,3}+", r"\p{N}{1,3}")}


def to_oniguruma(source: str) -> str:
    """``source`` as tokenizers (Oniguruma) must read it to match what we match.

    >>> to_oniguruma(PRESET_PATTERNS["cl100k"]).count("{1,3}+")
    0
    """
    for name, spelled in _ONIGURUMA_PRESETS.items():
        if source == PRESET_PATTERNS[name]:
            return spelled
    if _POSSESSIVE_INTERVAL.search(source):
        raise BPEError(
            f"pattern {source!r} uses a possessive interval such as {{1,3}}+, which tokenizers' regex engine "
            "(Oniguruma) reads as a repeated interval, so it would split text differently; write it without "
            "the '+' (or as an atomic group (?>...)) and retrain"
        )
    return source


def from_oniguruma(source: str, path) -> str:
    """The pattern as bpe_core reads it (presets recognised in either spelling)."""
    for name, spelled in _ONIGURUMA_PRESETS.items():
        if source == spelled:
            return PRESET_PATTERNS[name]
    if _POSSESSIVE_INTERVAL.search(source):
        raise fail(
            path,
            f"pre_tokenizer Split pattern {source!r} has an interval followed by '+', which tokenizers "
            "(Oniguruma) reads as a repeated interval and bpe_core as a possessive one; it cannot be imported exactly",
        )
    return source


def _check_post_processor(post_processor, path) -> None:
    for step in _flatten(post_processor, "processors") if post_processor is not None else []:
        kind = _type_of(step)
        if kind == "ByteLevel":
            continue  # it only trims offsets
        if kind == "TemplateProcessing" and not _template_specials(step.get("single")):
            continue  # "$A" alone adds nothing
        added = _template_specials(step.get("single")) if kind == "TemplateProcessing" else []
        raise fail(
            path,
            f"post_processor {kind!r} "
            + (f"adds {added} around every text" if added else "changes the encoded ids")
            + "; bpe_core adds no tokens by itself. Remove the post_processor (set it to null) and add such "
            "tokens yourself",
        )


def _template_specials(template) -> list[str]:
    return [item["SpecialToken"]["id"] for item in template or [] if isinstance(item, dict) and "SpecialToken" in item]


def _check_decoder(decoder, path) -> None:
    if decoder is None or _type_of(decoder) == "ByteLevel":
        return
    raise fail(path, f"decoder {_describe(decoder)} is not supported; byte-level BPE decodes with ByteLevel")


def _read_model(model: dict, path) -> tuple[dict[str, int], list[tuple[str, str]], bool]:
    kind = model.get("type", "BPE")
    if kind != "BPE":
        raise fail(path, f"model type {kind!r} is not supported; bpe_core imports BPE models only")
    if model.get("dropout") not in (None, 0, 0.0):
        raise fail(path, f"model.dropout={model['dropout']!r} makes encoding random; set it to null to import")
    for option in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(option):
            raise fail(
                path,
                f"model.{option}={model[option]!r} is not supported: byte-level BPE here spells words as bytes "
                "only, without subword prefixes or suffixes",
            )
    # unk_token, fuse_unk and byte_fallback are not checked on purpose: they
    # only act on symbols missing from the vocabulary, ByteLevel turns every
    # input into the 256 byte symbols, and the Tokenizer insists on all 256.
    vocab = check_vocab(model.get("vocab"), path, "model.vocab")
    raw_merges = model.get("merges")
    if not isinstance(raw_merges, list):
        raise fail(path, "model.merges is missing or is not a list")
    merges = [parse_merge(entry, path, f"model.merges[{rank}]") for rank, entry in enumerate(raw_merges)]
    return dict(vocab), merges, bool(model.get("ignore_merges", False))


def _read_added_tokens(added_tokens, vocab: dict[str, int], path) -> set[str]:
    """The special tokens, merged into ``vocab``; anything else is refused."""
    if not isinstance(added_tokens, list):
        raise fail(path, "added_tokens must be a list")
    owner = {token_id: token for token, token_id in vocab.items()}
    specials = set()
    for index, added in enumerate(added_tokens):
        where = f"added_tokens[{index}]"
        if not (isinstance(added, dict) and isinstance(added.get("content"), str) and added["content"]
                and isinstance(added.get("id"), int) and added["id"] >= 0):
            raise fail(path, f"{where} needs a non-empty 'content' string and a non-negative 'id', found {added!r}")
        content, token_id = added["content"], added["id"]
        if not added.get("special", False):
            raise fail(
                path,
                f"{where} {content!r} is not special: tokenizers matches it in every text, which bpe_core does "
                "only for special tokens (encode(..., allowed_special=...)); mark it special: true to import",
            )
        for option in ("single_word", "lstrip", "rstrip"):
            if added.get(option):
                raise fail(path, f"{where} {content!r} has {option}=true, which bpe_core does not support")
        add_entry(vocab, owner, content, token_id, path, where, earlier="model.vocab")
        specials.add(content)
    return specials


def _check_ignore_merges_is_harmless(tokenizer: Tokenizer, path) -> None:
    """With ``ignore_merges``, tokenizers takes a word found in the vocabulary as
    one token.  That is what the merges give anyway unless some token is not
    what the merges make of its own bytes: refuse then."""
    for token, token_id in tokenizer.vocab.items():
        if token in tokenizer.special_tokens or len(token) < 2:
            continue
        ids = apply_merges([tokenizer.vocab[s] for s in token], tokenizer.merge_ranks)
        if ids != [token_id]:
            raise fail(
                path,
                f"model.ignore_merges=true, and token {token!r} (id {token_id}) is not what the merges make of "
                f"its own bytes ({[tokenizer.id_to_token[i] for i in ids]}), so a word spelled like it would "
                "encode differently here; bpe_core always applies the merges",
            )
