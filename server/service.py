"""What each tool does, as plain functions over ``bpe_core`` (no MCP here).

:class:`BPEService` turns a validated ``...Input`` into ``bpe_core`` calls
and the result into an output model.  It raises ordinary exceptions whose
messages are written for the caller (``bpe_core.BPEError``,
:class:`~server.storage.StoreError`, :class:`~server.files.FileAccessError`,
:class:`~server.config.LimitExceeded`); :mod:`server.app` turns those into
MCP tool errors.  Tests call it directly, without any MCP machinery.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import repeat
from pathlib import Path

import bpe_core
from bpe_core import BPEError, BudgetExceeded, SpecialTokenError, Tokenizer, TrainingCancelled
from bpe_core import display, evaluation, inspection, interop, reference
from bpe_core.atomic_files import place_files
from bpe_core.base import StopCheck
from bpe_core.counting import start_worker_server
from bpe_core.tokenizer import truncate

from . import schemas as s
from .config import LIMITS, LimitExceeded, ServerConfig
from .files import FileAccess, FileAccessError
from .storage import REFERENCES, StoreError, TokenizerStore

logger = logging.getLogger(__name__)

#: ``report(progress, total, message)``: progress of a long call.
Progress = Callable[[float, float, str], None]

FIRST_MERGES_SHOWN = 20
#: Decoded text may hold this many bytes per character of ``--max-text-chars``
#: (UTF-8 needs at most 4), so decode answers no more than encode accepts.
DECODED_BYTES_PER_CHAR = 4
LEARNED_MERGES_SHOWN = 50
#: inspect_vocab view='token': the nested merge tree keeps its top nodes (a
#: deep nested reply cannot be serialised); merges_used lists the recipe flat.
TREE_NODES_SHOWN = 255
TREE_DEPTH_SHOWN = 32
TREE_CHARS_SHOWN = 100_000
MERGES_USED_SHOWN = 5_000
MERGES_USED_CHARS = 1_000_000
#: explain lists the symbols after each merge for at most this many symbols in all.
EXPLAIN_SYMBOLS_SHOWN = 20_000
# Training progress as one percentage: counting words is usually quick next
# to merging, so it gets the first 20 points.
_COUNTING_SHARE = 20.0
#: Fewest seconds between two progress notifications of a training, the start and end of each phase aside.  The engine
#: reports every 0.05 s, and the training thread waits while each notification goes through the event loop:
#: on a busy 2-core machine that was 3-5 ms each, 0.3-0.5 s of a 22 MB training.
TRAINING_PROGRESS_INTERVAL = 0.5

STOP_EXPLANATIONS = {
    "vocab_size": "reached the requested vocab_size",
    "num_merges": "learned the requested number of merges",
    "min_frequency": "the most frequent remaining pair occurs fewer than min_frequency times",
    "no_pairs_left": "no adjacent pair is left to merge: every word of the corpus is already a single token "
    "(give a larger corpus to reach the requested size)",
}


class BPEService:
    def __init__(self, config: ServerConfig):
        self.config = config
        self.store = TokenizerStore(config.data_dir, cache_bytes=config.limits.max_cache_bytes)
        self.store.remove_stale_temporaries()  # what a server killed mid-save left behind
        self._training: set[str] = set()
        self._training_lock = threading.Lock()
        if config.dask is None:
            # Trainings run in worker threads, so their counting processes come from a fork server:
            # started now, in the background, the first training does not wait for it.
            start_worker_server(config.training_workers)

    # --- helpers -------------------------------------------------------------

    def file_access(self, client_roots: list[Path] = ()) -> FileAccess:
        roots = list(self.config.roots)
        if self.config.use_client_roots:
            roots += list(client_roots)
        return FileAccess(roots, self.config.limits)

    def _naming(self, name: str, mode: str, pattern: str, vocab_size: int) -> dict:
        """How every result names the stored tokenizer it is about: ``name``, ``uri`` (its resource), ``mode``,
        ``pattern`` and ``vocab_size``, as keyword arguments for the result model."""
        return {"name": name, "uri": self.store.uri(name), "mode": mode, "pattern": pattern, "vocab_size": vocab_size}

    @property
    def trainings_running(self) -> list[str]:
        """Names being trained right now (in worker threads)."""
        with self._training_lock:
            return sorted(self._training)

    @contextmanager
    def _training_slot(self, name: str) -> Iterator[None]:
        """Hold one of the server's training slots for ``name`` (each training holds memory and a core)."""
        allowed = self.config.limits.max_concurrent_trainings
        with self._training_lock:
            if name in self._training:
                raise StoreError(
                    f"a training run for {name!r} is already in progress; wait for it to finish or use another name"
                )
            if len(self._training) >= allowed:
                limit = LIMITS["concurrent trainings"]
                raise LimitExceeded(
                    f"the server is busy: {len(self._training)} training(s) are running, its limit of concurrent "
                    f"trainings is {allowed}; try again when one finishes (or {limit.hint()})"
                )
            self._training.add(name)
        try:
            yield
        finally:
            with self._training_lock:
                self._training.discard(name)

    def _check_text(self, total_chars: int, what: str) -> None:
        self.config.limits.check("text characters", total_chars, what)

    def _check_reply(self, estimate: int, args, rows: int, advice: str | None = None) -> None:
        """Refuse, before building it, a reply over the reply budget, saying how to ask for less."""
        allowed = self.config.limits.max_reply_bytes
        if estimate <= allowed:
            return
        if advice is None:
            fitting = max(1, rows * allowed // estimate)
            advice = (f"send the texts in batches of at most {fitting:,} (page through them)" if rows > 1
                      else "send a shorter text")
            if getattr(args, "return_tokens", False) or getattr(args, "return_offsets", False):
                advice += ", or leave return_tokens and return_offsets off"
            if getattr(args, "padding", None) == "max_length":
                advice += ", or pad to 'longest' or a smaller max_length"
        limit = LIMITS["reply bytes"]
        raise LimitExceeded(
            f"the reply would be about {_size(estimate)}, over this server's reply size limit of {_size(allowed)}; "
            f"{advice}; or {limit.hint()}"
        )

    def _check_decoded_size(self, tokenizer: Tokenizer, ids: list[int]) -> None:
        """Refuse ids whose text would be larger than the text this server
        accepts, measured from token lengths before anything is joined."""
        size = tokenizer.decoded_size(ids)
        allowed = self.config.limits.max_text_chars * DECODED_BYTES_PER_CHAR
        if size > allowed:
            raise LimitExceeded(
                f"these {len(ids):,} ids decode to {size:,} bytes, over this server's limit of {allowed:,} bytes "
                f"for decoded text ({DECODED_BYTES_PER_CHAR} per character of its text limit); decode fewer ids "
                f"at a time, or {LIMITS['text characters'].hint()}"
            )

    # --- train_bpe -------------------------------------------------------------

    def train(
        self,
        args: s.TrainInput,
        files: FileAccess | None = None,
        progress: Progress | None = None,
        should_stop: StopCheck | None = None,
    ) -> s.TrainResult:
        started = time.perf_counter()
        limits = self.config.limits
        path = self.store.path_for(args.name)  # validates the name
        self.store.check_writable(args.name)
        if not args.overwrite and path.exists():
            raise self.store.exists_error(args.name)
        if args.vocab_size is not None:
            limits.check("vocab size", args.vocab_size, "vocab_size")
        if args.num_merges is not None:
            limits.check("vocab size", args.num_merges, "num_merges")
        if args.text is not None:
            self._check_text(len(args.text), "the training text")
        corpus = None
        if args.paths:
            corpus = (files or self.file_access()).corpus_files(args.paths, should_stop=should_stop)
        counts_file = None
        if args.counts_path is not None:
            counts_file = (files or self.file_access()).readable_file(args.counts_path)
        text_bytes = len(args.text.encode("utf-8", "surrogatepass")) if args.text else 0
        counts_bytes = counts_file.stat().st_size if counts_file else 0
        limits.check("corpus bytes", text_bytes + counts_bytes + (corpus.total_bytes if corpus else 0), "the corpus")
        # From a counts file, mode and special tokens left at their defaults come from the file.
        given = {"mode", "special_tokens"}
        if counts_file:
            given = {f for f in given if getattr(args, f) != s.TrainInput.model_fields[f].get_default(
                call_default_factory=True)}

        report = _training_progress(progress)
        with self._training_slot(args.name):
            logger.info("training %r (%s, vocab_size=%s, num_merges=%s)", args.name, args.mode,
                        args.vocab_size, args.num_merges)
            try:
                tokenizer = bpe_core.train(
                    [args.text] if args.text is not None else [],
                    files=corpus.files if corpus else [],
                    word_counts=counts_file,
                    text_field=args.text_field,
                    on_error=args.on_error,
                    dask=self.config.dask,
                    mode=args.mode if "mode" in given else None,
                    vocab_size=args.vocab_size,
                    num_merges=args.num_merges,
                    min_frequency=args.min_frequency,
                    pattern=args.pattern,
                    special_tokens=args.special_tokens if "special_tokens" in given else None,
                    workers=self.config.training_workers,
                    on_progress=report,
                    should_stop=should_stop,
                )
                if should_stop is not None and should_stop():
                    raise TrainingCancelled("training was cancelled before saving")
            except TrainingCancelled:
                logger.info("training %r was cancelled; nothing saved", args.name)
                raise
            saving = time.perf_counter()
            path, replaced = self.store.save(args.name, tokenizer, overwrite=args.overwrite)
        finished = time.perf_counter()

        training = tokenizer.training
        seconds = dict(training.seconds)
        seconds["saving"] = round(finished - saving, 4)
        seconds["total"] = round(finished - started, 4)
        return s.TrainResult(
            **self._naming(args.name, tokenizer.mode, tokenizer.pattern_name, tokenizer.vocab_size),
            merges_learned=training.merges_learned,
            stop_reason=training.stop_reason,
            stop_explanation=STOP_EXPLANATIONS.get(training.stop_reason, training.stop_reason),
            special_tokens=dict(tokenizer.special_tokens),
            corpus=s.CorpusStats(
                size_bytes=training.corpus_bytes,
                words=training.words,
                distinct_words=training.distinct_words,
                files=len(corpus.files) if corpus else 0,
                skipped=corpus.skipped if corpus else [],
                skipped_records=training.skipped_records,
                problems=training.problems,
            ),
            seconds=seconds,
            first_merges=merge_rules(tokenizer, 0, FIRST_MERGES_SHOWN),
            replaced_existing=replaced,
        )

    # --- encode / decode -------------------------------------------------------------

    def encode(self, args: s.EncodeInput) -> s.EncodeResult:
        try:
            return self._encode(args)
        except SpecialTokenError as exc:
            raise BPEError(special_token_error_in_json(exc)) from None

    def _encode(self, args: s.EncodeInput) -> s.EncodeResult:
        tokenizer = self.store.load(args.tokenizer).tokenizer
        texts = [args.text] if args.text is not None else list(args.texts)
        self._check_text(sum(len(t) for t in texts), "the text to encode")
        policy = {
            "allowed_special": _policy(args.allowed_special),
            "disallowed_special": _policy(args.disallowed_special),
        }
        detailed = args.return_tokens or args.return_offsets
        batched = args.texts is not None or args.padding is not None or args.max_length is not None
        if args.padding == "max_length" and args.max_length is not None:
            # Padding alone could make a small request ask for rows x max_length ids.
            self._check_reply(len(texts) * args.max_length * _REPLY_BYTES_PER_ID * 2, args, len(texts))
        encodings = []
        if not batched:
            ids = tokenizer.encode(texts[0], **policy)
            self._check_reply(_encode_reply_bytes(args, len(ids), texts), args, 1)
            tokens = tokenizer.encode_tokens(texts[0], **policy) if detailed else None
            encodings.append(_encoding(ids, len(ids), tokens, args))
            return s.EncodeResult(tokenizer=args.tokenizer, encodings=encodings, total_tokens=len(ids))

        batch = tokenizer.encode_batch(
            texts,
            max_length=args.max_length,
            padding=args.padding,
            pad_token=args.pad_token,
            padding_side=args.padding_side,
            truncation_side=args.truncation_side,
            **policy,
        )
        cells = sum(len(row) for row in batch.input_ids)
        self._check_reply(_encode_reply_bytes(args, cells, texts), args, len(texts))
        for position, text in enumerate(texts):
            tokens = None
            if detailed:
                tokens = tokenizer.encode_tokens(text, **policy)
                tokens = truncate(tokens, args.max_length, args.truncation_side)  # the cut encode_batch made
            encoding = _encoding(batch.input_ids[position], batch.lengths[position], tokens, args)
            encoding.truncated = batch.truncated[position]
            if args.padding is not None:
                encoding.attention_mask = batch.attention_mask[position]
            encodings.append(encoding)
        return s.EncodeResult(
            tokenizer=args.tokenizer,
            encodings=encodings,
            total_tokens=sum(batch.lengths),
            padding=args.padding,
            padding_side=args.padding_side if args.padding else None,
            pad_token_id=batch.pad_token_id,
            truncation_side=args.truncation_side if args.max_length else None,
            max_length=args.max_length,
        )

    def decode(self, args: s.DecodeInput) -> s.DecodeResult:
        tokenizer = self.store.load(args.tokenizer).tokenizer
        self._check_decoded_size(tokenizer, args.ids)
        text = tokenizer.decode(args.ids, errors=args.errors)
        try:
            tokenizer.decode_bytes(args.ids).decode("utf-8")
            valid = True
        except UnicodeDecodeError:
            valid = False
        return s.DecodeResult(tokenizer=args.tokenizer, text=text, token_count=len(args.ids), valid_utf8=valid)

    # --- inspect_vocab ---------------------------------------------------------

    def inspect(self, args: s.InspectInput) -> s.VocabView:
        tokenizer = self.store.load(args.tokenizer).tokenizer
        view = s.VocabView(tokenizer=args.tokenizer, view=args.view)
        origins = inspection.merge_origins(tokenizer)
        if args.view == "summary":
            view.summary = _summary(tokenizer, origins)
        elif args.view == "tokens":
            ids = inspection.find_tokens(
                tokenizer, contains=args.contains, pattern=args.regex, sort=args.sort, descending=args.descending
            )
            chosen = ids[args.offset : args.offset + args.limit]
            # Each token appears as stored and as readable text, escaped at worst 6x, sent twice.
            self._check_reply(2 * sum(40 + 8 * len(tokenizer.token_bytes(i)) for i in chosen), args, 1,
                              advice="ask for a smaller page (limit) of tokens")
            view.tokens = s.TokenPage(
                items=[_token_entry(tokenizer, i, origins) for i in chosen],
                **_page(len(ids), args, "tokens"),
            )
        elif args.view == "merges":
            view.merges = s.MergePage(
                items=merge_rules(tokenizer, args.offset, args.limit),
                **_page(len(tokenizer.merges), args, "merges"),
            )
        else:
            token_id = args.id if args.id is not None else _find_token(tokenizer, args.token)
            if token_id not in tokenizer.id_to_token:
                raise BPEError(
                    f"token id {token_id} is not in the vocabulary of {args.tokenizer!r} "
                    f"(ids run from 0 to {max(tokenizer.id_to_token)})"
                )
            entry = _token_entry(tokenizer, token_id, origins)
            # A tree can be thousands of merges deep: the nested tree (and its
            # drawing) keeps the top nodes; the flat recipe lists every merge.
            tree = inspection.merge_tree(tokenizer, token_id, origins, max_nodes=TREE_NODES_SHOWN,
                                         max_depth=TREE_DEPTH_SHOWN, max_chars=TREE_CHARS_SHOWN)
            depth = inspection.merge_depth(tokenizer, token_id, origins)
            recipe = inspection.merges_building(tokenizer, token_id, origins)
            note = None
            if _tree_is_cut(tree):
                note = (f"the tree is {depth:,} merges deep; only its top nodes are shown (at most "
                        f"{TREE_NODES_SHOWN} nodes, {TREE_DEPTH_SHOWN} levels and {TREE_CHARS_SHOWN:,} characters "
                        "of tokens), and nodes marked 'parts not drawn' stop there. "
                        "merges_used lists every merge that builds the token; inspect a part with view='token' "
                        "to see its own tree")
            view.token = s.TokenDetail(
                **entry.model_dump(),
                bytes_hex=tokenizer.token_bytes(token_id).hex(" "),
                tree=_tree_model(tokenizer, tree),
                tree_text=inspection.render_tree(tree, lambda node: _quoted(tokenizer.token_text(node.id))),
                tree_depth=depth,
                tree_note=note,
                merges_used=_recipe(tokenizer, recipe),
                merges_used_total=len(recipe),
            )
        return view

    # --- explain -----------------------------------------------------------------

    def explain(self, args: s.ExplainInput) -> s.ExplainResult:
        learned = None
        if args.tokenizer is not None:
            tokenizer = self.store.load(args.tokenizer).tokenizer
        else:
            with self._training_slot(f"explain:{threading.get_ident()}"):
                tokenizer = bpe_core.train(args.train_on, mode=args.mode, num_merges=args.num_merges)
            learned = merge_rules(tokenizer, 0, LEARNED_MERGES_SHOWN)
        explained = tokenizer.explain(args.text)
        shown = explained[: args.max_words]

        def show(symbol: str) -> str:
            return display.symbol_text(tokenizer, symbol)

        # Listing the symbols after every merge costs the square of a word's
        # length, so the listings share one budget; longer words keep each
        # step (the merge and where it happened), without the listing.
        budget, unlisted, listings = EXPLAIN_SYMBOLS_SHOWN, [], []
        words = []
        for word in shown:
            n, m = len(word.symbols), len(word.steps)
            cost = m * n - m * (m + 1) // 2  # symbols in all the listings of this word
            listed = cost <= budget
            listings.append(listed)
            if listed:
                budget -= cost
            elif m:
                unlisted.append(word.word)
            states = word.states() if listed else repeat(None)
            words.append(s.WordExplanation(
                word=word.word,
                start=word.start,
                special=word.special,
                initial_symbols=[show(x) for x in word.symbols],
                steps=[
                    s.ExplainStep(
                        step=number,
                        rank=step.rank,
                        pair=(show(step.left), show(step.right)),
                        merged=show(step.merged),
                        position=step.position,
                        symbols=[show(x) for x in after] if after is not None else None,
                    )
                    for number, (step, after) in enumerate(zip(word.steps, states), 1)
                ],
                tokens=[show(x) for x in word.tokens],
                ids=word.ids,
            ))
        note = None
        if unlisted:
            examples = ", ".join(repr(w[:20] + ("..." if len(w) > 20 else "")) for w in unlisted[:3])
            note = (f"the symbols after each merge are listed while the listings stay within "
                    f"{EXPLAIN_SYMBOLS_SHOWN:,} symbols; {len(unlisted)} long word(s) ({examples}) show each merge "
                    "and its position only. Explain such a word alone, or a shorter part of it, to see every step")
        return s.ExplainResult(
            tokenizer=args.tokenizer,
            mode=tokenizer.mode,
            learned_merges=learned,
            words=words,
            words_omitted=len(explained) - len(shown),
            steps_note=note,
            walkthrough=display.walkthrough(
                tokenizer, shown, [(r.rank, r.left, r.right) for r in learned] if learned is not None else None,
                listed=listings,
            ),
        )

    # --- evaluate_tokenizer / compare_tokenizers ------------------------------------------

    def _held_out(self, args, files: FileAccess | None, should_stop: StopCheck | None) -> tuple[list, list]:
        """The texts and files of an evaluation, within the server's text and corpus limits."""
        texts = [args.text] if args.text is not None else []
        if args.text is not None:
            self._check_text(len(args.text), "the text to evaluate")
        corpus = None
        if args.paths:
            corpus = (files or self.file_access()).corpus_files(args.paths, should_stop=should_stop)
        text_bytes = len(args.text.encode("utf-8", "surrogatepass")) if args.text else 0
        self.config.limits.check("corpus bytes", text_bytes + (corpus.total_bytes if corpus else 0), "the corpus")
        return texts, corpus.files if corpus else []

    def _check_result_size(self, result, advice: str) -> None:
        # Sent as structured content and as JSON text; the lists are capped, so building it first is cheap.
        self._check_reply(2 * len(result.model_dump_json()), None, 1, advice=advice)

    def evaluate(self, args: s.EvaluateInput, files: FileAccess | None = None, progress: Progress | None = None,
                 should_stop: StopCheck | None = None) -> tuple[s.EvaluateResult, str]:
        """The numbers, and a short summary of them for people."""
        tokenizer = self.store.load(args.tokenizer).tokenizer
        texts, paths = self._held_out(args, files, should_stop)
        report = evaluation.evaluate(tokenizer, texts, paths, name=args.tokenizer, top_k=args.top_k,
                                     list_limit=args.list_limit, list_offset=args.list_offset,
                                     should_stop=should_stop, on_progress=_percent_progress(progress))
        result = s.EvaluateResult(**report.to_dict())
        self._check_result_size(result, "list fewer tokens (top_k, list_limit)")
        return result, report.summary()

    def compare(self, args: s.CompareInput, files: FileAccess | None = None, progress: Progress | None = None,
                should_stop: StopCheck | None = None) -> tuple[s.CompareResult, str]:
        """The table (best first) and the aligned sample, and the same as readable text."""
        repeated = sorted({n for n in args.tokenizers if args.tokenizers.count(n) > 1})
        if repeated:
            raise BPEError(f"tokenizers names {', '.join(map(repr, repeated))} more than once; name each once")
        tokenizers = {name: self.store.load(name).tokenizer for name in args.tokenizers}
        texts, paths = self._held_out(args, files, should_stop)
        comparison = evaluation.compare(tokenizers, texts, paths, sample_chars=args.sample_chars, top_k=0,
                                        list_limit=0, should_stop=should_stop,
                                        on_progress=_percent_progress(progress))
        rows = []
        for rank, ranked in enumerate(comparison.ranking, start=1):
            e = comparison.evaluations[ranked.name]
            rows.append(s.CompareRow(
                rank=rank, tokenizer=ranked.name, vocab_size=e.vocab_size, tokens=e.tokens, relative=ranked.relative,
                bytes_per_token=e.bytes_per_token, characters_per_token=e.characters_per_token,
                tokens_per_word=e.tokens_per_word, tokens_per_cjk_character=e.tokens_per_cjk_character,
                vocab_used_share=e.vocab_used_share, unused_total=e.unused_total,
                round_trip_failures=e.round_trip_failures, byte_fallback_bytes=e.byte_fallback_bytes,
                encoder=e.encoder,
            ))
        sample = comparison.sample
        # The token view (server.token_view_app) reads {"sample": {"segmentations": [...]}}.
        segmentations = [
            s.Segmentation(tokenizer=name, characters=len(sample), tokens=[
                s.SampleToken(id=span.id, text=span.text, start=span.start, end=span.end,
                              byte_fallback=span.text != sample[span.start:span.end])
                for span in spans
            ])
            for name, spans in comparison.segmentations.items()
        ]
        first = next(iter(comparison.evaluations.values()))
        result = s.CompareResult(
            bytes=first.bytes, characters=first.characters, table=rows,
            sample=s.Sample(text=sample, segmentations=segmentations,
                            differing_boundaries=comparison.differing_boundaries),
        )
        self._check_result_size(result, "ask for a shorter sample (sample_chars)")
        return result, comparison.summary()

    # --- storage tools -------------------------------------------------------------

    def list_tokenizers(self) -> s.TokenizerList:
        stored, broken = self.store.list()
        return s.TokenizerList(
            data_dir=str(self.store.directory),
            tokenizers=[
                s.TokenizerInfo(
                    **self._naming(item.name, item.mode, item.pattern, item.vocab_size),
                    merges=item.merges,
                    special_tokens=list(item.special_tokens),
                    size_bytes=item.size_bytes,
                    modified=item.modified.isoformat(timespec="seconds"),
                )
                for item in stored
            ],
            references=[
                s.TokenizerInfo(**self._naming(facts.name, "byte_level", facts.pattern, facts.vocab_size),
                                merges=facts.merges,
                                special_tokens=list(reference.reference_spec(facts.name).special_tokens),
                                reference=True, aliases=list(facts.aliases))
                for facts in REFERENCES.values()
            ],
            unreadable=[s.BrokenTokenizerFile(file=b.file, error=b.error) for b in broken],
            allowed_roots=[str(r) for r in self.config.roots],
        )

    def import_tokenizer(self, args: s.ImportInput, files: FileAccess | None = None) -> s.ImportResult:
        path = self.store.path_for(args.name)
        self.store.check_writable(args.name)
        if not args.overwrite and path.exists():
            raise self.store.exists_error(args.name)
        files = files or self.file_access()
        sources = [files.readable_file(p, directory_ok=True) for p in args.paths]
        kind = args.format or interop.detect_format(sources if len(sources) > 1 else sources[0])
        try:
            tokenizer = interop.import_tokenizer(
                sources, kind, pattern=args.pattern, special_tokens=args.special_tokens,
                max_vocab_size=self.config.limits.max_vocab_size,
            )
        except BudgetExceeded as exc:  # name the flag that sets the limit
            raise LimitExceeded(f"{exc} ({LIMITS['vocab size'].hint()})") from None
        self.store.save(args.name, tokenizer, overwrite=args.overwrite)
        return s.ImportResult(
            **self._naming(args.name, tokenizer.mode, tokenizer.pattern_name, tokenizer.vocab_size),
            format=kind,
            merges=len(tokenizer.merges),
            special_tokens=dict(tokenizer.special_tokens),
            sources=[str(p) for p in sources],
        )

    def export_tokenizer(self, args: s.ExportInput, files: FileAccess | None = None) -> s.ExportResult:
        """Write the files in a private directory next to the destination, then
        move them into place: nothing is left half-written, and without
        ``overwrite`` no existing file is replaced."""
        tokenizer = self.store.load(args.tokenizer).tokenizer
        files = files or self.file_access()
        target = files.writable_path(args.destination)
        # A directory is meant when it exists, when the format writes several
        # files, or when the destination ends with a slash ("exports/").
        into_directory = (target.is_dir() or args.format == "gpt2"
                          or args.destination.endswith(("/", os.sep)))
        if into_directory and target.exists() and not target.is_dir():
            raise FileAccessError(f"the {args.format} format writes vocab.json and merges.txt into a directory; "
                                  f"{args.destination!r} is an existing file")
        # Missing directories are created, inside the roots only.
        directory = files.make_directory(args.destination, target if into_directory else target.parent)
        if into_directory:
            target = directory
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=directory))
        try:
            written = interop.export_tokenizer(
                tokenizer, args.format, staging if into_directory else staging / target.name
            )
            finals = [directory / f.name for f in written.files]
            existing = [str(p) for p in finals if p.exists() or p.is_symlink()]
            if existing and not args.overwrite:
                raise _files_exist(existing)
            try:
                place_files(list(zip(written.files, finals)), replace=args.overwrite)
            except FileExistsError as exc:  # the name appeared meanwhile
                raise _files_exist([str(exc.filename)]) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return s.ExportResult(
            tokenizer=args.tokenizer,
            format=written.format,
            files=[s.ExportedFile(path=str(p), size_bytes=p.stat().st_size) for p in finals],
            # The notes name the files where they were written first; name them where they are now.
            notes=[note.replace(str(staging), str(directory)) for note in written.notes],
        )

    def delete(self, args: s.DeleteInput) -> s.DeleteResult:
        self.store.check_writable(args.name)
        if args.name in self.trainings_running:
            raise StoreError(f"{args.name!r} is being trained right now; delete it after the training finishes")
        self.store.delete(args.name)
        return s.DeleteResult(name=args.name, deleted=True, remaining=self.store.names())


