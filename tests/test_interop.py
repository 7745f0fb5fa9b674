"""bpe_core.interop against the libraries themselves: tokenizers and tiktoken.

Every round trip is checked on English prose, Chinese prose and Python code
(slices of the test corpora, see ``corpus_text``), emoji, whitespace runs
and special tokens.  The oracle libraries only appear here, never in
bpe_core.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

tokenizers = pytest.importorskip("tokenizers")
tiktoken = pytest.importorskip("tiktoken")
from tokenizers import Regex, decoders, models, pre_tokenizers, trainers  # noqa: E402

from bpe_core import BPEError, Tokenizer, TokenizerFileError, train  # noqa: E402
from bpe_core.byte_symbols import BYTE_SYMBOLS, symbols_to_bytes  # noqa: E402
from bpe_core.interop import detect_format, export_tokenizer, import_tokenizer  # noqa: E402
from bpe_core.interop.huggingface import to_oniguruma  # noqa: E402
from bpe_core.pretokenize import PRESET_PATTERNS  # noqa: E402
from corpus_text import corpus_slice  # noqa: E402

SPECIALS = ["<|endoftext|>", "<pad>"]
# A custom pattern that skips whitespace: what it does not match is dropped.
SKIPPING_PATTERN = r"\p{L}+|\p{N}|[^\s\p{L}\p{N}]+"
PATTERNS = ["gpt2", "cl100k", "o200k", SKIPPING_PATTERN]


#: Bytes of each corpus the tokenizers are trained on; the samples come from past them.
TRAINING_BYTES = {"en": 150_000, "zh": 80_000, "code": 150_000}


@pytest.fixture(scope="module")
def training_text() -> str:
    return "\n".join(corpus_slice(name, size) for name, size in TRAINING_BYTES.items())


@pytest.fixture(scope="module")
def samples() -> dict[str, str]:
    """Texts none of the tokenizers was trained on."""
    unseen = {name: corpus_slice(name, 6_000, start=size + 10_000) for name, size in TRAINING_BYTES.items()}
    assert all(len(text.encode("utf-8")) > 3_000 for text in unseen.values())
    return {
        "english": unseen["en"],
        "chinese": unseen["zh"],
        "code": unseen["code"],
        "emoji": "launch 🚀🚀 ok 👋🏽 família, naïve café; 0.09999999999999995 or 12345678",
        "whitespace": "  lots   of\n\n spaces\t\tand\r\nlines \n",
        "specials": "first<|endoftext|>second <pad><pad> third<|endoftext|>",
    }


def trained(training_text: str, pattern: str, cache: dict = {}) -> Tokenizer:
    """One bpe_core tokenizer per pattern, trained once per test session."""
    if pattern not in cache:
        cache[pattern] = train(training_text, vocab_size=1_200, pattern=pattern, special_tokens=SPECIALS)
    return cache[pattern]


def hf_trained(training_text: str, pre_tokenizer) -> "tokenizers.Tokenizer":
    """A byte-level BPE trained by tokenizers' own BpeTrainer."""
    tokenizer = tokenizers.Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1_200, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator([training_text], trainer)
    return tokenizer


def hf_pre_tokenizer(pattern: str):
    if pattern == "gpt2":
        return pre_tokenizers.ByteLevel(add_prefix_space=False)
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(to_oniguruma(PRESET_PATTERNS.get(pattern, pattern))), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])


