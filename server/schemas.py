"""Tool inputs and outputs, as pydantic models.

Each tool takes one ``...Input`` model (its fields become the tool's
arguments, with these descriptions and bounds in the JSON schema) and
returns one output model (published as the tool's ``outputSchema``; the
result arrives as ``structuredContent``).  Descriptions are written for a
model that has never seen this server.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from bpe_core.evaluation import Evaluation

from .storage import NAME_PATTERN, NAME_RULE

# --- shared pieces -----------------------------------------------------------

TokenizerName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A tokenizer's name (list_tokenizers), e.g. 'o200k_base' or 'gpt-4'.",
    ),
]
#: What each ``pattern`` constraint means, for argument errors (server.argument_errors).
PATTERN_MEANINGS = {NAME_PATTERN: NAME_RULE}
NewTokenizerName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=NAME_PATTERN,
        description="Name to store it under, e.g. 'news-bpe-8k': letters, digits, '_', '-', '.'.",
    ),
]
SpecialPolicy = Literal["all"] | Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=1000)]

#: Corpus files for train_bpe, evaluate_tokenizer and compare_tokenizers.
CorpusPaths = Annotated[list[Annotated[str, Field(min_length=1, max_length=4096)]], Field(min_length=1, max_length=100)]
CORPUS_PATHS = "Files, directories or globs ('corpus/**/*.txt') inside the allowed roots; UTF-8."

PAGE_LIMIT_MAX = 500


#: The BPE families' names (``bpe_core.families.FAMILIES``), as the ``mode`` argument takes them.
FamilyName = Literal["byte_level", "classic"]


def engine_result_model(engine_class: type, name: str, **descriptions: str) -> type[BaseModel]:
    """A result model with the fields of one of the engine's dataclasses: its names, types and order, every
    field required, so whatever the engine reports reaches the tool's outputSchema unchanged.
    ``descriptions`` document fields for the model that reads the schema.

    >>> from bpe_core.evaluation import TokenCount
    >>> Counted = engine_result_model(TokenCount, "Counted", share="Of all tokens.")
    >>> list(Counted.model_fields), Counted.model_fields["share"].description
    (['id', 'text', 'count', 'share'], 'Of all tokens.')
    """
    types = typing.get_type_hints(engine_class)
    names = [f.name for f in dataclasses.fields(engine_class)]
    unknown = set(descriptions) - set(names)
    if unknown:
        raise TypeError(f"{engine_class.__name__} has no field {', '.join(sorted(unknown))} to describe")
    return create_model(name, **{n: (types[n], Field(description=descriptions.get(n))) for n in names})


def exactly_one_of(first: str, second: str, message: str, *, when: Callable[[BaseModel], bool] | None = None):
    """A model validator for an input class body: exactly one of the fields ``first`` and ``second`` is given
    (``when`` the arguments call for one), or the call fails with ``message``.

    >>> class Source(BaseModel):
    ...     text: str | None = None
    ...     path: str | None = None
    ...     _one_source = exactly_one_of("text", "path", "give exactly one of text and path")
    >>> Source(text="a", path="b")
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Source
      Value error, give exactly one of text and path ...
    """
    def check(model: BaseModel) -> BaseModel:
        if (when is None or when(model)) and (getattr(model, first) is None) == (getattr(model, second) is None):
            raise ValueError(message)
        return model

    return model_validator(mode="after")(check)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MergeRule(BaseModel):
    rank: int = Field(description="Merge rank: 0 is the first merge learned and the first applied.")
    left: str = Field(description="Left token, as stored in the vocabulary ('Ġ' is a space in byte-level BPE).")
    right: str = Field(description="Right token, as stored.")
    merged: str = Field(description="The new token, as stored.")
    merged_text: str = Field(description="What the new token reads as (byte-level: its bytes as text).")


# --- train_bpe -----------------------------------------------------------------


class TrainInput(Input):
    """Train a BPE tokenizer on a corpus (`text` and/or `paths` inside the allowed roots) and store it under
    `name` for the other tools. Give `vocab_size` (byte-level BPE starts with 256 byte tokens) and/or
    `num_merges`. An existing name is refused unless overwrite=true. Sends progress; cancelling stops it and
    saves nothing. Returns sizes, why training stopped, corpus statistics, timings and the first merges.
    """
    name: NewTokenizerName
    text: str | None = Field(None, min_length=1, description="Corpus text (each line a document).")
    paths: CorpusPaths | None = Field(None, description=CORPUS_PATHS)
    mode: FamilyName = Field("byte_level", description="'byte_level' (GPT-2 style, on UTF-8 bytes, spaces as 'Ġ') or "
                             "'classic' (the textbook algorithm: characters plus '</w>', words split on whitespace).")
    vocab_size: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="Final vocabulary size, base symbols and special tokens included (with num_merges: "
        "whichever comes first).",
    )
    num_merges: int | None = Field(None, ge=0, le=1_000_000,
                                   description="Merges to learn (10 makes each merge easy to follow).")
    min_frequency: int = Field(
        0,
        ge=0,
        description="Stop when the most frequent pair occurs fewer times (2: never merge pairs seen once).",
    )
    pattern: str | None = Field(
        None,
        min_length=1,
        max_length=10_000,
        description="Byte-level pre-tokenizer: 'gpt2' (default), 'cl100k', 'o200k' or a regex whose matches "
        "are the words.",
    )
    special_tokens: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=1000,
        description="Tokens given the first ids, never split, e.g. ['<|endoftext|>', '<pad>'] ('<pad>' to pad "
        "batches).",
    )
    overwrite: bool = Field(False, description="Replace a tokenizer of the same name.")
    text_field: str = Field(
        "text",
        min_length=1,
        max_length=200,
        description="JSON Lines files: the field with each record's text ('meta.body' for a nested one); "
        "Parquet: the text column.",
    )
    on_error: Literal["fail", "skip"] = Field("fail", description="Unreadable records (not UTF-8 or JSON, no text "
                                              "field): 'fail' stops, 'skip' skips and counts them (corpus.problems).")
    counts_path: str | None = Field(
        None,
        min_length=1,
        max_length=4096,
        description="Instead of a corpus: a word-counts file ('python -m bpe_core count'), the same merges as "
        "its corpus. Mode, pattern and special tokens default to the file's.",
    )

    @model_validator(mode="after")
    def _needs_corpus_and_size(self) -> "TrainInput":
        if self.counts_path is not None and (self.text is not None or self.paths):
            raise ValueError("give a corpus (text, paths) or counts_path, not both")
        if self.text is None and not self.paths and self.counts_path is None:
            raise ValueError("give the corpus as text, as paths, or both (or a counts file as counts_path)")
        if self.vocab_size is None and self.num_merges is None:
            raise ValueError("give vocab_size (final vocabulary size) or num_merges (number of merges to learn)")
        return self


class CorpusStats(BaseModel):
    size_bytes: int = Field(description="UTF-8 bytes read.")
    words: int = Field(description="Pre-tokenized words counted.")
    distinct_words: int
    files: int = Field(description="Files read.")
    skipped: list[str] = Field(default_factory=list, description="Matches that were not read, and why.")
    skipped_records: int = Field(0, description="Records that could not be read and were skipped (on_error='skip').")
    problems: list[str] = Field(default_factory=list, description="The first skipped records: file, line, reason.")


class TrainResult(BaseModel):
    name: str
    uri: str = Field(description="Resource URI of the saved tokenizer (native JSON).")
    mode: str
    pattern: str = Field(description="Pre-tokenizer: 'whitespace', a preset name, or 'custom'.")
    vocab_size: int
    merges_learned: int
    stop_reason: str = Field(description="'vocab_size', 'num_merges', 'min_frequency' or 'no_pairs_left'.")
    stop_explanation: str
    special_tokens: dict[str, int] = Field(description="Special token -> id.")
    corpus: CorpusStats
    seconds: dict[str, float] = Field(description="Wall time of counting, merging, saving and the total.")
    first_merges: list[MergeRule] = Field(description="The first merges learned, in rank order (at most 20).")
    replaced_existing: bool


# --- encode / decode ---------------------------------------------------------------


class EncodeInput(Input):
    """Turn `text` (or a batch, `texts`) into token ids. return_tokens / return_offsets add each token's
    readable text and character span. Batches can be truncated (max_length) and padded (padding), which adds an
    attention_mask. Special-token strings in the text are an error unless in allowed_special (they become their
    id) or disallowed_special=[] (plain text). Returns one encoding per text and the total count.
    """
    tokenizer: TokenizerName
    text: str | None = Field(None, description="One text to encode. Give text or texts.")
    texts: list[str] | None = Field(
        None, min_length=1, max_length=1000, description="Several texts to encode as a batch."
    )
    return_tokens: bool = Field(False, description="Also return each token as readable text.")
    return_offsets: bool = Field(False, description="Also return each token's [start, end) character offsets.")
    allowed_special: SpecialPolicy = Field(
        default_factory=list,
        description="Special tokens that may appear in the text and become their special id: a list, or 'all'.",
    )
    disallowed_special: SpecialPolicy = Field(
        "all",
        description="Special tokens that are an error in the text: 'all' (those not allowed) or a list; [] "
        "encodes them as plain text.",
    )
    max_length: int | None = Field(None, ge=1, le=1_000_000, description="Truncate each text to this many tokens.")
    truncation_side: Literal["left", "right"] = Field("right", description="Which end truncation cuts.")
    padding: Literal["longest", "max_length"] | None = Field(
        None,
        description="Pad rows to the longest or to max_length; adds attention_mask (1 = token, 0 = padding). "
        "Needs a pad token.",
    )
    pad_token: str | None = Field(
        None, min_length=1, description="Token to pad with (default: the special token '<pad>', '[PAD]' or '<|pad|>')."
    )
    padding_side: Literal["left", "right"] = Field(
        "right", description="'left' suits decoder-only models that generate after the last real token."
    )

    _one_of_text_and_texts = exactly_one_of(
        "text", "texts", "give exactly one of text (one string) and texts (a list of strings)")


class Encoding(BaseModel):
    ids: list[int] = Field(description="Token ids (after truncation and padding, if requested).")
    token_count: int = Field(description="Tokens in the text before truncation and padding.")
    tokens: list[str] | None = Field(None, description="Readable text of each real token (no padding).")
    offsets: list[tuple[int, int]] | None = Field(None, description="[start, end) of each real token in the text.")
    attention_mask: list[int] | None = Field(None, description="1 for a real token, 0 for padding.")
    truncated: bool = False


class EncodeResult(BaseModel):
    tokenizer: str
    encodings: list[Encoding] = Field(description="One entry per input text, in order.")
    total_tokens: int
    padding: str | None = None
    padding_side: str | None = None
    pad_token_id: int | None = None
    truncation_side: str | None = None
    max_length: int | None = None


class DecodeInput(Input):
    """Turn token ids back into text with a stored tokenizer (the inverse of encode). Byte-level tokenizers restore
    the text exactly; classic ones join words with single spaces. Returns the text and whether the bytes were
    valid UTF-8 (ids cut in the middle of a character are not).
    """
    tokenizer: TokenizerName
    ids: list[Annotated[int, Field(ge=0)]] = Field(max_length=1_000_000, description="Token ids to turn back into text.")
    errors: Literal["replace", "strict"] = Field(
        "replace",
        description="Ids ending inside a UTF-8 character: 'replace' shows U+FFFD, 'strict' is an error.",
    )


class DecodeResult(BaseModel):
    tokenizer: str
    text: str
    token_count: int
    valid_utf8: bool = Field(description="False if some bytes were not valid UTF-8 (and were replaced).")


# --- inspect_vocab ---------------------------------------------------------------


class InspectInput(Input):
    """Look inside a tokenizer. view='summary' (default): mode, pre-tokenizer, sizes, special tokens, token-length
    histogram. view='tokens': a page of tokens (id, readable text, length, the merge that made it), sortable,
    filtered by `contains` or `regex`. view='merges': a page of merges in rank order. view='token' with `id` or
    `token`: its bytes and the tree of merges that builds it. Pages say how to fetch the next (next_offset).
    """
    tokenizer: TokenizerName
    view: Literal["summary", "tokens", "merges", "token"] = Field(
        "summary",
        description="What to show (see the tool's description).",
    )
    offset: int = Field(0, ge=0, description="First item of the page (views 'tokens' and 'merges').")
    limit: int = Field(50, ge=1, le=PAGE_LIMIT_MAX, description=f"Items per page, at most {PAGE_LIMIT_MAX}.")
    sort: Literal["id", "length", "alphabetical"] = Field(
        "id", description="Order of the 'tokens' view (id = merge order after the base symbols)."
    )
    descending: bool = Field(False, description="Reverse the sort order.")
    contains: str | None = Field(
        None, min_length=1, max_length=200, description="'tokens' view: only tokens containing this (' the' or "
        "'Ġthe')."
    )
    regex: str | None = Field(
        None, min_length=1, max_length=1000, description="'tokens' view: only tokens matching this regular expression."
    )
    id: int | None = Field(None, ge=0, description="'token' view: the token id.")
    token: str | None = Field(
        None, min_length=1, max_length=1000, description="'token' view: the token, stored ('Ġthe') or readable (' the')."
    )

    _token_view_needs_a_token = exactly_one_of(
        "id", "token", "view 'token' needs exactly one of id and token", when=lambda args: args.view == "token")


class LengthCount(BaseModel):
    length: int
    count: int


class VocabSummary(BaseModel):
    mode: str
    pattern: str = Field(description="'whitespace', a preset name or 'custom'.")
    pattern_regex: str | None
    vocab_size: int
    merges: int
    base_symbols: int = Field(description="Tokens not made by a merge (bytes or characters, end-of-word, unknown).")
    special_tokens: dict[str, int]
    unk_token: str | None
    length_unit: str = Field(description="'bytes' (byte-level) or 'characters' (classic).")
    length_histogram: list[LengthCount] = Field(description="How many tokens have each length (special tokens excluded).")
    training: dict | None = Field(None, description="The training report saved with the tokenizer, if any.")


class TokenEntry(BaseModel):
    id: int
    token: str = Field(description="As stored in the vocabulary.")
    text: str = Field(description="Readable form (partial UTF-8 bytes show as \\xNN).")
    length: int
    kind: str = Field(description="'special', 'unknown', 'end_of_word', 'byte', 'character' or 'merged'.")
    merge_rank: int | None = Field(None, description="Rank of the merge that made it (None for base symbols).")


class Page(BaseModel):
    total: int = Field(description="Items matching, over all pages.")
    offset: int
    limit: int
    next_offset: int | None = Field(description="Offset of the next page, or None on the last page.")
    next_page: str | None = Field(description="How to get the next page.")


class TokenPage(Page):
    items: list[TokenEntry]


class MergePage(Page):
    items: list[MergeRule]


class MergeTreeNode(BaseModel):
    id: int
    token: str
    text: str
    rank: int | None = Field(None, description="The merge that made this token; None for a base symbol.")
    left: MergeTreeNode | None = None
    right: MergeTreeNode | None = None


class TokenDetail(TokenEntry):
    bytes_hex: str = Field(description="The token's bytes in hex, e.g. 'e4 b8 ad'.")
    tree: MergeTreeNode = Field(description="How merges build the token (top nodes only if deep: tree_note).")
    tree_text: str = Field(description="The same tree drawn for people.")
    tree_depth: int = Field(0, description="Merges on the longest path from the token down to a base symbol.")
    tree_note: str | None = Field(None, description="Set when the tree is too large to show whole.")
    merges_used: list[MergeRule] = Field(
        default_factory=list, description="Every merge that builds the token, once each, in rank order."
    )
    merges_used_total: int = Field(0, description="How many merges build the token (merges_used may show fewer).")


class VocabView(BaseModel):
    tokenizer: str
    view: str
    summary: VocabSummary | None = None
    tokens: TokenPage | None = None
    merges: MergePage | None = None
    token: TokenDetail | None = None


# --- explain ---------------------------------------------------------------


class ExplainInput(Input):
    """Show, merge by merge, how BPE turns a word or short text into tokens: the word as characters or bytes,
    each merge applied (pair, rank) and the symbols after it, then the tokens and ids. Use a `tokenizer`, or
    `train_on` (a small corpus such as 'low low low lower newest newest widest') to learn `num_merges` merges
    first, listed too, storing nothing. For teaching or debugging. Returns the steps and a readable `walkthrough`.
    """
    text: str = Field(min_length=1, max_length=2000, description="A word or short text to explain.")
    tokenizer: TokenizerName | None = Field(
        None, description="Tokenizer whose merges to apply (or give train_on)."
    )
    train_on: str | None = Field(
        None,
        min_length=1,
        max_length=200_000,
        description="Instead of a tokenizer: a small corpus to learn merges from (nothing is saved).",
    )
    mode: FamilyName = Field(
        "classic", description="With train_on: 'classic' (characters + '</w>', the textbook view) or 'byte_level'."
    )
    num_merges: int = Field(10, ge=0, le=10_000, description="With train_on: merges to learn.")
    max_words: int = Field(20, ge=1, le=200, description="Explain at most this many words of the text.")

    _one_source = exactly_one_of(
        "tokenizer", "train_on", "give exactly one of tokenizer (a stored name) and train_on (a small corpus)")


class ExplainStep(BaseModel):
    step: int
    rank: int = Field(description="Rank of the merge applied (lower ranks are applied first).")
    pair: tuple[str, str] = Field(description="The two adjacent symbols merged (readable).")
    merged: str = Field(description="The new symbol (readable).")
    position: int = Field(description="Index of the pair's left symbol among the word's symbols before this merge.")
    symbols: list[str] | None = Field(
        None, description="The word's symbols after this merge (readable); None for long words (see steps_note)."
    )


class WordExplanation(BaseModel):
    word: str
    start: int = Field(description="Character offset of the word in the text.")
    special: bool = False
    initial_symbols: list[str] = Field(description="The word spelled as base symbols (readable).")
    steps: list[ExplainStep]
    tokens: list[str] = Field(description="Final tokens (readable).")
    ids: list[int]


class ExplainResult(BaseModel):
    tokenizer: str | None = Field(description="The stored tokenizer used, or None for a throwaway one.")
    mode: str
    learned_merges: list[MergeRule] | None = Field(
        None, description="With train_on: the merges learned, in order (at most 50 shown)."
    )
    words: list[WordExplanation]
    words_omitted: int = Field(description="Words of the text beyond max_words, not explained.")
    steps_note: str | None = Field(
        None, description="Set when some long words' steps show no symbol list (the listings are bounded)."
    )
    walkthrough: str = Field(description="The same explanation as readable text, merge by merge.")


# --- storage tools ---------------------------------------------------------------


class ListInput(Input):
    """List the tokenizers: stored ones and the read-only references (OpenAI's, with their model names), with
    mode, sizes, special tokens and resource URI; unreadable files under `unreadable`. Also shows the data
    directory and the allowed roots (the client's roots are allowed too). Call it first to find names.
    """


class TokenizerInfo(BaseModel):
    name: str
    uri: str
    mode: str
    pattern: str
    vocab_size: int
    merges: int
    special_tokens: list[str]
    size_bytes: int | None = None
    modified: str | None = Field(None, description="Last change, ISO 8601 UTC.")
    reference: bool = Field(False, description="Built in and read-only (OpenAI's encodings).")
    aliases: list[str] | None = Field(None, description="Model names that also select it.")


class BrokenTokenizerFile(BaseModel):
    file: str
    error: str


class TokenizerList(BaseModel):
    data_dir: str
    tokenizers: list[TokenizerInfo] = Field(description="The stored tokenizers.")
    references: list[TokenizerInfo] = Field(description="Built-in, read-only: usable by name or alias.")
    unreadable: list[BrokenTokenizerFile] = Field(description="Files that are not valid tokenizers (skipped).")
    allowed_roots: list[str] = Field(description="Directories this server may read and write files in.")


class DeleteInput(Input):
    """Delete a stored tokenizer, permanently (to replace one, train_bpe with overwrite=true is enough). Exported
    files are not touched. Returns the names that remain.
    """
    name: str = Field(min_length=1, max_length=64, description="The stored tokenizer to delete.")


class DeleteResult(BaseModel):
    name: str
    deleted: bool
    remaining: list[str]


FileFormat = Literal["huggingface", "tiktoken", "gpt2", "subword_nmt", "native"]
_FORMATS_EXPLAINED = (
    "'huggingface' (tokenizer.json), 'tiktoken' (.tiktoken ranks + .tiktoken.json), 'gpt2' (vocab.json + "
    "merges.txt), all byte-level; 'subword_nmt' (codes.txt, classic); 'native' (bpe_core's JSON, any)"
)


class ImportInput(Input):
    """Import a tokenizer file from the allowed roots and store it under `name` for the other tools: a Hugging
    Face tokenizer.json, a tiktoken .tiktoken file, a GPT-2 vocab.json + merges.txt, a subword-nmt codes file,
    or bpe_core's native JSON. The import is exact or refused with the reason. Returns the name, format, mode,
    sizes and special tokens.
    """
    name: NewTokenizerName
    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        min_length=1,
        max_length=2,
        description="The file, or vocab.json and merges.txt (or their directory), inside the allowed roots.",
    )
    format: FileFormat | None = Field(None, description="By default detected. " + _FORMATS_EXPLAINED + ".")
    pattern: str | None = Field(
        None,
        min_length=1,
        max_length=10_000,
        description="For files that record none (.tiktoken alone, vocab.json): 'gpt2' (default), 'cl100k', "
        "'o200k' or a regex; OpenAI's .tiktoken files need theirs.",
    )
    special_tokens: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=1000, description="Special tokens, for files that do not mark them."
    )
    overwrite: bool = Field(False, description="Replace an existing tokenizer of the same name.")


class ImportResult(BaseModel):
    name: str
    uri: str
    format: str
    mode: str
    pattern: str
    vocab_size: int
    merges: int
    special_tokens: dict[str, int]
    sources: list[str]


class ExportInput(Input):
    """Write a tokenizer to files other libraries read (Hugging Face tokenizers / transformers, tiktoken, GPT-2,
    subword-nmt), inside the allowed roots. Existing files are refused unless overwrite=true. Returns the files
    written and how to load them.
    """
    tokenizer: TokenizerName
    format: FileFormat = Field("huggingface", description=_FORMATS_EXPLAINED + ".")
    destination: str = Field(
        min_length=1,
        max_length=4096,
        description="A directory (files get standard names) or, for one-file formats, a file path; inside "
        "the allowed roots (relative: from the first).",
    )
    overwrite: bool = Field(False, description="Replace existing files.")


class ExportedFile(BaseModel):
    path: str
    size_bytes: int


class ExportResult(BaseModel):
    tokenizer: str
    format: str
    files: list[ExportedFile]
    notes: list[str] = Field(description="What a reader of these files must know (how to load them, caveats).")


# --- evaluate_tokenizer / compare_tokenizers ---------------------------------------------------

class _HeldOut(Input):
    text: str | None = Field(None, min_length=1, description="Held-out text to measure on (or give paths).")
    paths: CorpusPaths | None = Field(None, description=CORPUS_PATHS)

    @model_validator(mode="after")
    def _needs_text(self):
        if self.text is None and not self.paths:
            raise ValueError("give the held-out text as text, as paths, or both")
        return self


class EvaluateInput(_HeldOut):
    """How good is a tokenizer (stored or reference) on held-out `text` and/or `paths`: bytes, characters per
    token, tokens per word and per CJK character, share of ids used, ids that never occur (glitch candidates;
    page with list_offset), token-length distribution, top tokens, round trip, byte fallback. Sends progress;
    cancellable. Text content: a summary, then the JSON.
    """
    tokenizer: TokenizerName
    top_k: int = Field(20, ge=0, le=500, description="Most frequent tokens to list.")
    list_offset: int = Field(0, ge=0, description="First of the unused / merge-only tokens to list.")
    list_limit: int = Field(20, ge=0, le=500, description="Unused / merge-only tokens to list.")


EvaluateResult = engine_result_model(
    Evaluation, "EvaluateResult",
    unused_total="Ids that never occur, not even inside an emitted token.",
    merge_only_total="Ids only inside the merges of emitted tokens.",
    length_distribution="Token length -> occurrences.",
)


class CompareInput(_HeldOut):
    """Run 2 to 8 tokenizers (stored or reference, e.g. 'o200k_base') over the same `text` and/or `paths`: a table
    of evaluate_tokenizer's numbers ranked by tokens (fewest first), and a sample cut by each, aligned by
    character offsets. Text content: the table and sample, then the JSON.
    """
    tokenizers: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=2, max_length=8, description="Tokenizer names (list_tokenizers), e.g. ['mine', 'o200k_base'].")
    sample_chars: int = Field(200, ge=0, le=2000, description="Length of the sample shown.")


class CompareRow(BaseModel):
    rank: int
    tokenizer: str
    vocab_size: int
    tokens: int
    relative: float = Field(description="Tokens / the fewest.")
    bytes_per_token: float | None
    characters_per_token: float | None
    tokens_per_word: float | None
    tokens_per_cjk_character: float | None
    vocab_used_share: float
    unused_total: int
    round_trip_failures: int
    byte_fallback_bytes: int | None
    encoder: str


class SampleToken(BaseModel):
    id: int
    text: str
    start: int
    end: int
    byte_fallback: bool = False


class Segmentation(BaseModel):
    tokenizer: str
    tokens: list[SampleToken]
    characters: int


class Sample(BaseModel):
    text: str
    segmentations: list[Segmentation]
    differing_boundaries: list[int] = Field(description="Offsets where some cut and others do not.")


class CompareResult(BaseModel):
    bytes: int
    characters: int
    table: list[CompareRow]
    sample: Sample
