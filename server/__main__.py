"""Command line: ``mcp-server-bpe [options]`` runs the server (stdio by
default); ``mcp-server-bpe demo`` shows it working.

stdout belongs to JSON-RPC when serving over stdio, so everything else
(logs, errors) goes to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .auth import ENV_AUTH_TOKEN, auth_token_from
from .config import ENV_DATA_DIR, ENV_ROOTS, LIMITS, ServerConfig, data_dir_from, limits_from, roots_from


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-server-bpe",
        description="An MCP server that trains, applies, explains and inspects BPE tokenizers.",
        epilog="Run 'mcp-server-bpe demo' to see it work end to end.",
    )
    parser.add_argument("command", nargs="?", choices=["serve", "demo"], default="serve",
                        help="'serve' (default): run the MCP server; 'demo': run a scripted client session")
    parser.add_argument("--data-dir", help=f"where tokenizers are stored (env {ENV_DATA_DIR}; default: the "
                        "platform's user data directory)")
    parser.add_argument("--root", action="append", metavar="DIR",
                        help=f"directory the server may read corpora from and export to; repeatable (env {ENV_ROOTS}, "
                        "separated by the path separator)")
    parser.add_argument("--no-client-roots", action="store_true",
                        help="ignore the roots offered by the MCP client; only --root directories are allowed")
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="host for streamable-http (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port for streamable-http (default 8000)")
    parser.add_argument("--auth-token", default=None, metavar="TOKEN",
                        help=f"streamable-http: refuse requests without 'Authorization: Bearer TOKEN' (401); env "
                        f"{ENV_AUTH_TOKEN}. Use it whenever others can reach the port")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="log level (logs go to stderr)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes for counting words of large corpora (default: the CPU cores)")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="count train_bpe's words on a Dask cluster: a scheduler address (tcp://host:8786) or "
                             "local[:N] (needs: pip install \"mcp-server-bpe[scale]\")")
    for limit in LIMITS.values():
        parser.add_argument(limit.flag, type=int, default=None, metavar="N", dest=limit.flag[2:].replace("-", "_"),
                            help=f"limit on {limit.name} (env {limit.env}; default {limit.default:,})")
    parser.add_argument("--keep", action="store_true", help="demo: keep the demo's data directory")
    return parser


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        data_dir=data_dir_from(args.data_dir),
        roots=roots_from(args.root),
        use_client_roots=not args.no_client_roots,
        limits=limits_from(vars(args)),
        training_workers=args.workers,
        dask=args.dask,
        auth_token=auth_token_from(args.auth_token),
    )


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(data_dir=args.data_dir, keep=args.keep)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    from .app import build_server

    server = build_server(config)
    # uvicorn (streamable HTTP) takes its level, and with it whether each request is logged, from the
    # SDK's settings, which default to INFO: --log-level is the one level for everything on stderr.
    server.settings.log_level = args.log_level
    logging.getLogger(__name__).info("data dir %s; allowed roots: %s", config.data_dir,
                                     ", ".join(map(str, config.roots)) or "none")
    if args.transport == "stdio":
        import anyio

        from .stdio_transport import run_stdio

        anyio.run(run_stdio, server)  # server.run("stdio"), plus JSON-RPC errors for unreadable lines
    else:
        server.run("streamable-http", host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