def tiktoken_from_files(rank_file: Path, spec_file: Path, monkeypatch) -> "tiktoken.Encoding":
    """Build the Encoding with tiktoken's own loader (its path cache disabled)."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    from tiktoken.load import load_tiktoken_bpe

    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    return tiktoken.Encoding(spec["name"], pat_str=spec["pat_str"], mergeable_ranks=load_tiktoken_bpe(str(rank_file)),
                             special_tokens=spec["special_tokens"])


def write_rank_file(path: Path, ranks: dict[bytes, int]) -> Path:
    path.write_text("".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in sorted(ranks.items(), key=lambda i: i[1])))
    return path


# --- export: our tokenizers in their libraries ------------------------------------


@pytest.mark.parametrize("pattern", PATTERNS, ids=["gpt2", "cl100k", "o200k", "custom"])
def test_tokenizer_json_encodes_like_us_in_tokenizers(pattern, training_text, samples, tmp_path):
    ours = trained(training_text, pattern)
    result = export_tokenizer(ours, "huggingface", tmp_path / "tokenizer.json")
    theirs = tokenizers.Tokenizer.from_file(str(result.files[0]))
    for name, text in samples.items():
        expected = ours.encode(text, allowed_special="all")
        encoding = theirs.encode(text)
        assert encoding.ids == expected, name
        assert encoding.offsets == [(t.start, t.end) for t in ours.encode_tokens(text, allowed_special="all")], name
        assert theirs.decode(expected, skip_special_tokens=False) == ours.decode(expected), name
    assert theirs.get_vocab() == ours.vocab


@pytest.mark.parametrize("pattern", PATTERNS, ids=["gpt2", "cl100k", "o200k", "custom"])
def test_tiktoken_files_encode_like_us_in_tiktoken(pattern, training_text, samples, tmp_path, monkeypatch):
    ours = trained(training_text, pattern)
    rank_file, spec_file = export_tokenizer(ours, "tiktoken", tmp_path / "ours.tiktoken").files
    assert spec_file.name == "ours.tiktoken.json"
    encoding = tiktoken_from_files(rank_file, spec_file, monkeypatch)
    for name, text in samples.items():
        expected = ours.encode(text, allowed_special="all")
        assert encoding.encode(text, allowed_special="all") == expected, name
        assert encoding.decode(expected) == ours.decode(expected), name
    assert encoding.n_vocab == ours.vocab_size
    assert import_tokenizer(rank_file).pattern_name == ours.pattern_name  # tiktoken's spelling read back


def test_tiktoken_usage_note_builds_the_encoding(training_text, samples, tmp_path):
    ours = trained(training_text, "cl100k")
    result = export_tokenizer(ours, "tiktoken", tmp_path / "mine.tiktoken")
    snippet = result.notes[0].split("\n", 1)[1]
    namespace: dict = {}
    exec(snippet, namespace)  # the lines a user pastes
    assert namespace["enc"].encode(samples["code"]) == ours.encode(samples["code"])


@pytest.mark.parametrize("pattern", ["gpt2", "cl100k"])
def test_gpt2_files_encode_like_us_in_tokenizers(pattern, training_text, samples, tmp_path):
    ours = trained(training_text, pattern)
    result = export_tokenizer(ours, "gpt2", tmp_path / "gpt2")
    vocab_file, merges_file = result.files
    assert merges_file.read_text(encoding="utf-8").startswith("#version: 0.2\n")
    theirs = tokenizers.Tokenizer(models.BPE.from_file(str(vocab_file), str(merges_file)))
    theirs.pre_tokenizer = hf_pre_tokenizer(pattern)
    theirs.add_special_tokens(SPECIALS)
    for name, text in samples.items():
        assert theirs.encode(text).ids == ours.encode(text, allowed_special="all"), name
    assert any("special" in note for note in result.notes)
    assert any("pattern" in note for note in result.notes) == (pattern != "gpt2")


# --- import: their tokenizers here ----------------------------------------------


@pytest.mark.parametrize("pattern", ["gpt2", "cl100k", "o200k"])
@pytest.mark.parametrize("merge_spelling", ["pairs", "strings"])
def test_tokenizer_json_from_tokenizers_encodes_like_tokenizers(pattern, merge_spelling, training_text, samples, tmp_path):
    theirs = hf_trained(training_text, hf_pre_tokenizer(pattern))
    path = tmp_path / "tokenizer.json"
    theirs.save(str(path))
    if merge_spelling == "strings":  # the older spelling, still common in the wild
        document = json.loads(path.read_text(encoding="utf-8"))
        document["model"]["merges"] = [" ".join(pair) for pair in document["model"]["merges"]]
        path.write_text(json.dumps(document), encoding="utf-8")
    ours = import_tokenizer(path)
    assert ours.pattern_name == pattern
    assert set(ours.special_tokens) == set(SPECIALS)
    for name, text in samples.items():
        assert ours.encode(text, allowed_special="all") == theirs.encode(text).ids, name
        ids = theirs.encode(text).ids
        assert ours.decode(ids) == theirs.decode(ids, skip_special_tokens=False), name


def test_gpt2_files_from_tokenizers_encode_like_tokenizers(training_text, samples, tmp_path):
    theirs = hf_trained(training_text, hf_pre_tokenizer("gpt2"))
    theirs.model.save(str(tmp_path))
    for source in (tmp_path, [tmp_path / "merges.txt", tmp_path / "vocab.json"], tmp_path / "vocab.json"):
        ours = import_tokenizer(source)
        # vocab.json does not mark specials: tokens no merge can make are taken as special.
        assert sorted(ours.special_tokens) == sorted(SPECIALS)
        for name, text in samples.items():
            assert ours.encode(text, allowed_special="all") == theirs.encode(text).ids, name


@pytest.mark.parametrize("pattern", ["cl100k", "o200k", "gpt2"])
def test_tiktoken_rank_file_from_tiktoken_encodes_like_tiktoken(pattern, training_text, samples, tmp_path):
    # tiktoken's public encodings are downloaded; build one from a trained vocabulary instead.
    hf = hf_trained(training_text, hf_pre_tokenizer(pattern))
    ranks = {symbols_to_bytes(t): i for t, i in hf.get_vocab().items() if t not in SPECIALS}
    specials = {"<|endoftext|>": max(ranks.values()) + 1, "<|fim|>": max(ranks.values()) + 2}
    encoding = tiktoken.Encoding("test", pat_str=PRESET_PATTERNS[pattern], mergeable_ranks=ranks, special_tokens=specials)
    rank_file = write_rank_file(tmp_path / "test.tiktoken", encoding._mergeable_ranks)
    ours = import_tokenizer(rank_file, pattern=pattern, special_tokens=list(specials))
    assert ours.special_tokens == specials
    for name, text in samples.items():
        text = text.replace("<pad>", "<|fim|>")
        expected = encoding.encode(text, allowed_special="all")
        assert ours.encode(text, allowed_special="all") == expected, name
        assert ours.decode(expected) == encoding.decode(expected), name


def test_tiktoken_import_with_a_custom_pattern_and_named_specials(training_text, samples, tmp_path):
    ours = trained(training_text, SKIPPING_PATTERN)
    rank_file, spec_file = export_tokenizer(ours, "tiktoken", tmp_path / "c.tiktoken").files
    spec_file.unlink()  # no companion: the caller names the pattern
    with pytest.raises(BPEError, match="holds no pre-tokenizer pattern"):
        import_tokenizer(rank_file)
    back = import_tokenizer(rank_file, pattern=SKIPPING_PATTERN, special_tokens={"<|endoftext|>": 0, "<pad>": 1})
    for name, text in samples.items():
        assert back.encode(text, allowed_special="all") == ours.encode(text, allowed_special="all"), name


# --- round trips through files ----------------------------------------------------


@pytest.mark.parametrize("kind", ["huggingface", "tiktoken", "gpt2", "native"])
def test_round_trip_keeps_the_tokenizer(kind, training_text, samples, tmp_path):
    ours = trained(training_text, "cl100k")
    result = export_tokenizer(ours, kind, tmp_path / ("out" if kind == "gpt2" else f"out.{kind}"))
    back = import_tokenizer(result.files if kind == "gpt2" else result.files[0],
                            pattern="cl100k" if kind == "gpt2" else None)
    assert back.vocab == ours.vocab
    assert back.special_tokens == ours.special_tokens
    assert back.pattern_name == "cl100k"
    if kind != "tiktoken":  # tiktoken adds the other splits of each token as merges
        assert back.merges == ours.merges
    for name, text in samples.items():
        assert back.encode(text, allowed_special="all") == ours.encode(text, allowed_special="all"), name


def test_classic_round_trip_through_subword_nmt_codes(training_text, samples, tmp_path):
    ours = train(training_text, mode="classic", vocab_size=1_500, special_tokens=["<pad>"])
    result = export_tokenizer(ours, "subword_nmt", tmp_path / "codes.txt")
    codes, companion = result.files
    lines = codes.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#version: 0.2" and any(line.endswith(" </w>") for line in lines)
    assert "apply-bpe" in result.notes[0]
    for source in (codes, companion, tmp_path):
        back = import_tokenizer(source)
        assert (back.vocab, back.merges, back.special_tokens, back.unk_token) == (
            ours.vocab, ours.merges, ours.special_tokens, ours.unk_token)
    companion.unlink()  # without it the alphabet comes from the merges, and the ids are new
    back = import_tokenizer(codes)
    assert back.mode == "classic" and back.merges == ours.merges
    words = " ".join(w for w in samples["english"].split() if all(ch in back.vocab for ch in w))
    assert [t.token for t in back.encode_tokens(words)] == [t.token for t in ours.encode_tokens(words)]


# --- what a format cannot hold is refused, not approximated ----------------------


def test_classic_tokenizers_are_refused_by_byte_level_formats(training_text, tmp_path):
    classic = train("low lower newest widest " * 20, mode="classic", num_merges=10)
    with pytest.raises(BPEError, match="end_of_word_suffix"):
        export_tokenizer(classic, "huggingface", tmp_path / "tokenizer.json")
    for kind in ("tiktoken", "gpt2"):
        with pytest.raises(BPEError, match="byte-level tokenizers only"):
            export_tokenizer(classic, kind, tmp_path / kind)
    with pytest.raises(BPEError, match="classic tokenizers only"):
        export_tokenizer(trained(training_text, "gpt2"), "subword_nmt", tmp_path / "codes.txt")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even temporary files


def test_tiktoken_export_refuses_merges_out_of_id_order(tmp_path):
    base = {s: i for i, s in enumerate(BYTE_SYMBOLS)}
    tokenizer = Tokenizer(mode="byte_level", vocab=base | {"ab": 257, "abc": 256}, merges=[("a", "b"), ("ab", "c")],
                          pattern="gpt2")
    with pytest.raises(BPEError, match="id order"):
        export_tokenizer(tokenizer, "tiktoken", tmp_path / "x.tiktoken")
    unreachable = Tokenizer(mode="byte_level", vocab=base | {"bc": 256, "ab": 257, "abc": 258},
                            merges=[("b", "c"), ("a", "b"), ("ab", "c")], pattern="gpt2")
    with pytest.raises(BPEError, match="not what the merges make of its own bytes"):
        export_tokenizer(unreachable, "tiktoken", tmp_path / "x.tiktoken")
    assert not (tmp_path / "x.tiktoken").exists()


def test_possessive_intervals_are_refused_for_tokenizers(tmp_path):
    tokenizer = train("a 1234 b", vocab_size=257, pattern=r"\p{L}+|\p{N}{1,2}+|\s")
    with pytest.raises(BPEError, match="Oniguruma"):
        export_tokenizer(tokenizer, "huggingface", tmp_path / "tokenizer.json")


@pytest.fixture(scope="module")
def small_hf_json(tmp_path_factory) -> dict:
    """A valid tokenizer.json from tokenizers, for the refusal tests to spoil."""
    tokenizer = hf_trained("hello world, hello there 1234 ü " * 50, hf_pre_tokenizer("gpt2"))
    return json.loads(tokenizer.to_str())


def _spoiled(document: dict, path: Path, change) -> Path:
    document = json.loads(json.dumps(document))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


REFUSED = {
    "normalizer": (lambda d: d.update(normalizer={"type": "NFC"}), "normalizer 'NFC'"),
    "model type": (lambda d: d["model"].update(type="WordPiece"), "model type 'WordPiece'"),
    "dropout": (lambda d: d["model"].update(dropout=0.1), "model.dropout"),
    "prefix": (lambda d: d["model"].update(continuing_subword_prefix="##"), "continuing_subword_prefix"),
    "suffix": (lambda d: d["model"].update(end_of_word_suffix="</w>"), "end_of_word_suffix"),
    "non-special added token": (lambda d: d["added_tokens"][0].update(special=False), "is not special"),
    "lstrip": (lambda d: d["added_tokens"][0].update(lstrip=True), "lstrip"),
    "prefix space": (lambda d: d["pre_tokenizer"].update(add_prefix_space=True), "add_prefix_space"),
    "pre-tokenizer": (lambda d: d.update(pre_tokenizer={"type": "Whitespace"}), "pre_tokenizer 'Whitespace'"),
    "template": (lambda d: d.update(post_processor={
        "type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<pad>", "type_id": 0}},
                                                 {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [], "special_tokens": {}}), "post_processor 'TemplateProcessing' adds ['<pad>']"),
    "truncation": (lambda d: d.update(truncation={"max_length": 8}), "truncation is set"),
    "decoder": (lambda d: d.update(decoder={"type": "WordPiece", "prefix": "##", "cleanup": True}), "decoder 'WordPiece'"),
    "missing bytes": (lambda d: d["model"]["vocab"].pop("Ā"), "256 byte symbols"),
    "conflicting id": (lambda d: d["added_tokens"][0].update(id=100), "model.vocab gives it id"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_tokenizer_json_we_cannot_reproduce_is_refused_naming_the_part(case, small_hf_json, tmp_path):
    change, expected = REFUSED[case]
    path = _spoiled(small_hf_json, tmp_path / f"{case.replace(' ', '_')}.json", change)
    with pytest.raises(TokenizerFileError) as error:
        import_tokenizer(path, "huggingface")
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value)


def test_harmless_tokenizer_json_settings_are_accepted(small_hf_json, tmp_path):
    def harmless(document):
        document["model"].update(byte_fallback=True, fuse_unk=True, unk_token="<pad>", ignore_merges=True, dropout=None)
        document["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
        document["decoder"] = None
        document["normalizer"] = {"type": "Sequence", "normalizers": []}

    path = _spoiled(small_hf_json, tmp_path / "tokenizer.json", harmless)
    ours = import_tokenizer(path)
    theirs = tokenizers.Tokenizer.from_file(str(path))
    text = "hello world, hello there 1234 üü hellothere<pad>"
    assert ours.encode(text, allowed_special="all") == theirs.encode(text).ids


def test_ignore_merges_is_refused_when_a_token_is_unreachable(small_hf_json, tmp_path):
    def unreachable(document):
        document["model"]["ignore_merges"] = True
        document["model"]["vocab"]["xyz"] = max(document["model"]["vocab"].values()) + 1

    with pytest.raises(TokenizerFileError, match="ignore_merges=true, and token 'xyz'"):
        import_tokenizer(_spoiled(small_hf_json, tmp_path / "t.json", unreachable))


def test_isolated_split_with_a_custom_pattern_keeps_the_text_between_matches(small_hf_json, tmp_path):
    def letters_only(document):
        document["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": r"\p{L}+"}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}

    path = _spoiled(small_hf_json, tmp_path / "t.json", letters_only)
    ours, theirs = import_tokenizer(path), tokenizers.Tokenizer.from_file(str(path))
    text = "hello, world!! 1234 there"
    assert ours.encode(text) == theirs.encode(text).ids


def test_subword_nmt_codes_with_glued_end_of_word_are_refused(tmp_path):
    codes = tmp_path / "codes"
    codes.write_text("#version: 0.2\ne s\nes t</w>\n", encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="glues '</w>' to a character"):
        import_tokenizer(codes)


# --- corrupt, truncated and foreign files ----------------------------------------


def test_truncated_tokenizer_json_names_the_file(small_hf_json, tmp_path):
    path = tmp_path / "tokenizer.json"
    text = json.dumps(small_hf_json)
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(TokenizerFileError, match=rf"^{path}: is not valid JSON .* truncated or corrupt"):
        import_tokenizer(path)


@pytest.mark.parametrize(
    "name, content, fmt, expected",
    [
        ("binary.tiktoken", b"\x00\xff\xfe garbage", None, "not UTF-8"),
        ("empty.tiktoken", b"", None, "holds no tokens"),
        ("bad.tiktoken", b"IQ== 0\n!!!! 1\n", None, "line 2: '!!!!' is not valid base64"),
        ("words.tiktoken", b"hello world\n", None, "line 1 should be '<base64 token> <rank>'"),
        ("dup.tiktoken", b"IQ== 0\nIg== 0\n", None, "rank 0 is given to both"),
        ("few.tiktoken", b"IQ== 0\nIg== 1\n", None, "lacks 254 of the 256 single bytes"),
        ("model.json", b'{"model": {"type": "BPE", "vocab": [], "merges": []}}', None, "model.vocab must be a JSON object"),
        ("list.json", b"[1, 2, 3]", None, "neither a bpe_core tokenizer"),
        ("notes.txt", b"just some notes\nnothing else\n", None, "cannot tell which tokenizer format"),
        ("tok.json", b'{"format": "bpe_core.tokenizer", "version": 9}', None, "format version 9"),
        ("vocab.json", b'{"a": 0}', None, "merges.txt: does not exist"),
    ],
)
def test_corrupt_and_foreign_files_give_a_clear_error(name, content, fmt, expected, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TokenizerFileError) as error:
        import_tokenizer(path, fmt, pattern="gpt2" if name.endswith(".tiktoken") else None)
    assert expected in str(error.value)
    assert str(tmp_path) in str(error.value)


def test_gpt2_files_that_do_not_belong_together(tmp_path):
    vocab = {s: i for i, s in enumerate(BYTE_SYMBOLS)} | {"he": 256}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (tmp_path / "merges.txt").write_text("#version: 0.2\nh e\nhe llo\n", encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="uses 'llo', which is not in vocab.json"):
        import_tokenizer(tmp_path)
    (tmp_path / "merges.txt").write_text("#version: 0.2\nh e\nhello\n", encoding="utf-8")
    with pytest.raises(TokenizerFileError, match="line 3 must be two tokens separated by one space"):
        import_tokenizer(tmp_path)


def test_tiktoken_ranks_that_no_merge_list_reproduces_are_refused(tmp_path):
    ranks = {bytes([b]): b for b in range(256)} | {b"abc": 256}  # "abc" without "ab" or "bc"
    with pytest.raises(TokenizerFileError, match=r"b'abc' \(rank 256\) is not the merge of two lower-ranked tokens"):
        import_tokenizer(write_rank_file(tmp_path / "x.tiktoken", ranks), pattern="gpt2")


def test_missing_files_and_directories(tmp_path):
    with pytest.raises(TokenizerFileError, match="no such file"):
        import_tokenizer(tmp_path / "nothing.bin")
    with pytest.raises(TokenizerFileError, match="neither tokenizer.json"):
        import_tokenizer(tmp_path)
    with pytest.raises(BPEError, match="unknown tokenizer file format 'sentencepiece'"):
        import_tokenizer(tmp_path, "sentencepiece")


def test_format_detection():
    assert detect_format("x/tokenizer.json") == "huggingface"
    assert detect_format("cl100k_base.tiktoken") == "tiktoken"
    assert detect_format(["a/vocab.json", "a/merges.txt"]) == "gpt2"
    assert detect_format("codes.txt.vocab.json") == "subword_nmt"


def test_exports_are_atomic_and_leave_no_temporary_files(training_text, tmp_path):
    ours = trained(training_text, "gpt2")
    for kind in ("huggingface", "tiktoken", "gpt2", "native"):
        export_tokenizer(ours, kind, tmp_path / kind)
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert leftovers == []
    assert sorted(os.listdir(tmp_path / "gpt2")) == ["merges.txt", "vocab.json"]


def test_every_format_holds_one_id_per_token_and_one_token_per_id(tmp_path):
    """One check (interop.files.add_entry) for rank files, tiktoken special tokens and added tokens: a repeated
    entry is harmless, as in tiktoken's own reader; a contradiction is refused, saying where each side is."""
    single_bytes = b"".join(base64.b64encode(bytes([b])) + b" %d\n" % b for b in range(256))
    repeated = tmp_path / "repeated.tiktoken"
    repeated.write_bytes(single_bytes + base64.b64encode(b"ab") + b" 256\n" + base64.b64encode(b"ab") + b" 256\n")
    assert import_tokenizer(repeated, "tiktoken", pattern="gpt2").vocab_size == 257
    twice = tmp_path / "twice.tiktoken"
    twice.write_bytes(single_bytes + base64.b64encode(b"a") + b" 256\n")
    with pytest.raises(TokenizerFileError, match=r"line 257: b'a' has rank 256, but an earlier line gives it rank 97"):
        import_tokenizer(twice, "tiktoken", pattern="gpt2")
    with pytest.raises(TokenizerFileError,
                       match=r"special token '<\|x\|>': id 97 is given to both b'a' \(the rank file\) and '<\|x\|>'"):
        import_tokenizer(repeated, "tiktoken", pattern="gpt2", special_tokens={"<|x|>": 97})
