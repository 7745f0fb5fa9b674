"""Tool inputs and outputs, as pydantic models.

Each tool takes one ``...Input`` model (its fields become the tool's
arguments, with these descriptions and bounds in the JSON schema) and
returns one output model (published as the tool's ``outputSchema``; the
result arrives as ``structuredContent``).  Descriptions are written for a
model that has never seen this server.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .storage import NAME_PATTERN, NAME_RULE

# --- shared pieces -----------------------------------------------------------

TokenizerName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="Name of a stored tokenizer (list_tokenizers shows them).",
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
        description=f"Name to store the tokenizer under, e.g. 'news-bpe-8k'. {NAME_RULE[0].upper() + NAME_RULE[1:]}.",
    ),
]
SpecialPolicy = Literal["all"] | Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=1000)]

PAGE_LIMIT_MAX = 500


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
    """Train a BPE tokenizer on a corpus and save it under a name, for later use with encode, decode,
    inspect_vocab, explain and export_tokenizer. The corpus is `text`, and/or `paths` (files, directories or
    glob patterns inside the server's allowed roots). Choose `vocab_size` (final vocabulary size; byte-level BPE
    starts with 256 byte tokens) and/or `num_merges`. `mode` 'byte_level' (default, GPT-2 style, any language)
    or 'classic' (the textbook algorithm with '</w>'). An existing name is refused unless overwrite=true. Sends
    progress notifications; cancelling the call stops training and saves nothing. Returns the vocabulary size,
    merges learned, why training stopped, corpus statistics, timings, the first merges, and the tokenizer's
    resource URI.
    """
    name: NewTokenizerName
    text: str | None = Field(
        None,
        min_length=1,
        description="Corpus text to train on (use this for text you already have; for files use paths). "
        "Lines are counted like separate documents.",
    )
    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Corpus files, directories (read recursively) or glob patterns such as 'corpus/**/*.txt', "
        "inside the server's allowed roots; relative paths start at the first root. Files must be UTF-8.",
    )
    mode: Literal["byte_level", "classic"] = Field(
        "byte_level",
        description="'byte_level' (GPT-2 style: works on UTF-8 bytes, never meets an unknown character, "
        "keeps spaces as 'Ġ') or 'classic' (Sennrich et al.: characters plus an end-of-word mark '</w>', "
        "words split on whitespace; the textbook algorithm).",
    )
    vocab_size: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="Target vocabulary size, counting the base symbols (256 bytes in byte_level mode) and "
        "special tokens. Give vocab_size or num_merges (or both: training stops at whichever comes first).",
    )
    num_merges: int | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="How many merges to learn (the tutorials' 'num_merges'). Small values such as 10 make "
        "each merge easy to follow.",
    )
    min_frequency: int = Field(
        0,
        ge=0,
        description="Stop when the most frequent pair occurs fewer times than this (2 stops before merging "
        "pairs seen only once).",
    )
    pattern: str | None = Field(
        None,
        min_length=1,
        max_length=10_000,
        description="Byte-level pre-tokenizer: 'gpt2' (default), 'cl100k', 'o200k', or a custom regular "
        "expression whose matches are the words. Not allowed in classic mode (it splits on whitespace).",
    )
    special_tokens: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=1000,
        description="Tokens that get the first ids and are never split or merged, e.g. ['<|endoftext|>', "
        "'<pad>']. Include '<pad>' if you will pad batches.",
    )
    overwrite: bool = Field(
        False, description="Replace an existing tokenizer of the same name. By default an existing name is refused."
    )
    text_field: str = Field(
        "text",
        min_length=1,
        max_length=200,
        description="For JSON Lines files (.jsonl, .json): the field holding each record's text, with dots for a "
        "nested field ('meta.body'); for Parquet files: the text column.",
    )
    on_error: Literal["fail", "skip"] = Field(
        "fail",
        description="Records that cannot be read (not UTF-8, not JSON, no text field): 'fail' stops at the first "
        "one, 'skip' skips them and lists them in the result (corpus.skipped_records, corpus.problems).",
    )
    counts_path: str | None = Field(
        None,
        min_length=1,
        max_length=4096,
        description="Train from a word-counts file (written by 'python -m bpe_core count') inside the allowed "
        "roots instead of a corpus: the same merges as the corpus it counts. Mode, pattern and special tokens "
        "left at their defaults are the file's own; others must match the file's.",
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
    """Turn text into token ids with a stored tokenizer. Give `text` (one string) or `texts` (a batch). Set
    return_tokens / return_offsets to see each token's readable text and character span. For model input,
    batches can be truncated (max_length, truncation_side) and padded (padding, padding_side, pad_token), which
    adds an attention_mask (1 = real token, 0 = padding). Special-token strings in the text are an error unless
    listed in allowed_special (then they become their id) or disallowed_special=[] (then they are plain text).
    Returns one encoding per text and the total count.
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
        description="Special tokens whose appearance in the text is an error: 'all' (default: every special "
        "token not allowed) or a list; pass [] to encode special-token strings as plain text.",
    )
    max_length: int | None = Field(None, ge=1, le=1_000_000, description="Truncate each text to this many tokens.")
    truncation_side: Literal["left", "right"] = Field("right", description="Which end truncation cuts.")
    padding: Literal["longest", "max_length"] | None = Field(
        None,
        description="Pad every row to the longest one or to max_length, and return attention_mask "
        "(1 = real token, 0 = padding, which a model must not attend to). Needs a pad token.",
    )
    pad_token: str | None = Field(
        None, min_length=1, description="Token to pad with (default: the special token '<pad>', '[PAD]' or '<|pad|>')."
    )
    padding_side: Literal["left", "right"] = Field(
        "right", description="'left' suits decoder-only models that generate after the last real token."
    )

    @model_validator(mode="after")
    def _one_of_text_and_texts(self) -> "EncodeInput":
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of text (one string) and texts (a list of strings)")
        return self


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
        description="What to do if the ids end in the middle of a UTF-8 character: 'replace' shows U+FFFD, "
        "'strict' reports an error.",
    )


