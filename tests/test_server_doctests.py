"""The examples in server/ docstrings (pytest's --doctest-modules covers bpe_core only)."""

import doctest
import importlib

import pytest

MODULES = ["server.config", "server.schemas", "server.storage", "server.files", "server.service",
           "server.stdio_transport",
           "server.jsonrpc_screen", "server.http_transport", "server.shutdown", "server.__main__"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