# --- translation helpers -------------------------------------------------------------


def _files_exist(paths: list[str]) -> FileAccessError:
    return FileAccessError(
        f"{', '.join(paths)} already exist{'s' if len(paths) == 1 else ''}; pass overwrite=true to replace "
        f"{'it' if len(paths) == 1 else 'them'}, or choose another destination"
    )


def _training_progress(progress: Progress | None, clock: Callable[[], float] = time.monotonic):
    """Adapt bpe_core's ``on_progress(phase, done, total)`` to one rising percentage, sent at the start and
    the end of each phase and in between at most every :data:`TRAINING_PROGRESS_INTERVAL` seconds."""
    if progress is None:
        return None
    last_percent, last_sent, last_phase = -1.0, -TRAINING_PROGRESS_INTERVAL, ""

    def report(phase: str, done: int, total: int) -> None:
        nonlocal last_percent, last_sent, last_phase
        fraction = done / total if total else 1.0
        if phase == "counting":
            percent = _COUNTING_SHARE * fraction
            message = f"counting words: {_size(done)} of {_size(total)}"
        else:
            percent = _COUNTING_SHARE + (100 - _COUNTING_SHARE) * fraction
            message = f"merging: {done:,} of {total:,} merges"
        percent = round(percent, 2)
        now = clock()
        # Progress notifications must increase.  The first of a phase goes out at once (a client learns
        # that merging has started), and so does the end of each.
        due = fraction >= 1.0 or phase != last_phase or now - last_sent >= TRAINING_PROGRESS_INTERVAL
        if percent > last_percent and due:
            last_percent, last_sent, last_phase = percent, now, phase
            progress(percent, 100.0, message)

    return report


