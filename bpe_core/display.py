"""How tokens and symbols are shown to people: one notation on every screen.

A vocabulary stores byte-level tokens in GPT-2's byte symbols (``Ġthe`` is
`` the``, ``ä¸Ń`` is ``中``; see :mod:`bpe_core.byte_symbols`): exact and
printable, but not readable.  People see the text the bytes spell instead,
and where a token holds only part of a character's UTF-8 bytes, those
bytes as ``\\xNN``:

>>> from bpe_core import train
>>> tok = train("中文 中国 low lower", vocab_size=262)
>>> [symbol_text(tok, s) for s in ("Ġlow", "ä¸", "Ń")]
[' low', '\\\\xe4\\\\xb8', '\\\\xad']

A row of symbols (a word being merged) is joined by two spaces, so a space
inside a symbol shows as ``␣`` and a newline as ``\\n``:

>>> row([" low", "er", "\\n"])
'␣low  er  \\\\n'

Classic symbols are text already and keep their ``</w>`` (the textbook
shows it).  Each family's ``notation`` (:mod:`bpe_core.families`) says all
this in one sentence, for the top of a screen that uses it.
"""

from __future__ import annotations

# Whitespace that would break a line or a column, and in a row of symbols a space too.
_ESCAPED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_QUOTED = str.maketrans(_ESCAPED)
_VISIBLE = str.maketrans(_ESCAPED | {" ": "␣"})


def readable_bytes(data: bytes) -> str:
    """Bytes as text; bytes that are not (complete) UTF-8 show as ``\\xNN``.

    >>> readable_bytes("中".encode()[:2])
    '\\\\xe4\\\\xb8'
    """
    return data.decode("utf-8", errors="backslashreplace")


def symbol_text(tokenizer, symbol: str) -> str:
    """A stored symbol or token (``'Ġlow'``, ``'est</w>'``) as people read it."""
    if symbol in tokenizer.special_tokens:
        return symbol
    return tokenizer.family.shown(symbol)


def visible(text: str) -> str:
    """``text`` with spaces as ``␣`` and line breaks and tabs escaped, for a row of symbols."""
    return text.translate(_VISIBLE)


def quoted(text: str) -> str:
    r"""``text`` in double quotes, on one line, for a column of a table (no JSON escaping: ``\xNN`` stays as is).

    >>> print(quoted(" hi\n"), quoted("\\xe4"))
    " hi\n" "\xe4"
    """
    return '"' + text.translate(_QUOTED) + '"'


def row(symbols: list[str]) -> str:
    """Readable symbols side by side (see the module's example)."""
    return "  ".join(visible(symbol) for symbol in symbols)


def walkthrough(tokenizer, explanations, learned=None, *, listed=None) -> str:
    """``tokenizer.explain(...)``'s words as a textbook walk-through: the notation, the merges
    learned (``[(rank, left, right)]``, stored symbols), then each word merge by merge.

    ``listed[i]`` false shows word ``i``'s merges with their position instead
    of the symbols after each one (a long word's listings cost the square of
    its length).  The CLI's ``explain`` and the server's ``explain`` both print this.

    >>> from bpe_core import train
    >>> tok = train("low low low lower", mode="classic", num_merges=2)
    >>> print(walkthrough(tok, tok.explain("low"), [(0, "l", "o")]).splitlines()[2:])  # doctest: +ELLIPSIS
    ['Merges learned from the corpus (1 shown), most frequent pair first:', '  #0: l + o -> lo', '', "Word 'low':", '  start:     l  o  w  </w>', '  merge #0 (l + o -> lo):  lo  w  </w>', '  merge #1 (lo + w -> low):  low  </w>', '  tokens:    low  </w>   ids [...]']
    """

    def shown(symbol: str) -> str:
        return visible(symbol_text(tokenizer, symbol))

    def shown_row(symbols: list[str]) -> str:
        return row([symbol_text(tokenizer, symbol) for symbol in symbols])

    lines = [tokenizer.family.notation]
    if learned is not None:
        lines.append("")
        lines.append(f"Merges learned from the corpus ({len(learned)} shown), most frequent pair first:")
        lines += [f"  #{rank}: {shown(left)} + {shown(right)} -> {shown(left + right)}" for rank, left, right in learned]
    for index, word in enumerate(explanations):
        lines.append("")
        if word.special:
            lines.append(f"{word.word!r} is a special token: it is never split (id {word.ids[0]}).")
            continue
        lines.append(f"Word {word.word!r}:")
        lines.append(f"  start:     {shown_row(word.symbols)}")
        states = word.states() if listed is None or listed[index] else [None] * len(word.steps)
        for step, after in zip(word.steps, states):
            result = shown_row(after) if after is not None else f"at symbol {step.position}"
            lines.append(f"  merge #{step.rank} ({shown(step.left)} + {shown(step.right)} -> {shown(step.merged)}):  "
                         f"{result}")
        if not word.steps:
            lines.append("  (no learned merge applies)")
        lines.append(f"  tokens:    {shown_row(word.tokens)}   ids {word.ids}")
    return "\n".join(lines)
