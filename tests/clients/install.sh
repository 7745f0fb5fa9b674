#!/usr/bin/env bash
# Install the pinned MCP clients the tests drive (MCP Inspector CLI, MCP
# conformance suite, and Node 22 itself, from the npm package `node`) into
# tests/clients/node_modules, exactly as package-lock.json says.
# Needs npm (any Node >= 18 to run npm); the tests then use the Node 22 binary
# installed here, not the system one.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
node_version="$(./node_modules/.bin/node --version)"
case "$node_version" in
  v22.*) ;;
  *) echo "tests/clients: expected Node 22 in node_modules/.bin/node, got $node_version" >&2; exit 1 ;;
esac
echo "tests/clients: installed Node $node_version, inspector $(./node_modules/.bin/node -p 'require("@modelcontextprotocol/inspector/package.json").version'), conformance $(./node_modules/.bin/node -p 'require("@modelcontextprotocol/conformance/package.json").version')"