def _percent_progress(progress: Progress | None):
    """Adapt bpe_core's ``on_progress(phase, done_bytes, total_bytes)`` to a rising percentage."""
    if progress is None:
        return None
    last = [-1.0]

    def report(phase: str, done: int, total: int) -> None:
        percent = round(100.0 * done / total, 2) if total else 100.0
        if percent > last[0]:  # progress notifications must increase
            last[0] = percent
            progress(percent, 100.0, f"{phase}: {_size(done)} of {_size(total)}")

    return report


#: JSON bytes per item of an encoding in a reply (an id with its comma; a
#: [start, end] pair; an attention-mask digit), and the reply is sent twice
#: (as structured content and as its JSON text).
_REPLY_BYTES_PER_ID = 8
_REPLY_BYTES_PER_OFFSET = 18
_REPLY_BYTES_PER_TOKEN = 6  # quotes and comma around each token's text


def _encode_reply_bytes(args: s.EncodeInput, tokens: int, texts: list[str]) -> int:
    """About how large an encode reply with ``tokens`` ids in all will be, before it is built."""
    per_token = _REPLY_BYTES_PER_ID
    if args.padding is not None:
        per_token += 2
    if args.return_offsets:
        per_token += _REPLY_BYTES_PER_OFFSET
    size = tokens * per_token
    if args.return_tokens:
        size += tokens * _REPLY_BYTES_PER_TOKEN + sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
    return 2 * size


