"""mcp-server-bpe: an MCP server that trains, applies, explains and inspects
BPE tokenizers, on the pure-Python engine :mod:`bpe_core`.

Modules, one job each:

* :mod:`server.config` - flags, environment variables, limits
* :mod:`server.storage` - named tokenizers in the data directory
* :mod:`server.files` - file access inside the allowed roots
* :mod:`server.schemas` - tool inputs (their docstrings are the tool descriptions) and outputs (pydantic)
* :mod:`server.service` - what each tool does, over ``bpe_core`` (no MCP)
* :mod:`server.tools` - the table of tools: one row each
* :mod:`server.tooling` - the SDK plumbing that turns a row into an MCP tool
* :mod:`server.argument_errors` - argument errors as sentences
* :mod:`server.app` - the MCP server: tools, resources, prompts, completions
* :mod:`server.token_view_app` - the token view as an MCP App
* :mod:`server.prompts` - the prompt texts
* :mod:`server.stdio_transport` - stdio, answering lines that are not messages
* :mod:`server.auth` - the optional bearer token for streamable HTTP
* :mod:`server.demo` - ``mcp-server-bpe demo``
* :mod:`server.console` - the console script's entry point

Importing the package imports none of them (see :mod:`server.console`);
``build_server`` and ``ServerConfig`` are loaded when first asked for.
"""

__all__ = ["build_server", "ServerConfig"]


def __getattr__(name: str):
    if name == "build_server":
        from .app import build_server

        return build_server
    if name == "ServerConfig":
        from .config import ServerConfig

        return ServerConfig
    raise AttributeError(f"module 'server' has no attribute {name!r}")
