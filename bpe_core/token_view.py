"""See the tokens: a text with its token boundaries, for a terminal or a browser.

A :class:`Segmentation` is one tokenizer's cut of one text: a name and a list
of :class:`Piece` (id, readable text, character offsets, and whether the
piece holds only part of a character's bytes).  From one or more of them
this module renders

* :func:`plain`: pieces between ``|`` dividers, whitespace made visible
  (what a pipe, ``NO_COLOR`` or a client without MCP Apps gets);
* :func:`render_ansi`: the same with a background colour per token, for a
  terminal;
* :func:`render_html`: a self-contained page (no network, strict CSP, light
  and dark themes) with one span per token, the id on hover and on keyboard
  focus, several tokenizers one above the other and their counts.  The same
  page, without data, is the MCP App (:func:`app_html`): it receives its
  data from the host instead.

>>> from bpe_core import train
>>> tok = train("low lower lowest " * 20, vocab_size=262)
>>> view = segment(tok, "mine", "low lowest\\n")
>>> print(plain([view]), end="")
mine: 4 tokens, 11 characters
low|␣lowe|st|↵

Whitespace glyphs follow :mod:`bpe_core.display` (``␣`` is a space); a line
break shows as ``↵`` and then breaks the line, so a text keeps its shape.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable, TextIO

from .atomic_files import write_atomically

# Whitespace and control characters as glyphs; a line break also keeps its real break.
_GLYPHS = {" ": "␣", "\t": "→", "\r": "␍", "\n": "↵\n", "\x7f": "␡"}
_GLYPHS |= {chr(c): chr(0x2400 + c) for c in range(0x20) if chr(c) not in _GLYPHS}  # control pictures
_SHOWN = str.maketrans(_GLYPHS)

DIVIDER = "|"

# Background colours of the terminal view (xterm 256-colour palette), taken in turn: pale tones under
# black text, so neighbours differ however the terminal's own theme is set.
_ANSI_BACKGROUNDS = (153, 223, 194, 225, 230)
_ANSI_BYTES = "\x1b[4;38;5;124m"  # underlined dark red: a piece of a character's bytes
_ANSI_GLYPH = "\x1b[38;5;244m"  # grey: a whitespace glyph (then black again)
_GLYPH_SET = {glyph[0] for glyph in _GLYPHS.values()}
_RESET = "\x1b[0m"


@dataclass
class Piece:
    """One token of a segmentation, as people see it.

    ``text`` is readable (bytes that are only part of a character show as
    ``\\xNN``, as in :mod:`bpe_core.display`); ``start``/``end`` are
    character offsets into the text (a piece of a character covers all of
    it); ``byte_fallback`` marks such pieces.
    """

    id: int
    text: str
    start: int
    end: int
    byte_fallback: bool = False
    special: bool = False


@dataclass
class Segmentation:
    """One tokenizer's tokens for one text.

    :meth:`to_dict` is the shape the HTML view reads (and the MCP App accepts
    in ``segmentations``): ``{"tokenizer", "tokens": [{"id", "text", "start",
    "end", "byte_fallback"?, "special"?}], "characters"?}``.
    """

    tokenizer: str
    pieces: list[Piece]
    characters: int | None = None  # length of the text, in characters, when known

    def to_dict(self) -> dict:
        tokens = []
        for piece in self.pieces:
            entry = {k: v for k, v in asdict(piece).items() if v is not False}
            tokens.append(entry)
        result = {"tokenizer": self.tokenizer, "tokens": tokens}
        if self.characters is not None:
            result["characters"] = self.characters
        return result

    def summary(self) -> str:
        """``'mine: 4 tokens, 11 characters'`` (the characters when the text's length is known)."""
        count = len(self.pieces)
        line = f"{self.tokenizer}: {count:,} token{'' if count == 1 else 's'}"
        if self.characters is not None:
            line += f", {self.characters:,} character{'' if self.characters == 1 else 's'}"
        return line


def from_tokens(name: str, text: str, tokens: Iterable) -> Segmentation:
    """A segmentation from :meth:`Tokenizer.encode_tokens` records of ``text``.

    A piece is a byte fallback when its readable text is not the text it
    covers: it holds only some of a character's bytes.
    """
    pieces = [Piece(t.id, t.text, t.start, t.end, byte_fallback=t.text != text[t.start:t.end],
                    special=getattr(t, "special", False)) for t in tokens]
    return Segmentation(name, pieces, characters=len(text))


def segment(tokenizer, name: str, text: str, **policy) -> Segmentation:
    """``text`` cut by ``tokenizer`` (``policy``: ``encode_tokens``' special-token arguments)."""
    return from_tokens(name, text, tokenizer.encode_tokens(text, **policy))


def shown(text: str) -> str:
    """``text`` with whitespace and control characters as glyphs (line breaks kept).

    >>> shown("a b\\tc\\n")
    'a␣b→c↵\\n'
    """
    return text.translate(_SHOWN)


def divided(texts: Iterable[str], divider: str = DIVIDER) -> str:
    """Readable token texts between dividers: the view for readers without colour.

    >>> divided(["Hello", " world", "!"])
    'Hello|␣world|!'
    """
    return divider.join(shown(t) for t in texts)


def plain(segmentations: Iterable[Segmentation]) -> str:
    """Each segmentation's summary line, then its pieces between ``|`` dividers."""
    blocks = []
    for view in segmentations:
        pieces = divided(p.text for p in view.pieces)
        blocks.append(f"{view.summary()}\n{pieces}" + ("" if pieces.endswith("\n") else "\n"))
    return "\n".join(blocks)


def render_ansi(segmentations: Iterable[Segmentation]) -> str:
    """Like :func:`plain`, with a background colour per token instead of dividers."""
    blocks = []
    for view in segmentations:
        out = [view.summary(), "\n"]
        for index, piece in enumerate(view.pieces):
            style = f"\x1b[48;5;{_ANSI_BACKGROUNDS[index % len(_ANSI_BACKGROUNDS)]}m\x1b[30m"
            if piece.byte_fallback:
                style += _ANSI_BYTES
            for line_index, line in enumerate(shown(piece.text).split("\n")):
                if line_index:  # a real line break: end the colour first, or it fills the rest of the line
                    out.append("\n")
                if line:
                    out.append(style + "".join(_ANSI_GLYPH + ch + "\x1b[30m" if ch in _GLYPH_SET else ch
                                               for ch in line) + _RESET)
        if not view.pieces or not view.pieces[-1].text.endswith("\n"):
            out.append("\n")
        blocks.append("".join(out))
    return "\n".join(blocks)


def use_colour(stream: TextIO) -> bool:
    """Colour only for a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


# --- the page ---------------------------------------------------------------------

_TEMPLATE = "token_view.html"


def _template() -> str:
    return resources.files(__package__).joinpath(_TEMPLATE).read_text(encoding="utf-8")


def render_html(segmentations: Iterable[Segmentation] | None, *, title: str = "Tokens") -> str:
    """The token view as one HTML document, with ``segmentations`` in it (``None``: the MCP App, fed by a host).

    The page's script draws the tokens from the embedded data, so the file
    and the app are one renderer.  The Content-Security-Policy allows
    nothing but the inline style and this exact script (by hash): no
    request can leave the page.

    >>> page = render_html([Segmentation("t", [Piece(1, "a</script>", 0, 10)])])
    >>> "a</script>" in page, "a\\\\u003c/script>" in page
    (False, True)
    """
    template = _template()
    script = template.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    csp = ("default-src 'none'; style-src 'unsafe-inline'; "
           f"script-src 'sha256-{base64.b64encode(digest).decode()}'; base-uri 'none'; form-action 'none'")
    data = "null" if segmentations is None else json.dumps(
        {"segmentations": [s.to_dict() for s in segmentations]}, ensure_ascii=False)
    # Inside <script type="application/json"> only "</" could end the element early.
    data = data.replace("<", "\\u003c")
    fields = {"CSP": csp, "TITLE": html.escape(title), "DATA": data}
    return re.sub(r"\{\{(CSP|TITLE|DATA)\}\}", lambda match: fields[match[1]], template)


def app_html() -> str:
    """The MCP App: the token view without data, speaking the host protocol of MCP Apps."""
    return render_html(None, title="Token view")


def write_html(path: str | os.PathLike, page: str) -> Path:
    """Write ``page`` to ``path`` atomically (readers see the old file or the whole new one)."""
    target = Path(path)
    write_atomically(target, page.encode("utf-8"))
    return target
