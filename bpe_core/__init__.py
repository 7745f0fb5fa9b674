"""bpe_core: an exact, pure-Python BPE engine (classic and byte-level).

>>> from bpe_core import train, Tokenizer
>>> tok = train("the cat sat on the mat " * 20, vocab_size=270)
>>> tok.decode(tok.encode("the cat"))
'the cat'

Modules, in the order a textbook would read them:

* :mod:`~bpe_core.pretokenize` - cut text into words (whitespace, regex presets)
* :mod:`~bpe_core.byte_symbols` - GPT-2's printable spelling of the 256 bytes
* :mod:`~bpe_core.corpus_formats` - read text, JSON Lines, Parquet, compressed
* :mod:`~bpe_core.counting` - stream a corpus into word counts (in shards)
* :mod:`~bpe_core.counts` - counts files: count once, merge, train from them
* :mod:`~bpe_core.dask_counting` - count on a Dask cluster
* :mod:`~bpe_core.families` - what classic and byte-level BPE each decide
* :mod:`~bpe_core.merge_learning` - learn merges from word counts (the trainer)
* :mod:`~bpe_core.training_pipeline` - ``train()``: count, learn, assemble
* :mod:`~bpe_core.merging` - apply merges to a word
* :mod:`~bpe_core.tokenizer` - encode, decode, batch, explain
* :mod:`~bpe_core.serialization` - the native JSON format

and around them: :mod:`~bpe_core.interop` (other libraries' files),
:mod:`~bpe_core.reference` (OpenAI's cl100k_base and o200k_base, offline),
:mod:`~bpe_core.evaluation` (evaluate one tokenizer, compare several) and
:mod:`~bpe_core.fast` (encoding through tiktoken when the ids are the same).
"""

from .counts import CountsTable, count_words, load_counts, merge_counts, save_counts
from .errors import (
    BPEError,
    BudgetExceeded,
    PatternError,
    SpecialTokenError,
    TokenizerFileError,
    TrainingCancelled,
)
from .pretokenize import PRESET_PATTERNS
from .serialization import load_tokenizer, save_tokenizer
from .tokenizer import (
    BatchEncoding,
    MergeStep,
    Token,
    Tokenizer,
    TrainingReport,
    WordExplanation,
)
from .training_pipeline import train

__all__ = [
    "BPEError",
    "BatchEncoding",
    "BudgetExceeded",
    "CountsTable",
    "MergeStep",
    "PRESET_PATTERNS",
    "PatternError",
    "SpecialTokenError",
    "Token",
    "Tokenizer",
    "TokenizerFileError",
    "TrainingCancelled",
    "TrainingReport",
    "WordExplanation",
    "count_words",
    "load_counts",
    "load_tokenizer",
    "merge_counts",
    "save_counts",
    "save_tokenizer",
    "train",
]

__version__ = "0.1.0"