def _quoted(text: str) -> str:
    return "'" + text.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'"


def _size(count: int) -> str:
    """
    >>> _size(6264), _size(3_500_000)
    ('6.1 KB', '3.3 MB')
    """
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / 1024 / 1024:.1f} MB"


def _policy(value):
    return "all" if value == "all" else set(value)


def special_token_error_in_json(error: SpecialTokenError) -> str:
    """The engine's special-token error in the terms of the ``encode`` tool's JSON arguments.

    >>> print(special_token_error_in_json(SpecialTokenError("...", token="<|endoftext|>", position=5)))
    the text contains the special token "<|endoftext|>" (at character 5), which is disallowed. To encode it as the special token, pass "allowed_special": ["<|endoftext|>"] (or "all"); to encode it as plain text, pass "disallowed_special": [] (or a list without it).
    """
    if error.token is not None:
        token = json.dumps(error.token, ensure_ascii=False)
        return (
            f"the text contains the special token {token} (at character {error.position}), which is disallowed. "
            f'To encode it as the special token, pass "allowed_special": [{token}] (or "all"); to encode it as '
            f'plain text, pass "disallowed_special": [] (or a list without it).'
        )
    if error.argument is not None:
        known = ", ".join(json.dumps(t, ensure_ascii=False) for t in error.known) or "none"
        return (
            f"{error.argument} names {json.dumps(list(error.unknown), ensure_ascii=False)}, which are not special "
            f"tokens of this tokenizer (its special tokens: {known})"
        )
    return str(error)


