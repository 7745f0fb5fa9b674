"""The test corpora: English, Chinese and code that every checkout has.

The parity and exactness tests compare ``bpe_core`` with its oracles
(``tokenizers``, ``tiktoken``, the naive classic reference) on real text.
That text must be there on a fresh clone and in CI alike, so that both prove
the same thing:

* ``en``: English prose, the docstrings of a fixed set of standard-library
  modules, extracted with ``ast`` (no code runs), duplicates dropped;
* ``code``: Python source, the standard library's top-level ``.py`` files in
  sorted order, at most ``CODE_BYTES_PER_FILE`` from each;
* ``zh``: Chinese technical prose with ASCII terms and code identifiers,
  ``tests/corpora/zh_written.txt``, written for this project.

``en`` and ``code`` are built once per test session from the Python that runs
the tests and never committed; their text differs between Python versions, but
the oracles read the same text as ``bpe_core``, so parity means the same on
every version.  Sources and licences are in ``tests/corpora/README.md``.

The larger shared corpora (``../shared/corpora``, or the directory named by
``BPE_TEST_SHARED_CORPORA``) are read only by the extended tests marked
``@pytest.mark.shared_corpora``; conftest skips those when the files are absent
and says so in the closing summary.

>>> text = corpus_slice("zh", 2_000)
>>> 0 < len(text.encode("utf-8")) <= 2_000 and text.endswith("\\n")
True
"""

from __future__ import annotations

import ast
import os
import random
import sysconfig
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WRITTEN = Path(__file__).resolve().parent / "corpora"

#: Bytes of each built corpus: a few hundred KB, as much as any test asks for.
BUILT_BYTES = 500_000
#: At most this much of any one standard-library file goes into ``code``, so
#: that it holds many modules' styles rather than two long ones.
CODE_BYTES_PER_FILE = 16_000
#: Modules whose docstrings make up ``en``: present in Python 3.10 to 3.14,
#: long docstrings, many authors.  Listed in the order they are read.
DOCSTRING_MODULES = (
    "argparse", "ast", "calendar", "collections", "configparser", "contextlib", "csv", "dataclasses",
    "difflib", "doctest", "email.message", "email.utils", "enum", "fractions", "ftplib", "functools",
    "gettext", "glob", "gzip", "heapq", "http.client", "http.cookiejar", "imaplib", "inspect", "ipaddress",
    "json", "locale", "logging", "mailbox", "multiprocessing.pool", "netrc", "optparse", "os", "pathlib",
    "pdb", "pickle", "platform", "plistlib", "poplib", "pprint", "pydoc", "queue", "random", "sched",
    "secrets", "selectors", "shlex", "shutil", "smtplib", "socket", "socketserver", "ssl", "statistics",
    "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "timeit", "tokenize", "trace",
    "traceback", "turtle", "typing", "unittest.case", "urllib.parse", "urllib.request", "uuid", "warnings",
    "weakref", "zipfile", "_pydecimal",
)

#: The special-token strings the tests declare.  Lines holding one are left out
#: of every corpus: bpe_core deliberately cuts special tokens out of training
#: text and tokenizers does not, a difference that has its own test.
TEST_SPECIAL_TOKENS = ("<pad>", "<|endoftext|>")

#: The extended tests' corpora, by the short names above.
SHARED_FILES = {"en": "en_pydocs.txt", "zh": "zh_kernel_docs.txt", "code": "code_cpython.txt"}
SHARED_CORPORA_ENV = "BPE_TEST_SHARED_CORPORA"


class CorpusUnavailable(RuntimeError):
    """A corpus cannot be built or read on this machine."""


def corpus_slice(name: str, size: int, start: int = 0) -> str:
    """Whole lines of corpus ``name`` ("en", "zh" or "code"): ``size`` bytes from byte ``start``.

    The slice starts at the first line that begins at or after ``start`` and
    ends with the last line that fits, so no character is cut in two.  Sizes
    and starts past the end of the corpus are capped: the built corpora hold
    ``BUILT_BYTES`` each, ``zh`` about 100 KB.  A test that needs text nobody
    trained on asks for a ``start`` past its training slice.
    """
    data = corpus_bytes(name)
    begin = 0 if start <= 0 else data.find(b"\n", start - 1) + 1
    if begin <= 0 and start > 0:
        return ""
    end = begin + size
    if end < len(data):
        end = data.rfind(b"\n", begin, end) + 1
        if end <= 0:  # not one whole line fits: cut at a character boundary
            end = begin + size
            while end > begin and data[end] & 0xC0 == 0x80:
                end -= 1
    return data[begin:end].decode("utf-8")


