"""bpe_core.token_view: segmentations, the divided and coloured text, and the HTML page (without a browser)."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from bpe_core import token_view, train

TEXT = "low lower 中文 😀\n\tend"


@pytest.fixture(scope="module")
def tokenizer():
    return train("low lower lowest 中国 hello\n" * 20, vocab_size=266)


def test_segmentation_covers_the_text_and_marks_pieces_of_characters(tokenizer):
    view = token_view.segment(tokenizer, "mine", TEXT)
    tokens = tokenizer.encode_tokens(TEXT)
    assert [p.id for p in view.pieces] == tokenizer.encode(TEXT) and view.characters == len(TEXT)
    # '文' and '😀' were never merged: their bytes are pieces, each covering the whole character.
    fallback = [(p.text, TEXT[p.start:p.end]) for p in view.pieces if p.byte_fallback]
    assert {covered for _, covered in fallback} == {"文", "😀"}
    assert all(re.fullmatch(r"(\\x[0-9a-f]{2})+", text) for text, _ in fallback)
    assert [p.text for p in view.pieces if not p.byte_fallback] == [t.text for t in tokens if t.text == TEXT[t.start:t.end]]
    assert view.to_dict()["tokens"][0] == {"id": tokens[0].id, "text": "low", "start": 0, "end": 3}
    special = train("a b <|end|>", vocab_size=258, special_tokens=["<|end|>"])
    marked = token_view.segment(special, "s", "a<|end|>", allowed_special="all").to_dict()["tokens"]
    assert marked[-1] == {"id": 0, "text": "<|end|>", "start": 1, "end": 8, "special": True}


def test_plain_and_ansi_views_show_every_token_in_order(tokenizer):
    one = token_view.segment(tokenizer, "one", TEXT)
    two = token_view.segment(tokenizer, "two", "low")
    plain = token_view.plain([one, two])
    first, second = plain.split("\n\n")
    assert first.startswith(f"one: {len(one.pieces)} tokens, {len(TEXT)} characters\n")
    assert first.split("\n", 1)[1].rstrip("\n").split("|") == [token_view.shown(p.text) for p in one.pieces]
    assert second == "two: 1 token, 3 characters\nlow\n"
    coloured = token_view.render_ansi([one])
    backgrounds = re.findall(r"\x1b\[48;5;(\d+)m", coloured)
    assert len(backgrounds) == len(one.pieces) and all(a != b for a, b in zip(backgrounds, backgrounds[1:]))
    without_codes = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert without_codes == f"{one.summary()}\n" + "".join(token_view.shown(p.text) for p in one.pieces) + "\n"


def test_the_page_allows_only_its_own_script_and_embeds_the_data_safely(tokenizer):
    hostile = token_view.Segmentation("</script><script>alert(1)</script>", [token_view.Piece(1, "</script>", 0, 9)])
    views = [token_view.segment(tokenizer, "mine", TEXT), hostile]
    page = token_view.render_html(views, title="<b>t</b>")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)[1]
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1  # the hostile name did not open a script element
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert csp == (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
                   "base-uri 'none'; form-action 'none'")
    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)[1])
    assert data == {"segmentations": [v.to_dict() for v in views]}
    assert "<title>&lt;b&gt;t&lt;/b&gt;</title>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