def _encoding(ids: list[int], count: int, tokens, args: s.EncodeInput) -> s.Encoding:
    encoding = s.Encoding(ids=ids, token_count=count)
    if tokens is not None:
        if args.return_tokens:
            encoding.tokens = [t.text for t in tokens]
        if args.return_offsets:
            encoding.offsets = [(t.start, t.end) for t in tokens]
    return encoding


def merge_rules(tokenizer: Tokenizer, offset: int, limit: int) -> list[s.MergeRule]:
    return [merge_rule(tokenizer, rank) for rank in range(offset, min(offset + limit, len(tokenizer.merges)))]


def merge_rule(tokenizer: Tokenizer, rank: int) -> s.MergeRule:
    left, right = tokenizer.merges[rank]
    merged_id = tokenizer.vocab[left + right]
    return s.MergeRule(
        rank=rank, left=left, right=right, merged=left + right,
        merged_text=tokenizer.token_text(merged_id),
    )


def _page(total: int, args: s.InspectInput, view: str) -> dict:
    end = args.offset + args.limit
    following = end if end < total else None
    hint = None
    if following is not None:
        hint = f"call inspect_vocab with view='{view}', offset={following}, limit={args.limit} (same filters)"
    return {"total": total, "offset": args.offset, "limit": args.limit, "next_offset": following, "next_page": hint}


