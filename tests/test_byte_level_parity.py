"""Byte-level BPE against the two oracles: Hugging Face ``tokenizers`` and ``tiktoken``.

* Training: the merges and vocabulary equal ``tokenizers``' ``BpeTrainer``
  (ByteLevel pre-tokenizer, the 256-symbol initial alphabet) on English,
  Chinese and code, for several vocab sizes, min_frequency values and
  special tokens, from texts and from files.
* Encoding: a tokenizer we trained, loaded into ``tiktoken`` and into a
  ``tokenizers`` BPE model, gives the same ids as ours on every preset.
"""

from __future__ import annotations

import random
import re
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bpe_core
from bpe_core.pretokenize import PRESET_PATTERNS
from conftest import LINES, first_difference, hf_train_files, hf_train_sequences, hf_train_text
from corpus_text import corpus_slice

SPECIALS = ["<pad>", "<|endoftext|>"]

# --- training parity with tokenizers ----------------------------------------------

CORPUS_BYTES = {"en": 200_000, "zh": 150_000, "code": 200_000}

TRAINING_CASES = [
    pytest.param(
        corpus, vocab_size, min_frequency, SPECIALS if (i + j) % 2 else [],
        id=f"{corpus}-v{vocab_size}-min{min_frequency}-{'specials' if (i + j) % 2 else 'plain'}",
    )
    for corpus in CORPUS_BYTES
    for i, vocab_size in enumerate((300, 1000, 3000))
    for j, min_frequency in enumerate((0, 2, 5))
]


@pytest.mark.parametrize("corpus, vocab_size, min_frequency, special_tokens", TRAINING_CASES)
def test_merges_and_vocab_equal_tokenizers(corpus, vocab_size, min_frequency, special_tokens):
    text = corpus_slice(corpus, CORPUS_BYTES[corpus])
    hf_merges, hf_vocab = hf_train_text(text, vocab_size, min_frequency, special_tokens)
    tok = bpe_core.train(
        text, vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=special_tokens, workers=1
    )
    assert tok.merges == hf_merges, first_difference(tok.merges, hf_merges)
    assert tok.vocab == hf_vocab
    assert [tok.vocab[s] for s in special_tokens] == list(range(len(special_tokens)))


def test_min_frequency_stops_training_early():
    # The parity cases above must exercise the min_frequency stop, not only vocab_size.
    text = corpus_slice("zh", CORPUS_BYTES["zh"])
    tok = bpe_core.train(text, vocab_size=100_000, min_frequency=5, workers=1)
    assert tok.training.stop_reason == "min_frequency"
    hf_merges, _ = hf_train_text(text, 100_000, 5)
    assert tok.merges == hf_merges


def test_special_token_strings_in_the_corpus_are_cut_out_before_counting():
    # The README's one deliberate difference: bpe_core cuts special-token
    # strings out of the training text, so it learns what tokenizers learns
    # from the pieces between them; tokenizers itself counts them as text.
    lines = corpus_slice("zh", 40_000).splitlines(keepends=True)
    text = "".join(
        f"<|endoftext|>{line}" if i % 3 == 0 else line.replace("，", "<pad>，", 1) if i % 3 == 1 else line
        for i, line in enumerate(lines)
    )
    assert text.count("<|endoftext|>") > 50 and text.count("<pad>") > 30
    cut = re.compile("|".join(re.escape(s) for s in SPECIALS))
    pieces = [piece for line in LINES.findall(text) for piece in cut.split(line) if piece]
    tok = bpe_core.train(text, vocab_size=1000, special_tokens=SPECIALS, workers=1)
    hf_on_pieces, hf_vocab = hf_train_sequences(pieces, 1000, 0, SPECIALS)
    assert tok.merges == hf_on_pieces, first_difference(tok.merges, hf_on_pieces)
    assert tok.vocab == hf_vocab
    hf_on_text, _ = hf_train_text(text, 1000, 0, SPECIALS)
    inside = [m for m in hf_on_text if len(m[0] + m[1]) > 3 and m[0] + m[1] in "<|endoftext|>"]
    assert inside, "tokenizers, fed the whole text, learns merges inside the special token"
    assert not set(inside) & set(tok.merges)