class DecodeResult(BaseModel):
    tokenizer: str
    text: str
    token_count: int
    valid_utf8: bool = Field(description="False if some bytes were not valid UTF-8 (and were replaced).")


# --- inspect_vocab ---------------------------------------------------------------


class InspectInput(Input):
    """Look inside a stored tokenizer. view='summary' (default): mode, pre-tokenizer, vocabulary size, merges,
    special tokens and a histogram of token lengths. view='tokens': a page of tokens with id, readable text,
    length and the merge that made each; sort by id, length or alphabetically; filter with `contains` or
    `regex`. view='merges': a page of merges in rank order as [left, right] pairs. view='token' with `id` or
    `token`: one token's bytes and the tree of merges that builds it. Pages hold at most 500 items and say how
    to fetch the next one (next_offset).
    """
    tokenizer: TokenizerName
    view: Literal["summary", "tokens", "merges", "token"] = Field(
        "summary",
        description="'summary': mode, pattern, sizes, special tokens, token-length histogram. 'tokens': a page "
        "of the vocabulary (sortable, filterable). 'merges': a page of merges in rank order. 'token': one "
        "token (give id or token) with its bytes and the merge tree that builds it.",
    )
    offset: int = Field(0, ge=0, description="First item of the page (views 'tokens' and 'merges').")
    limit: int = Field(50, ge=1, le=PAGE_LIMIT_MAX, description=f"Items per page, at most {PAGE_LIMIT_MAX}.")
    sort: Literal["id", "length", "alphabetical"] = Field(
        "id", description="Order of the 'tokens' view: by id (= merge order after the base symbols), by length, "
        "or alphabetically by readable text."
    )
    descending: bool = Field(False, description="Reverse the sort order.")
    contains: str | None = Field(
        None, min_length=1, max_length=200, description="'tokens' view: only tokens containing this text "
        "(readable form such as ' the', or stored form such as 'Ġthe')."
    )
    regex: str | None = Field(
        None, min_length=1, max_length=1000, description="'tokens' view: only tokens matching this regular expression."
    )
    id: int | None = Field(None, ge=0, description="'token' view: the token id.")
    token: str | None = Field(
        None, min_length=1, max_length=1000, description="'token' view: the token, stored ('Ġthe') or readable (' the')."
    )

    @model_validator(mode="after")
    def _token_view_needs_a_token(self) -> "InspectInput":
        if self.view == "token" and (self.id is None) == (self.token is None):
            raise ValueError("view 'token' needs exactly one of id and token")
        return self


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
    tree: MergeTreeNode = Field(
        description="How the token is built from merges, down to base symbols (its top nodes for a deep tree: "
        "see tree_note)."
    )
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
    """Show, merge by merge, how BPE turns a word or short text into tokens: the word spelled as characters or
    bytes, each merge applied (which pair, which rank) and the symbols after it, then the final tokens and ids.
    Use a stored `tokenizer`, or give `train_on` (a small corpus such as 'low low low lower newest newest
    widest') to first learn `num_merges` merges, which are listed too, without storing anything. Best for
    teaching or debugging a surprising tokenization. Returns the steps as data and as a readable `walkthrough`.
    """
    text: str = Field(min_length=1, max_length=2000, description="A word or short text to explain.")
    tokenizer: TokenizerName | None = Field(
        None, description="Stored tokenizer whose merges to apply. Leave out and give train_on to learn merges first."
    )
    train_on: str | None = Field(
        None,
        min_length=1,
        max_length=200_000,
        description="Instead of a stored tokenizer: a small corpus to train a throwaway tokenizer on (not saved), "
        "as in the textbook example 'low low low lower newest newest widest'.",
    )
    mode: Literal["classic", "byte_level"] = Field(
        "classic", description="With train_on: 'classic' (characters + '</w>', the textbook view) or 'byte_level'."
    )
    num_merges: int = Field(10, ge=0, le=10_000, description="With train_on: merges to learn.")
    max_words: int = Field(20, ge=1, le=200, description="Explain at most this many words of the text.")

    @model_validator(mode="after")
    def _one_source(self) -> "ExplainInput":
        if (self.tokenizer is None) == (self.train_on is None):
            raise ValueError("give exactly one of tokenizer (a stored name) and train_on (a small corpus)")
        return self


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
    """List the stored tokenizers with their mode, vocabulary size, merges, special tokens and resource URI; files
    that are not valid tokenizers are reported under `unreadable`. Also shows the data directory and the allowed
    roots set at server start (the client's own roots are allowed too). Call this first to find tokenizer names.
    """


