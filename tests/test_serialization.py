"""The native JSON format: round trips, atomic saves, and files that are not ours."""

from __future__ import annotations

import json
import os
import stat

import pytest

import bpe_core
from bpe_core import BPEError, Tokenizer, TokenizerFileError, load_tokenizer, save_tokenizer
from bpe_core.serialization import tokenizer_from_dict, tokenizer_to_dict
from corpus_text import corpus_slice

SPECIALS = ["<pad>", "<|endoftext|>"]
PROBE = "Hello, world! It's 中文 and 😀 <|endoftext|> code: def f(x):\n\treturn x  "


@pytest.fixture(scope="module")
def trained():
    text = corpus_slice("en", 30_000) + corpus_slice("zh", 20_000)
    return {
        "gpt2": bpe_core.train(text, vocab_size=700, special_tokens=SPECIALS, workers=1),
        "cl100k": bpe_core.train(text, vocab_size=600, pattern="cl100k", workers=1),
        "custom": bpe_core.train(text, vocab_size=600, pattern=r"\s+|\w+|[^\w\s]+", workers=1),
        "classic": bpe_core.train(text, mode="classic", num_merges=300, special_tokens=["<pad>"], unk_token="[UNK]"),
    }


@pytest.mark.parametrize("kind", ["gpt2", "cl100k", "custom", "classic"])
def test_save_load_round_trip(tmp_path, trained, kind):
    tok = trained[kind]
    path = save_tokenizer(tok, tmp_path / "tok.json")
    loaded = load_tokenizer(path)
    assert loaded.mode == tok.mode
    assert loaded.pattern == tok.pattern and loaded.pattern_name == tok.pattern_name
    assert loaded.vocab == tok.vocab
    assert loaded.merges == tok.merges
    assert loaded.special_tokens == tok.special_tokens
    assert loaded.unk_token == tok.unk_token
    assert loaded.training == tok.training
    assert loaded.encode(PROBE, allowed_special="all") == tok.encode(PROBE, allowed_special="all")
    assert [vars(t) for t in loaded.encode_tokens(PROBE, allowed_special="all")] == [
        vars(t) for t in tok.encode_tokens(PROBE, allowed_special="all")
    ]
    # Saving the loaded tokenizer gives the same document again.
    again = save_tokenizer(loaded, tmp_path / "again.json")
    assert json.loads(again.read_bytes()) == json.loads(path.read_bytes())


def test_tokenizer_methods_save_and_load(tmp_path, trained):
    tok = trained["gpt2"]
    tok.save(tmp_path / "t.json")
    assert Tokenizer.load(tmp_path / "t.json").encode(PROBE, allowed_special="all") == tok.encode(PROBE, allowed_special="all")


