"""GPT-2's reversible map between the 256 byte values and printable symbols.

Byte-level BPE works on bytes, but vocabularies are easier to read (and to
store in JSON) as text.  GPT-2 therefore gives every byte a printable
Unicode character: bytes that are already printable keep their own
character, the others (control bytes, space, ...) are moved to code points
from 256 upwards.  A space becomes ``Ġ`` and a newline ``Ċ``:

>>> bytes_to_symbols(" hi\\n".encode())
'ĠhiĊ'
>>> symbols_to_bytes('ĠhiĊ')
b' hi\\n'

The order of ``BYTE_SYMBOLS`` (sorted by code point) is the order in which
GPT-2's vocabulary and Hugging Face's ``ByteLevel.alphabet()`` number them.
"""

from __future__ import annotations


def _build_byte_to_symbol() -> list[str]:
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    symbol_of = {byte: chr(byte) for byte in printable}
    # The rest are shifted past 255, in byte order, so each stays printable.
    shifted = 0
    for byte in range(256):
        if byte not in symbol_of:
            symbol_of[byte] = chr(256 + shifted)
            shifted += 1
    return [symbol_of[byte] for byte in range(256)]


#: ``BYTE_TO_SYMBOL[b]`` is the printable symbol that stands for byte ``b``.
BYTE_TO_SYMBOL: list[str] = _build_byte_to_symbol()
#: The inverse map: symbol character to byte value.
SYMBOL_TO_BYTE: dict[str, int] = {s: b for b, s in enumerate(BYTE_TO_SYMBOL)}
#: The 256 symbols sorted by code point (GPT-2 / Hugging Face id order).
BYTE_SYMBOLS: list[str] = sorted(BYTE_TO_SYMBOL)

# str.translate table: a latin-1 decoded string -> symbols, one C call.
_LATIN1_TO_SYMBOLS = {byte: symbol for byte, symbol in enumerate(BYTE_TO_SYMBOL)}


def bytes_to_symbols(data: bytes) -> str:
    """Spell ``data`` with one printable symbol per byte.

    >>> bytes_to_symbols("中".encode())
    'ä¸Ń'
    """
    return data.decode("latin-1").translate(_LATIN1_TO_SYMBOLS)


def symbols_to_bytes(symbols: str) -> bytes:
    """Inverse of :func:`bytes_to_symbols`; raises ``KeyError`` on a foreign symbol."""
    return bytes(SYMBOL_TO_BYTE[s] for s in symbols)