class TokenizerInfo(BaseModel):
    name: str
    uri: str
    mode: str
    pattern: str
    vocab_size: int
    merges: int
    special_tokens: list[str]
    size_bytes: int
    modified: str = Field(description="Last change, ISO 8601 UTC.")


class BrokenTokenizerFile(BaseModel):
    file: str
    error: str


class TokenizerList(BaseModel):
    data_dir: str
    tokenizers: list[TokenizerInfo]
    unreadable: list[BrokenTokenizerFile] = Field(description="Files that are not valid tokenizers (skipped).")
    allowed_roots: list[str] = Field(description="Directories this server may read and write files in.")


class DeleteInput(Input):
    """Delete a stored tokenizer by name, permanently (there is no undo). Use it to remove a tokenizer that is no
    longer needed; to replace one, train_bpe with overwrite=true is enough. Files written by export_tokenizer
    are not touched. Returns the names that remain.
    """
    name: TokenizerName


class DeleteResult(BaseModel):
    name: str
    deleted: bool
    remaining: list[str]


FileFormat = Literal["huggingface", "tiktoken", "gpt2", "subword_nmt", "native"]
_FORMATS_EXPLAINED = (
    "'huggingface' (tokenizer.json, loadable with tokenizers.Tokenizer.from_file; byte-level only), "
    "'tiktoken' (NAME.tiktoken ranks + NAME.tiktoken.json with pattern and special tokens; byte-level only), "
    "'gpt2' (vocab.json + merges.txt; byte-level only), 'subword_nmt' (codes.txt + codes.txt.vocab.json; "
    "classic only) or 'native' (bpe_core's own JSON; any tokenizer)"
)


class ImportInput(Input):
    """Import a tokenizer made elsewhere and store it under a name, so that encode, explain, inspect_vocab and the
    other tools can use it: a Hugging Face tokenizer.json (byte-level BPE), a tiktoken .tiktoken file (with
    pattern='cl100k' or 'o200k' for OpenAI's files unless the companion .tiktoken.json is present), a GPT-2
    vocab.json + merges.txt pair, a subword-nmt codes file, or bpe_core's native JSON. Files must be inside the
    allowed roots. The import is exact or refused with the reason. Returns the stored name, format, mode, sizes
    and special tokens.
    """
    name: NewTokenizerName
    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        min_length=1,
        max_length=2,
        description="The file(s) to import, inside the allowed roots: a tokenizer.json, a .tiktoken file, a "
        "vocab.json and a merges.txt (or the directory holding them), a subword-nmt codes file, or a native "
        "bpe_core JSON file.",
    )
    format: FileFormat | None = Field(None, description="File format; by default detected from the names and "
                                      "contents. One of " + _FORMATS_EXPLAINED + ".")
    pattern: str | None = Field(
        None,
        min_length=1,
        max_length=10_000,
        description="Pre-tokenizer for files that record none (a .tiktoken without its .json, vocab.json + "
        "merges.txt): 'gpt2' (default for those), 'cl100k', 'o200k' or a regex. cl100k_base.tiktoken needs 'cl100k'.",
    )
    special_tokens: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=1000, description="Special tokens, for files that do not mark them (by default the "
        "file's own)."
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
    """Write a stored tokenizer to files other libraries read, inside the allowed roots: format 'huggingface'
    (tokenizer.json for the tokenizers / transformers libraries, the default), 'tiktoken', 'gpt2' (vocab.json +
    merges.txt), 'subword_nmt' (classic tokenizers) or 'native'. Byte-level tokenizers fit the first three;
    classic ones only subword_nmt and native. Existing files are refused unless overwrite=true. Returns the
    files written and notes on how to load them.
    """
    tokenizer: TokenizerName
    format: FileFormat = Field("huggingface", description="One of " + _FORMATS_EXPLAINED + ".")
    destination: str = Field(
        min_length=1,
        max_length=4096,
        description="Where to write, inside the allowed roots: an existing directory (the files get standard "
        "names: tokenizer.json, tokenizer.tiktoken, vocab.json, ...) or a file path for single-file formats. "
        "Relative paths start at the first allowed root.",
    )
    overwrite: bool = Field(False, description="Replace files that already exist (by default they are refused).")


class ExportedFile(BaseModel):
    path: str
    size_bytes: int


class ExportResult(BaseModel):
    tokenizer: str
    format: str
    files: list[ExportedFile]
    notes: list[str] = Field(description="What a reader of these files must know (how to load them, caveats).")
