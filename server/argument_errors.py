"""Argument errors as sentences a caller can act on.

A tool's arguments are checked twice by pydantic: by the SDK against the
tool's generated signature, then by our ``...Input`` model (cross-field
rules).  pydantic's own messages name its internals ("String should match
pattern '^[^\\W_]...'", a documentation URL, union branches such as
``list[constrained-str]``); a model calling the tool needs the argument,
the rule and the value it sent, in JSON terms:

>>> from pydantic import BaseModel, Field, ValidationError
>>> class Args(BaseModel):
...     vocab_size: int = Field(ge=1)
>>> try:
...     Args.model_validate({"vocab_size": 0})
... except ValidationError as exc:
...     print(describe(exc))
invalid arguments: vocab_size must be at least 1; got 0

Each pydantic error type maps to one phrase (see ``_requirement``); an
error type not listed keeps pydantic's sentence with "Input should" turned
into "must", never its URL.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from .schemas import PATTERN_MEANINGS

#: Problems listed in one message; the rest are counted.
MAX_PROBLEMS = 5
#: Characters of a value quoted back to the caller.
MAX_VALUE_CHARS = 60

# The kinds of value pydantic's type errors ask for, by the error type's prefix.
_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "decimal": "a number",
    "string": "a string",
    "bool": "true or false",
    "list": "a list",
    "tuple": "a list",
    "set": "a list",
    "dict": "an object",
    "model": "an object",
    "none": "null",
}


def describe(error: ValidationError) -> str:
    """``invalid arguments: ...``, one clause per problem, most specific first."""
    problems = _problems(error.errors(include_url=False))
    shown = problems[:MAX_PROBLEMS]
    more = len(problems) - len(shown)
    return "invalid arguments: " + "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def unknown_arguments(names: Iterable[str], known: Iterable[str]) -> str:
    """The sentence for arguments the tool does not have.

    >>> unknown_arguments(["vocab_sise"], ["name", "vocab_size", "num_merges"])
    "invalid arguments: 'vocab_sise' is not an argument of this tool (did you mean 'vocab_size'?); its arguments are name, vocab_size, num_merges"
    """
    known = list(known)
    clauses = []
    for name in sorted(names):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        clauses.append(f"{name!r} is not an argument of this tool{hint}")
    return "invalid arguments: " + "; ".join(clauses) + "; its arguments are " + ", ".join(known)


def _problems(errors: list[dict]) -> list[str]:
    # pydantic reports a value that fits no member of a union once per member,
    # with the member's name in the location.  Keep the members that got
    # furthest into the value (a list whose third item is wrong beats "not
    # 'all'"), and join what is left into one requirement: "must be "all" or a list".
    by_argument: dict[str, list[tuple[str, int, str, Any, bool]]] = {}
    for item in errors:
        where, depth, in_union = _where(item["loc"])
        argument = item["loc"][0] if item["loc"] else ""
        by_argument.setdefault(argument, []).append((where, depth, _requirement(item), item.get("input"), in_union))
    problems = []
    for argument in by_argument:  # in the order pydantic met them
        entries = by_argument[argument]
        if any(in_union for *_, in_union in entries):
            deepest = max(depth for _, depth, *_ in entries)
            entries = [entry for entry in entries if entry[1] == deepest]
        merged: dict[str, tuple[list[str], Any]] = {}
        for where, _depth, requirement, value, _in_union in entries:
            requirements, _ = merged.setdefault(where, ([], value))
            if requirement not in requirements:
                requirements.append(requirement)
        for where, (requirements, value) in merged.items():
            problems.append(_sentence(where, requirements, value))
    return problems


def _where(loc: tuple) -> tuple[str, int, bool]:
    """``('ids', 3)`` -> ``ids[3]``; union member names (``list[int]``, ``int``) are dropped.

    Returns the place, how deep it is, and whether a union member was named.
    Tool inputs are flat (no nested objects), so after the argument's name a
    string in the location is always a union member.

    >>> _where(("allowed_special", "list[constrained-str]", 0))
    ('allowed_special[0]', 2, True)
    """
    if not loc:
        return "", 0, False
    where, depth, in_union = str(loc[0]), 1, False
    for part in loc[1:]:
        if isinstance(part, int):
            where += f"[{part}]"
            depth += 1
        else:
            in_union = True
    return where, depth, in_union


def _requirement(item: dict) -> str:
    """What the value must be, as a phrase starting with 'must' (or a whole sentence)."""
    kind = item["type"]
    ctx = item.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not an argument of this tool"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        return "must be " + PATTERN_MEANINGS[pattern] if pattern in PATTERN_MEANINGS else (
            f"must match the regular expression {pattern}"
        )
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return "must not be empty" if minimum == 1 else f"must have at least {minimum} characters"
    if kind == "string_too_long":
        return f"must have at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        minimum = ctx.get("min_length", 1)
        return f"must hold at least {minimum} item" + ("s" if minimum != 1 else "")
    if kind == "too_long":
        return f"must hold at most {ctx.get('max_length')} items"
    bounds = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
              "greater_than": ("greater than", "gt"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {_json(ctx.get(key))}"
    if kind == "literal_error":
        # ctx["expected"] is "'a', 'b' or 'c'": say it with JSON strings.
        return "must be " + re.sub(r"'((?:[^'\\]|\\.)*)'", lambda m: _json(m.group(1)), ctx.get("expected", ""))
    if kind == "int_from_float":
        return "must be a whole number"
    if kind == "value_error":
        return item["msg"].removeprefix("Value error, ")
    prefix = kind.split("_")[0]
    if kind.endswith(("_type", "_parsing")) and prefix in _KINDS:
        return f"must be {_KINDS[prefix]}"
    message = item["msg"]
    for pydantic_start in ("Input should", "String should", "List should", "Value should"):
        if message.startswith(pydantic_start):
            return "must" + message[len(pydantic_start):]
    return message


def _sentence(where: str, requirements: list[str], value: Any) -> str:
    if not where:  # a rule over several arguments (a model validator): already a sentence
        return "; ".join(requirements)
    requirement = requirements[0]
    for other in requirements[1:]:
        requirement += " or " + other.removeprefix("must be ")
    if requirement in ("is required", "is not an argument of this tool"):
        return f"{where} {requirement}"
    if requirement.startswith("must"):
        return f"{where} {requirement}; got {_shown(value)}"
    return f"{where}: {requirement}"


def _shown(value: Any) -> str:
    """A value as the caller sent it (JSON), shortened."""
    text = _json(value)
    if isinstance(value, str) and len(text) > MAX_VALUE_CHARS:
        return f"{text[:MAX_VALUE_CHARS - 10]}...\" ({len(value):,} characters)"
    if isinstance(value, (list, dict)) and len(text) > MAX_VALUE_CHARS:
        return f"{text[:MAX_VALUE_CHARS - 10]}... ({len(value):,} items)"
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "..."


def _json(value: Any) -> str:
    r"""``value`` as JSON, readable (no ``\uXXXX`` for letters), but ASCII-escaped if it holds a
    lone surrogate, which no UTF-8 reply could carry.

    >>> print(_json("中"), _json(["中", "\ud800"]))
    "中" ["\u4e2d", "\ud800"]
    """
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text
