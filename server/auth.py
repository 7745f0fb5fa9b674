"""Optional bearer-token check for the streamable-HTTP transport.

Started with ``--auth-token TOKEN`` (or ``MCP_SERVER_BPE_AUTH_TOKEN``), the
server refuses every HTTP request that does not carry
``Authorization: Bearer TOKEN`` with ``401 Unauthorized``.  It plugs into the
SDK's token-verifier hook, so the SDK's own bearer middleware does the HTTP
side.  Use it whenever something other than you can reach the port: another
user on a shared machine, a container network, a tunnel, or ``--host``
other than 127.0.0.1.  It is one shared secret, not OAuth: give each client
the token through its configuration, never in a URL.
"""

from __future__ import annotations

import hmac
import os

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings

ENV_AUTH_TOKEN = "MCP_SERVER_BPE_AUTH_TOKEN"
CLIENT_ID = "mcp-server-bpe-client"
MIN_TOKEN_LENGTH = 16


class StaticTokenVerifier:
    """Accepts exactly one token, compared in constant time."""

    def __init__(self, token: str):
        self._token = token.encode("utf-8")

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode("utf-8", "surrogatepass"), self._token):
            return AccessToken(token=token, client_id=CLIENT_ID, scopes=[])
        return None


def auth_token_from(flag: str | None) -> str | None:
    """The token from ``--auth-token``, else the environment; ``None``: no check."""
    token = flag if flag is not None else os.environ.get(ENV_AUTH_TOKEN)
    if token is None or token == "":
        return None
    if len(token) < MIN_TOKEN_LENGTH or token != token.strip():
        raise ValueError(
            f"the auth token must be at least {MIN_TOKEN_LENGTH} characters without surrounding spaces; "
            "generate one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\""
        )
    return token


def server_options(token: str | None) -> dict:
    """Keyword arguments for ``MCPServer(...)`` that require ``token`` (none if ``token`` is None)."""
    if token is None:
        return {}
    # The SDK's auth settings describe an OAuth resource server; with a static
    # token there is no authorization server to point to, so the issuer is a
    # placeholder that no client is sent to.
    return {
        "token_verifier": StaticTokenVerifier(token),
        "auth": AuthSettings(issuer_url="http://127.0.0.1", resource_server_url=None),
    }
