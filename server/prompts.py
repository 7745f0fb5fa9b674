"""Prompts: ready-made conversations a user can start from their MCP client.

* ``bpe_walkthrough``: learn BPE on your own sentence, merge by merge, the
  way the classic tutorials do it (split into characters plus ``</w>``,
  count adjacent pairs, merge the most frequent, repeat); with a stored
  tokenizer, in that tokenizer's own terms (bytes for a byte-level one).
* ``train_tokenizer_for_corpus``: choose the settings and train a tokenizer
  for a corpus of your own, then check and export it.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from pydantic import Field

from .storage import StoreError, TokenizerStore


_SENTENCE = Annotated[str, Field(description="The sentence (or word) to tokenize, in any language.")]
_TOKENIZER = Annotated[str, Field(description="Optional stored tokenizer to use; by default merges are learned "
                                  "from the sentence itself.")]
_LANGUAGE = Annotated[str, Field(description="Language of the explanation, e.g. English or 中文.")]

_PADDING = """\
Finish with one paragraph on padding: when several sentences are encoded as a batch they are padded to
one length with a pad token, and the attention mask (1 = real token, 0 = padding) keeps the model from
attending to the padding."""

_CLASSIC_STEPS = """\
1. Pre-tokenization: how the sentence is cut into words, and why classic BPE adds '</w>' to the end of every
   word (a piece like 'st</w>' ends a word, while 'st' can start one).
2. The merges, one at a time: which adjacent pair {which}, what new symbol it made, and how the
   word's symbols look after the merge. Quote the `walkthrough` lines.