def test_the_file_is_the_documented_json(tmp_path, trained):
    path = save_tokenizer(trained["gpt2"], tmp_path / "tok.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "bpe_core.tokenizer" and document["version"] == 1
    assert document["mode"] == "byte_level"
    assert document["pattern"]["name"] == "gpt2"
    assert document["special_tokens"] == SPECIALS
    assert all(isinstance(m, list) and len(m) == 2 for m in document["merges"])
    assert "中" in path.read_text(encoding="utf-8") or "ä¸Ń" in path.read_text(encoding="utf-8")  # not \u-escaped


# --- atomic saves ---------------------------------------------------------------------


def test_save_leaves_no_temporary_file(tmp_path, trained):
    save_tokenizer(trained["gpt2"], tmp_path / "tok.json")
    save_tokenizer(trained["classic"], tmp_path / "tok.json")  # overwrite
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tok.json"]
    assert load_tokenizer(tmp_path / "tok.json").mode == "classic"


def test_failed_save_keeps_the_old_file_and_no_temporary(tmp_path, trained, monkeypatch):
    path = save_tokenizer(trained["gpt2"], tmp_path / "tok.json")
    before = path.read_bytes()

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        save_tokenizer(trained["classic"], path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tok.json"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_saved_file_gets_the_mode_the_umask_gives_new_files(tmp_path, trained, umask, mode):
    # Not private like a mkstemp file, not a guessed umask: what open() would give.
    old_umask = os.umask(umask)
    try:
        path = save_tokenizer(trained["gpt2"], tmp_path / "tok.json")
        created = save_tokenizer(trained["gpt2"], tmp_path / "new.json", replace=False)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert stat.S_IMODE(created.stat().st_mode) == mode


def test_creating_never_replaces_and_leaves_no_temporary(tmp_path, trained):
    path = save_tokenizer(trained["gpt2"], tmp_path / "tok.json")
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        save_tokenizer(trained["classic"], path, replace=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tok.json"]


def test_placing_several_files_takes_back_what_it_placed_when_a_name_is_taken(tmp_path):
    from bpe_core.atomic_files import place_files

    staging, final = tmp_path / "staging", tmp_path / "final"
    staging.mkdir()
    final.mkdir()
    for name in ("a", "b", "c"):
        (staging / name).write_text(name)
    (final / "b").write_text("theirs")
    with pytest.raises(FileExistsError) as raised:
        place_files([(staging / n, final / n) for n in ("a", "b", "c")], replace=False)
    assert raised.value.filename == str(final / "b")
    assert sorted(p.name for p in final.iterdir()) == ["b"] and (final / "b").read_text() == "theirs"
    place_files([(staging / n, final / n) for n in ("a", "b", "c")], replace=True)
    assert [(final / n).read_text() for n in ("a", "b", "c")] == ["a", "b", "c"]


def test_overwrite_keeps_the_existing_mode(tmp_path, trained):
    path = tmp_path / "tok.json"
    path.write_text("{}")
    path.chmod(0o640)
    save_tokenizer(trained["gpt2"], path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# --- files that are not (good) tokenizers --------------------------------------------


def _good_document(trained) -> dict:
    return json.loads(json.dumps(tokenizer_to_dict(trained["gpt2"])))


def _expect_file_error(path, *fragments):
    with pytest.raises(TokenizerFileError) as raised:
        load_tokenizer(path)
    message = str(raised.value)
    assert str(path) in message, "the error must name the file"
    for fragment in fragments:
        assert fragment in message
    return message


def test_missing_file(tmp_path):
    _expect_file_error(tmp_path / "nope.json", "cannot be read")


def test_directory(tmp_path):
    _expect_file_error(tmp_path, "cannot be read")


def test_truncated_file(tmp_path, trained):
    path = save_tokenizer(trained["gpt2"], tmp_path / "tok.json")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _expect_file_error(path, "not valid JSON", "truncated")


@pytest.mark.parametrize("content", [b"", b"not json at all", b"{\"format\": ", b"[" * 100_000])
def test_corrupt_json(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    _expect_file_error(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"format": "\xff\xfe"}')
    _expect_file_error(path, "UTF-8")


def test_foreign_json_hugging_face(tmp_path, trained):
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models

    path = tmp_path / "tokenizer.json"
    tok = trained["gpt2"]
    HFTokenizer(models.BPE(vocab=dict(tok.vocab), merges=list(tok.merges))).save(str(path))
    _expect_file_error(path, "not a bpe_core tokenizer file", "import")


@pytest.mark.parametrize("document", [[1, 2, 3], "text", 42, None, {"hello": "world"}])
def test_foreign_json_values(tmp_path, document):
    path = tmp_path / "other.json"
    path.write_text(json.dumps(document))
    _expect_file_error(path)


BROKEN = {
    "newer version": (lambda d: d.update(version=2), "version 2 is not supported"),
    "no vocab": (lambda d: d.pop("vocab"), "'vocab'"),
    "merge not a pair": (lambda d: d["merges"].append(["a"]), "must be a pair of strings"),
    "merge of unknown tokens": (lambda d: d["merges"].append(["zz", "qq"]), "not in the vocabulary"),
    "duplicate id": (lambda d: d["vocab"].update({"Ġzzz": 0}), "id 0 is given to both"),
    "negative id": (lambda d: d["vocab"].update({"Ġzzz": -5}), "ids must be non-negative integers"),
    "boolean id": (lambda d: d["vocab"].update({"Ġzzz": True}), "ids must be non-negative integers"),
    "missing byte symbol": (lambda d: d["vocab"].pop("\u0100"), "256 byte symbols"),  # byte 0x00, in no merge
    "token not in byte symbols": (lambda d: d["vocab"].update({"a b": 99_999}), "not one of the 256 byte symbols"),
    "unknown mode": (lambda d: d.update(mode="wordpiece"), "mode must be one of"),
    "unknown pattern name": (lambda d: d["pattern"].update(name="gpt5"), "pattern name 'gpt5' is unknown"),
    "pattern regex not a string": (lambda d: d["pattern"].update(name="custom", regex=["x"]), "must be a string"),
    "invalid custom regex": (lambda d: d["pattern"].update(name="custom", regex="(unclosed"), "valid regular expression"),
    "special not in vocab": (lambda d: d["special_tokens"].append("<new>"), "'<new>' is not in the vocabulary"),
    "special not a string": (lambda d: d["special_tokens"].append(["<pad>"]), "special tokens must be non-empty strings"),
    "unk token not a string": (lambda d: d.update(unk_token={}), "unk_token must be a string"),
    "training malformed": (lambda d: d.update(training={"oops": 1}), "'training' is malformed"),
    "training not an object": (lambda d: d.update(training=[1]), "'training' is malformed"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_documents_name_the_file_and_the_problem(tmp_path, trained, case):
    document = _good_document(trained)
    breaks, fragment = BROKEN[case]
    breaks(document)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    _expect_file_error(path, fragment)


def test_classic_document_needs_its_unk_token(tmp_path, trained):
    document = json.loads(json.dumps(tokenizer_to_dict(trained["classic"])))
    document["unk_token"] = "<missing>"
    with pytest.raises(TokenizerFileError, match="memory.json.*unk_token '<missing>' is not in the vocabulary"):
        tokenizer_from_dict(document, "memory.json")


def test_tokenizer_with_a_lone_surrogate_cannot_be_saved(tmp_path):
    # Built by hand: training rejects such text, but a Tokenizer can be made directly.
    tok = Tokenizer(mode="classic", vocab={"<unk>": 0, "</w>": 1, "\ud800": 2}, merges=[], unk_token="<unk>")
    with pytest.raises(BPEError, match="lone surrogate U\\+D800"):
        save_tokenizer(tok, tmp_path / "s.json")
    assert list(tmp_path.iterdir()) == []
