"""Command line: ``mcp-server-bpe [options]`` runs the server (stdio by
default); ``mcp-server-bpe demo`` shows it working.

stdout belongs to JSON-RPC when serving over stdio, so everything else
(logs, errors) goes to stderr.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys

from .auth import ENV_AUTH_TOKEN, auth_token_from
from .config import ENV_DATA_DIR, ENV_ROOTS, LIMITS, ServerConfig, data_dir_from, limits_from, roots_from
from .http_transport import HttpSettings


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
    roots = parser.add_mutually_exclusive_group()
    roots.add_argument("--client-roots", dest="client_roots", action="store_true", default=None,
                       help="allow the roots offered by the MCP client too (default over stdio; over "
                       "streamable-http a client's roots could be anything, file:/// included)")
    roots.add_argument("--no-client-roots", dest="client_roots", action="store_false",
                       help="ignore the roots offered by the MCP client; only --root directories are allowed "
                       "(default over streamable-http)")
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="host for streamable-http (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port for streamable-http (default 8000)")
    parser.add_argument("--auth-token", default=None, metavar="TOKEN",
                        help=f"streamable-http: refuse requests without 'Authorization: Bearer TOKEN' (401); env "
                        f"{ENV_AUTH_TOKEN}. Use it whenever others can reach the port")
    parser.add_argument("--allow-unauthenticated", action="store_true",
                        help="streamable-http: serve a --host other than loopback without --auth-token "
                        "(refused otherwise)")
    http = HttpSettings()
    parser.add_argument("--session-idle-timeout", type=float, default=http.session_idle_timeout, metavar="SECONDS",
                        help="streamable-http: end a session after this long without requests (default "
                        f"{http.session_idle_timeout:g})")
    parser.add_argument("--max-sessions", type=int, default=http.max_sessions, metavar="N",
                        help=f"streamable-http: open sessions in all (default {http.max_sessions})")
    parser.add_argument("--max-sessions-per-client", type=int, default=http.max_sessions_per_client, metavar="N",
                        help="streamable-http: open sessions per client address (default "
                        f"{http.max_sessions_per_client})")
    parser.add_argument("--max-calls-per-session", type=int, default=http.max_calls_per_session, metavar="N",
                        help="streamable-http: tool calls in flight per session, until their reply is read; one "
                        f"more gets a 'busy, try again' tool error (default {http.max_calls_per_session})")
    parser.add_argument("--http-header-timeout", type=float, default=http.header_timeout, metavar="SECONDS",
                        help="streamable-http: close a connection that has not sent a request's headers within "
                        f"this time (default {http.header_timeout:g})")
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
    """The server's settings; over streamable HTTP the client's roots are off unless --client-roots."""
    return ServerConfig(
        data_dir=data_dir_from(args.data_dir),
        roots=roots_from(args.root),
        use_client_roots=args.client_roots if args.client_roots is not None else args.transport == "stdio",
        limits=limits_from(vars(args)),
        training_workers=args.workers,
        dask=args.dask,
        auth_token=auth_token_from(args.auth_token),
    )


def http_settings_from_args(args: argparse.Namespace) -> HttpSettings:
    return HttpSettings(session_idle_timeout=args.session_idle_timeout, max_sessions=args.max_sessions,
                        max_sessions_per_client=args.max_sessions_per_client,
                        max_calls_per_session=args.max_calls_per_session, header_timeout=args.http_header_timeout)


def check_exposure(host: str, auth_token: str | None, allow_unauthenticated: bool) -> None:
    """Refuse to serve a non-loopback address without a token, unless explicitly allowed.

    >>> check_exposure("127.0.0.1", None, False)
    >>> check_exposure("0.0.0.0", None, False)
    Traceback (most recent call last):
    ...
    ValueError: --host 0.0.0.0 is reachable from other machines and there is no --auth-token: anyone who can reach the port could train, read and write files in the roots. Add --auth-token TOKEN (or set MCP_SERVER_BPE_AUTH_TOKEN), or pass --allow-unauthenticated if every machine that can reach it is trusted
    """
    if auth_token is not None or allow_unauthenticated or _is_loopback(host):
        return
    raise ValueError(
        f"--host {host} is reachable from other machines and there is no --auth-token: anyone who can reach the "
        f"port could train, read and write files in the roots. Add --auth-token TOKEN (or set {ENV_AUTH_TOKEN}), "
        "or pass --allow-unauthenticated if every machine that can reach it is trusted"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


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
        if args.transport == "streamable-http":
            http = http_settings_from_args(args)
            check_exposure(args.host, config.auth_token, args.allow_unauthenticated)
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
        import anyio

        from .http_transport import serve_http

        anyio.run(lambda: serve_http(server, host=args.host, port=args.port, settings=http,
                                     require_auth=config.auth_token is not None, log_level=args.log_level))
    return 0


if __name__ == "__main__":
    sys.exit(main())
