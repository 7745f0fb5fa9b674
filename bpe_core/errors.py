"""Errors raised by bpe_core.

Every error is a sentence a user can act on: what was wrong, the value seen,
and what to do.  They all derive from :class:`BPEError` (a ``ValueError``), so
``except BPEError`` catches anything the engine reports about its input.
"""


class BPEError(ValueError):
    """Base class: the input (text, pattern, file, argument) cannot be used."""


class PatternError(BPEError):
    """A pre-tokenizer pattern is invalid, or took too long on some text."""


class SpecialTokenError(BPEError):
    """Text holds a special token that the caller did not allow (or forbid).

    The message speaks Python (``allowed_special={'<|endoftext|>'}``); the
    fields let a caller with other words for the fix (JSON arguments,
    command-line flags) say it in those:

    * ``token``, ``position``: the disallowed special token found in the
      text, and its character offset;
    * ``argument``, ``unknown``, ``known``: a policy argument
      (``allowed_special`` or ``disallowed_special``) that names strings
      which are not special tokens, those strings, and the tokenizer's
      special tokens.
    """

    def __init__(self, message: str, *, token: str | None = None, position: int | None = None,
                 argument: str | None = None, unknown: tuple[str, ...] = (), known: tuple[str, ...] = ()):
        super().__init__(message)
        self.token = token
        self.position = position
        self.argument = argument
        self.unknown = unknown
        self.known = known


class TokenizerFileError(BPEError):
    """A saved tokenizer file is corrupt, truncated, foreign or unsupported."""


class BudgetExceeded(BPEError):
    """A request would need more than a stated budget (bytes, tokens, steps).

    Raised *before* the work, where it can be.  ``parameter`` names the
    argument that set the budget (``max_bytes``, ``max_vocab_size``), so a
    caller that derived it from its own setting (the server's flags) can say
    which setting to raise.

    >>> str(BudgetExceeded("the decoded text is 10 bytes, over the limit of 4", "max_bytes"))
    'the decoded text is 10 bytes, over the limit of 4'
    """

    def __init__(self, message: str, parameter: str):
        super().__init__(message)
        self.parameter = parameter


class TrainingCancelled(Exception):
    """Training was stopped on request; nothing was produced.

    Not a ``BPEError``: nothing was wrong with the input.
    """


class EvaluationCancelled(Exception):
    """An evaluation or comparison was stopped on request; nothing was produced."""