def _token_entry(tokenizer: Tokenizer, token_id: int, origins: dict) -> s.TokenEntry:
    origin = origins.get(token_id)
    return s.TokenEntry(
        id=token_id,
        token=tokenizer.id_to_token[token_id],
        text=tokenizer.token_text(token_id),
        length=tokenizer.token_length(token_id),
        kind=inspection.token_kind(tokenizer, token_id, origins),
        merge_rank=origin[0] if origin else None,
    )


def _recipe(tokenizer: Tokenizer, ranks: list[int]) -> list[s.MergeRule]:
    """The merges of ``ranks`` as rules, while they stay within
    ``MERGES_USED_SHOWN`` rules and ``MERGES_USED_CHARS`` characters."""
    rules, chars = [], 0
    for rank in ranks[:MERGES_USED_SHOWN]:
        left, right = tokenizer.merges[rank]
        chars += 2 * (len(left) + len(right))
        if chars > MERGES_USED_CHARS:
            break
        rules.append(merge_rule(tokenizer, rank))
    return rules


def _tree_is_cut(node: inspection.MergeNode) -> bool:
    pending = [node]
    while pending:
        current = pending.pop()
        if current.cut:
            return True
        pending += [child for child in (current.left, current.right) if child is not None]
    return False


def _tree_model(tokenizer: Tokenizer, node: inspection.MergeNode) -> s.MergeTreeNode:
    # Recursive, but over a tree capped at TREE_DEPTH_SHOWN levels.
    return s.MergeTreeNode(
        id=node.id,
        token=node.token,
        text=tokenizer.token_text(node.id),
        rank=node.rank,
        left=_tree_model(tokenizer, node.left) if node.left else None,
        right=_tree_model(tokenizer, node.right) if node.right else None,
    )


def _find_token(tokenizer: Tokenizer, token: str) -> int:
    """A token by its stored form, else by the text it reads as."""
    token_id = inspection.token_id_of(tokenizer, token)
    if token_id is not None:
        return token_id
    raise BPEError(
        f"{token!r} is not a token of this vocabulary (neither as stored nor as readable text); "
        f"search with view='tokens' and contains={token!r}, or see how it is split with encode"
    )


def _summary(tokenizer: Tokenizer, origins: dict) -> s.VocabSummary:
    info = inspection.vocabulary_summary(tokenizer, origins)
    histogram = [s.LengthCount(length=k, count=v) for k, v in info.pop("length_histogram").items()]
    info.pop("first_merges")
    return s.VocabSummary(**info, length_histogram=histogram)