@pytest.mark.parametrize("corpora", [["en"], ["zh"], ["code"], ["code", "zh", "en"]])
def test_training_on_files_equals_tokenizers(tmp_path, corpora):
    paths = []
    for name in corpora:
        path = tmp_path / f"{name}.txt"
        path.write_text(corpus_slice(name, 120_000), encoding="utf-8")
        paths.append(path)
    hf_merges, hf_vocab = hf_train_files(paths, 1000, 2, SPECIALS)
    tok = bpe_core.train(files=paths, vocab_size=1000, min_frequency=2, special_tokens=SPECIALS, workers=1)
    assert tok.merges == hf_merges, first_difference(tok.merges, hf_merges)
    assert tok.vocab == hf_vocab


def test_file_and_text_training_agree(tmp_path):
    text = corpus_slice("code", 100_000)
    path = tmp_path / "code.txt"
    path.write_text(text, encoding="utf-8")
    from_text = bpe_core.train(text, vocab_size=800, workers=1)
    from_file = bpe_core.train(files=[path], vocab_size=800, workers=1)
    assert from_file.merges == from_text.merges
    assert from_file.vocab == from_text.vocab


# Small random texts hit the corners that corpora rarely do: ties, whitespace
# runs at line ends, contractions, mixed scripts, very short words.
PIECES = list("ab c\n\t  .'中文😀é1２") + [
    "'s", "'ll", "\u0301", "\u00a0", "\u3000", "\u2028", "\u0085", "\r\n", "\\", "ab", "  ", "\x0b",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=60),
    vocab_size=st.integers(min_value=256, max_value=320),
    min_frequency=st.integers(min_value=0, max_value=3),
    with_specials=st.booleans(),
)
def test_random_texts_train_like_tokenizers(pieces, vocab_size, min_frequency, with_specials):
    text = "".join(pieces)
    specials = SPECIALS if with_specials else []
    vocab_size += len(specials)
    hf_merges, hf_vocab = hf_train_text(text, vocab_size, min_frequency, specials)
    tok = bpe_core.train(text, vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=specials)
    assert tok.merges == hf_merges
    assert tok.vocab == hf_vocab


# --- encoding parity with tiktoken and tokenizers ---------------------------------

PRESETS = ["gpt2", "cl100k", "o200k"]


def _training_text() -> str:
    rng = random.Random(7)
    runs = " ".join("a" * rng.randint(1, 40) for _ in range(300))  # merges of long "aaaa" runs
    return "".join(corpus_slice(name, 60_000) for name in ("en", "zh", "code")) + runs


def _hf_pattern(pattern: str) -> str:
    # Oniguruma (tokenizers) reads "{1,3}+" as a repeated interval, not a
    # possessive one; an atomic group says the same thing in both dialects.
    return pattern.replace(r"\p{N}{1,3}+", r"(?>\p{N}{1,3})")


class Oracles:
    def __init__(self, preset: str):
        import tiktoken
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

        self.ours = tok = bpe_core.train(
            _training_text(), vocab_size=2000, pattern=preset, special_tokens=SPECIALS, workers=1
        )
        ranks = {tok.token_bytes(i): i for t, i in tok.vocab.items() if t not in tok.special_tokens}
        self.tiktoken = tiktoken.Encoding(
            name=f"bpe_core_test_{preset}",
            pat_str=tok.pattern,
            mergeable_ranks=ranks,
            special_tokens=dict(tok.special_tokens),
        )
        hf = Tokenizer(models.BPE(vocab=dict(tok.vocab), merges=list(tok.merges)))
        if preset == "gpt2":
            hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        else:
            hf.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(_hf_pattern(tok.pattern)), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ])
        hf.decoder = decoders.ByteLevel()
        hf.add_special_tokens(SPECIALS)
        self.tokenizers = hf


@pytest.fixture(scope="module", params=PRESETS)
def oracles(request) -> Oracles:
    return Oracles(request.param)