@lru_cache(maxsize=None)
def corpus_bytes(name: str) -> bytes:
    """The whole corpus ``name`` as UTF-8, built once per session."""
    builders = {"en": _build_english, "zh": _read_chinese, "code": _build_code}
    if name not in builders:
        raise KeyError(f"no test corpus {name!r}; the corpora are {sorted(builders)}")
    lines = builders[name]().splitlines(keepends=True)
    return "".join(line for line in lines if not any(s in line for s in TEST_SPECIAL_TOKENS)).encode("utf-8")


def _stdlib() -> Path:
    root = Path(sysconfig.get_path("stdlib"))
    if not (root / "os.py").is_file():
        raise CorpusUnavailable(
            f"the standard library's source files are not in {root} (no os.py): the English and code test "
            "corpora are built from them; use a Python install that ships its .py files"
        )
    return root


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _build_english() -> str:
    root = _stdlib()
    seen: set[str] = set()
    docstrings: list[str] = []
    size = 0
    for dotted in DOCSTRING_MODULES:
        path = _module_file(root, dotted)
        if path is None:  # gone in this Python version: the others make up for it
            continue
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node, clean=True)
                if doc and doc not in seen:
                    seen.add(doc)
                    docstrings.append(doc + "\n\n")
                    size += len(doc.encode("utf-8")) + 2
        if size >= BUILT_BYTES:
            break
    return _whole_lines("".join(docstrings), BUILT_BYTES)


def _build_code() -> str:
    pieces: list[str] = []
    size = 0
    for path in sorted(_stdlib().glob("*.py")):
        try:
            source = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # not UTF-8 text: not what the code corpus is about
        piece = _whole_lines(source, CODE_BYTES_PER_FILE)
        pieces.append(piece)
        size += len(piece.encode("utf-8"))
        if size >= BUILT_BYTES:
            break
    return _whole_lines("".join(pieces), BUILT_BYTES)


def _read_chinese() -> str:
    return (WRITTEN / "zh_written.txt").read_text(encoding="utf-8")


def _whole_lines(text: str, size: int) -> str:
    """At most ``size`` UTF-8 bytes of ``text``, ending with a whole line."""
    data = text.encode("utf-8")
    if len(data) <= size:
        return text if text.endswith("\n") else text + "\n"
    cut = data.rfind(b"\n", 0, size) + 1
    return data[:cut].decode("utf-8")


# --- the shared corpora, for the extended tests -------------------------------


def shared_corpora_dir() -> Path:
    """Where the extended tests look: ``$BPE_TEST_SHARED_CORPORA``, else ``../shared/corpora``."""
    configured = os.environ.get(SHARED_CORPORA_ENV)
    return Path(configured) if configured else REPO.parent / "shared" / "corpora"


def missing_shared_corpora(names=tuple(SHARED_FILES)) -> list[Path]:
    """The shared corpus files among ``names`` that are not there."""
    directory = shared_corpora_dir()
    return [directory / SHARED_FILES[name] for name in names if not (directory / SHARED_FILES[name]).is_file()]


def shared_corpus_path(name: str) -> Path:
    """The path of shared corpus ``name``; only for tests marked ``shared_corpora``."""
    path = shared_corpora_dir() / SHARED_FILES[name]
    if not path.is_file():
        raise CorpusUnavailable(
            f"shared corpus {path} is missing; a test that reads it must be marked "
            f"@pytest.mark.shared_corpora({name!r}) so that it is skipped, not failed, without it"
        )
    return path


def shared_corpus_slice(name: str, size: int) -> str:
    """The first ``size`` bytes (whole lines) of shared corpus ``name``."""
    with open(shared_corpus_path(name), "rb") as handle:
        data = handle.read(size)
    cut = data.rfind(b"\n") + 1
    return data[: cut or len(data)].decode("utf-8")


def random_text(size_words: int, seed: int = 3) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 12)))
                    for _ in range(size_words))