3. The final tokens and their ids, and which words stayed in several pieces (and why: their pairs were rare).
4. Byte-level BPE: call `explain` again with train_on=<the sentence>, text=<the sentence> and
   mode='byte_level', and show how a space becomes part of the next token and how a non-ASCII character
   (for example a Chinese one) starts as several byte symbols."""

_BYTE_LEVEL_STEPS = """\
1. Pre-tokenization: how the tokenizer's pattern cuts the sentence into words, and how a space stays at the
   start of the word after it (the walkthrough shows it as '␣'). Each word is spelled as its UTF-8 bytes, so
   nothing is ever unknown; a character of several bytes (for example a Chinese one) starts as several
   symbols, shown as \\xNN until merges join them (the walkthrough's first line says so).
2. The merges, one at a time: the tokenizer learned them from its own training corpus, in rank order, and
   applies the lowest-ranked merge present in the word first. Say which pair was merged, its rank, and how
   the word's symbols look after it. Quote the `walkthrough` lines.
3. The final tokens and their ids, and which words stayed in several pieces (and why: the tokenizer's corpus
   rarely had them). Pick one multi-byte token and show how it is built with `inspect_vocab` (view='token',
   token=<its text>)."""


def walkthrough_text(sentence: str, tokenizer: str, language: str, mode: str | None) -> str:
    """The ``bpe_walkthrough`` prompt for a tokenizer of ``mode`` (None: not stored, or none given).

    >>> "</w>" in walkthrough_text("héllo", "gpt", "English", "byte_level")
    False
    """
    if not tokenizer:
        source = (
            "No tokenizer is given, so learn merges from the sentence itself: call `explain` with "
            "train_on=<the sentence>, text=<the sentence>, mode='classic' and num_merges=10. (If the sentence is "
            "short, most pairs occur once; ties go to the pair seen first. Say so.)"
        )
        steps = _CLASSIC_STEPS.format(which="was most frequent")
    else:
        source = (
            f"Use the stored tokenizer {tokenizer!r}: call `explain` with tokenizer={tokenizer!r} and the sentence, "
            "and call `inspect_vocab` (view='summary') to say what kind of tokenizer it is."
        )
        steps = {
            "byte_level": _BYTE_LEVEL_STEPS,
            "classic": _CLASSIC_STEPS.format(which="was merged, its rank (the order the merges were learned in)"),
        }.get(mode)
        if steps is None:
            source += (f" No tokenizer {tokenizer!r} is stored right now: call `list_tokenizers` first, and if it "
                       "is not there, ask me which one to use or whether to train one.")
            steps = ("1. Say how the tokenizer's mode (from the summary) spells a word: 'classic' as characters "
                     "plus '</w>', 'byte_level' as UTF-8 bytes.\n"
                     "2. The merges, one at a time, quoting the `walkthrough` lines.\n"
                     "3. The final tokens and their ids, and which words stayed in several pieces.")
    return f"""\
Teach me how BPE (byte-pair encoding) tokenizes this sentence, step by step. Answer in {language}.

Sentence: {sentence}

{source}

Then explain, using the tool results rather than guessing:
{steps}
{_PADDING}
"""


def train_tokenizer_for_corpus(
    corpus: Annotated[str, Field(description="The corpus: file, directory or glob paths inside the allowed roots, "
                                 "or a description of it.")],
    vocab_size: Annotated[str, Field(description="Optional target vocabulary size.")] = "",
    purpose: Annotated[str, Field(description="Optional: what the tokenizer is for (a model, a language, ...).")] = "",
) -> str:
    """Guide the training of a tokenizer for your own corpus, then check and export it."""
    size = (
        f"Use vocab_size={vocab_size}."
        if vocab_size
        else "Propose a vocab_size: for a few MB of text 2,000-8,000 is plenty; GPT-2 used 50,257 on 40 GB. "
        "A vocabulary too large for the corpus stops early with stop_reason 'no_pairs_left'."
    )
    goal = f"What the tokenizer is for: {purpose}" if purpose else "Ask me briefly what the tokenizer is for."
    return f"""\
Help me train a BPE tokenizer for this corpus: {corpus}

{goal}

Steps:
1. Call `list_tokenizers` to see the allowed roots (directories the server may read) and the names in use.
   If the corpus files are outside the allowed roots, tell me to restart the server with --root DIR.
2. Choose the settings and say why:
   - mode 'byte_level' (default) for real use: it handles any language, Chinese and emoji included, and
     never meets an unknown character; 'classic' only for teaching.
   - {size}
   - pattern 'gpt2' (default), or 'cl100k'/'o200k' to split numbers and punctuation the way newer GPT models do.
   - special_tokens: '<|endoftext|>' to separate documents, and '<pad>' if batches will be padded.
3. Call `train_bpe` with paths=[...] (files, directories or globs). Report vocab size, merges learned,
   stop reason and time.
4. Check the result: `inspect_vocab` view='summary' (token-length histogram) and view='tokens' sorted by length
   (descending) to see the longest tokens; `encode` two typical sentences from the corpus with
   return_tokens=true and comment on the token counts.
5. Offer to `export_tokenizer` as tokenizer.json, which Hugging Face `tokenizers` can load.
"""


def register(server: MCPServer, store: TokenizerStore) -> None:
    async def bpe_walkthrough(sentence: _SENTENCE, tokenizer: _TOKENIZER = "", language: _LANGUAGE = "English") -> str:
        """Walk through byte-pair encoding on your own sentence, merge by merge."""
        mode = await anyio.to_thread.run_sync(_stored_mode, store, tokenizer) if tokenizer else None
        return walkthrough_text(sentence, tokenizer, language, mode)

    server.prompt(name="bpe_walkthrough", title="Learn BPE on your own sentence")(bpe_walkthrough)
    server.prompt(name="train_tokenizer_for_corpus", title="Train a tokenizer for a corpus")(
        train_tokenizer_for_corpus
    )


def _stored_mode(store: TokenizerStore, name: str) -> str | None:
    """The stored tokenizer's mode, or None if there is no such (readable) tokenizer."""
    try:
        return store.load(name).tokenizer.mode
    except StoreError:
        return None