SAMPLES = {
    "english": "Hello world! It's a test: we'll see, they've DONE it; I'M sure 1234567 items cost $3.50.",
    "chinese": "中文分词测试：内核文档的翻译，包含标点符号。还有全角数字１２３和English混排。",
    "code": "def f(x, *args, **kw):\n    return {k: v ** 2 for k, v in kw.items()}  # comment\n\n\tpass\r\n",
    "emoji": "emoji 😀👍🏽 family 👨\u200d👩\u200d👧 flags 🇫🇷🇯🇵 keycap 1\ufe0f\u20e3",
    "mixed scripts": "mixed Ελληνικά русский العربية हिन्दी 日本語 한국어 e\u0301 ÀB́cd",
    "whitespace runs": "   \t\t  \n\n  x  \u00a0\u3000 y\n \n\n\n   \r\n\r\n  \u2028z \x0b\x0c end   ",
    "contractions": "'s 's'S 'Ll DON'T it's  'vE",
    "digits": "3２11 12345678 ١٢٣٤ Ⅻ ½ 0.000001",
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_ids_equal_tiktoken_and_tokenizers(oracles, name):
    text = SAMPLES[name]
    ours = oracles.ours.encode(text)
    assert ours == oracles.tiktoken.encode(text)
    assert ours == oracles.tokenizers.encode(text).ids
    assert oracles.ours.decode(ours) == text


def test_corpus_text_ids_equal_tiktoken_and_tokenizers(oracles):
    # Unseen parts of the corpora: text past the 60 KB training slices.
    parts = [corpus_slice(name, 30_000, start=70_000) for name in ("en", "zh", "code")]
    assert all(len(part.encode("utf-8")) > 20_000 for part in parts)
    text = "".join(parts)
    ours = oracles.ours.encode(text)
    assert ours == oracles.tiktoken.encode(text)
    assert ours == oracles.tokenizers.encode(text).ids


def test_special_tokens_equal_tiktoken_and_tokenizers(oracles):
    text = "<|endoftext|>hi<pad><pad> there<|endoftext|> <|endo"
    ours = oracles.ours.encode(text, allowed_special="all")
    assert ours == oracles.tiktoken.encode(text, allowed_special="all")
    assert ours == oracles.tokenizers.encode(text).ids
    assert ours[0] == oracles.ours.vocab["<|endoftext|>"]
    assert oracles.ours.decode(ours) == text


def test_long_run_without_spaces_is_fast_and_equal(oracles):
    text = "a" * 100_000
    # Linearithmic merging takes well under a second here; quadratic merging
    # (10**10 steps) would take hours, so a generous bound still tells them apart.
    result = {}
    worker = threading.Thread(target=lambda: result.update(ids=oracles.ours.encode(text)), daemon=True)
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive(), "encoding 100,000 'a's did not finish in 5 minutes: merging is not linearithmic"
    ours = result["ids"]
    assert len(ours) < 20_000  # the "aaaa..." merges were learned and used
    assert ours == oracles.tiktoken.encode(text)
    assert ours == oracles.tokenizers.encode(text).ids


TEXT_PIECES = list("aeiou xyz.,;!?'\n\t 0123456789") + [
    "中文", "日本語", "😀", "👍🏽", "e\u0301", "\u00a0", "\u3000", "\r\n", "'s", "'LL", "<pad>", "<|endoftext|>",
    "def ", "    ", "\\n", "Ελλ", "рус",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_text_ids_equal_tiktoken_and_tokenizers(oracles, data):
    text = data.draw(st.one_of(
        st.lists(st.sampled_from(TEXT_PIECES), max_size=40).map("".join),
        st.text(max_size=40),
    ))
    ours = oracles.ours.encode(text, allowed_special="all")
    assert ours == oracles.tiktoken.encode(text, allowed_special="all")
    assert ours == oracles.tokenizers.encode(text).ids


def test_presets_are_the_published_patterns_for_tiktoken():
    # The regex strings themselves, as tiktoken's encodings define them.
    import ast
    import importlib.util

    spec = importlib.util.find_spec("tiktoken_ext.openai_public")
    if spec is None or spec.origin is None:
        pytest.skip("tiktoken_ext.openai_public is not installed with tiktoken")
    tree = ast.parse(open(spec.origin, encoding="utf-8").read())
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in ("cl100k_base", "o200k_base"):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Assign) and any(getattr(t, "id", None) == "pat_str" for t in inner.targets):
                    call = inner.value  # "|".join([...])
                    found[node.name] = ast.literal_eval(call.func.value).join(ast.literal_eval(call.args[0]))
                if isinstance(inner, ast.Dict):
                    for key, value in zip(inner.keys, inner.values):
                        if isinstance(key, ast.Constant) and key.value == "pat_str" and isinstance(value, ast.Constant):
                            found[node.name] = value.value
    assert found.get("cl100k_base") == PRESET_PATTERNS["cl100k"]
    assert found.get("o200k_base") == PRESET_PATTERNS["o200k"]
