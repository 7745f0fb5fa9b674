"""The ``mcp-server-bpe`` console script's entry point, light on purpose.

Counting workers started from Python's fork server re-run their parent's
main script (as ``__mp_main__``) before their first shard.  For the server
that script is the console script pip writes, and all it does is import
this module.  So this module and ``server/__init__.py`` import nothing
heavy: the MCP SDK, pydantic and the rest are imported by :func:`main`, in
the server's own process (imported in every worker, they cost each one
0.8-0.9 s of CPU on every training call).

>>> import subprocess, sys
>>> subprocess.run([sys.executable, "-c", "import server.console, sys; print('mcp' in sys.modules)"],
...                capture_output=True, text=True).stdout
'False\\n'
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Run ``mcp-server-bpe`` (see :mod:`server.__main__`)."""
    from .__main__ import main as run

    return run(argv)
