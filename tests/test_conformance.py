"""The MCP conformance suite (@modelcontextprotocol/conformance, pinned in
tests/clients/package.json) against mcp-server-bpe over streamable HTTP.

Two runs: the suite's default (active) server scenarios, negotiated at
2025-11-25, and ``--requirements 2026-07-28`` (exactly the scenarios that
revision requires).  Both use the baseline tests/clients/conformance-baseline.yml,
and the suite itself exits 1 on a failure outside it or on a baselined scenario
that passes.  The baseline is per scenario, so this test also reads every
check the suite wrote: a failing check is allowed only if it is listed in
FIXTURE_CHECKS, i.e. it calls one of the suite's own test_* tools, test://
resources or test_* prompts, which a BPE server does not have.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from node_clients import CLIENTS, client_env, http_server, node_program

BASELINE = CLIENTS / "conformance-baseline.yml"

# Scenarios that exercise the server's own behaviour: each must run, and each of its checks not in
# FIXTURE_CHECKS must pass.  (tools-call-simple-text and tools-call-error also pass, but hollowly: they
# call the fixture tools test_simple_text / test_error_handling, and the SDK's answer to an unknown tool,
# isError with the text 'Unknown tool: ...', happens to satisfy them.  tests/test_inspector_cli.py calls
# real tools.)
GENERIC = {
    "active": {"server-initialize", "server-session-lifecycle", "ping", "completion-complete", "tools-list",
               "resources-list", "prompts-list", "server-sse-multiple-streams", "dns-rebinding-protection"},
    "2026-07-28": {"server-stateless", "completion-complete", "tools-list", "resources-list", "prompts-list",
                   "server-sse-multiple-streams", "sep-2164-resource-not-found", "dns-rebinding-protection",
                   "caching", "input-required-result-unsupported-methods", "input-required-result-ignore-extra-params",
                   "input-required-result-validate-input", "input-required-result-missing-input-response"},
}
# ...except these checks, which call the suite's fixtures (scenario -> check ids).
FIXTURE_CHECKS = {
    **{name: {name} for name in (
        "tools-call-image", "tools-call-audio", "tools-call-embedded-resource", "tools-call-mixed-content",
        "tools-call-with-logging", "tools-call-with-progress", "tools-call-sampling", "tools-call-elicitation",
        "resources-read-text", "resources-read-binary", "resources-templates-read", "resources-subscribe",
        "resources-unsubscribe", "prompts-get-simple", "prompts-get-with-args", "prompts-get-embedded-resource",
        "prompts-get-with-image",
        "logging-set-level",  # not a fixture: no logging capability declared, -32601 (see the baseline)
    )},
    "elicitation-sep1034-defaults": {"elicitation-sep1034-general"},
    "elicitation-sep1330-enums": {"elicitation-sep1330-general"},
    # test_missing_capability, test_trigger_prompt_change, test_trigger_tool_change
    "server-stateless": {"sep-2575-server-rejects-undeclared-capability", "sep-2575-missing-capability-http-400",
                         "sep-2575-server-sends-prompts-list-changed-on-subscription",
                         "sep-2575-server-sends-tools-list-changed-on-subscription"},
    # test_input_required_result_* tools and prompt
    "input-required-result-basic-elicitation": {"sep-2322-elicitation-incomplete"},
    "input-required-result-basic-sampling": {"sep-2322-sampling-incomplete"},
    "input-required-result-basic-list-roots": {"sep-2322-list-roots-incomplete"},
    "input-required-result-request-state": {"sep-2322-request-state-incomplete"},
    "input-required-result-multiple-input-requests": {"sep-2322-multiple-inputs-incomplete"},
    "input-required-result-multi-round": {"sep-2322-multi-round-r1"},
    "input-required-result-non-tool-request": {"sep-2322-non-tool-incomplete"},
    "input-required-result-result-type": {"sep-2322-result-type-included"},
    "input-required-result-tampered-state": {"sep-2322-reject-tampered-state"},
    "input-required-result-capability-check": {"sep-2322-respect-client-capabilities"},
    "input-required-result-missing-input-response": {"sep-2322-missing-response-rerequests"},
    "input-required-result-validate-input": {"sep-2322-error-on-protocol-error"},
}
# Scored by neither run (extensions and pending scenarios the 2026-07-28 run also executes).
UNSCORED = re.compile(r"tasks-.*|json-schema-2020-12|http-header-validation|http-custom-header-server-validation")
PASSED = {"SUCCESS", "INFO", "SKIPPED"}


def baseline_scenarios() -> set[str]:
    return set(re.findall(r"^\s*-\s*([a-z0-9-]+)", BASELINE.read_text(), re.MULTILINE))


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    node_program("@modelcontextprotocol/conformance", "conformance")  # skip (or fail under CI) before starting
    root = tmp_path_factory.mktemp("conformance-server")
    with http_server(root / "data", root / "server.log") as url:
        yield url


def run_suite(server_url: str, out: Path, *options: str) -> dict[str, list[dict]]:
    """Run the suite; return its checks by scenario, after asserting it accepted the baseline."""
    command = [*node_program("@modelcontextprotocol/conformance", "conformance"), "server", "--url", server_url,
               "--expected-failures", str(BASELINE), "--output-dir", str(out), *options]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=client_env(out / "home"),
                          cwd=out)
    assert done.returncode == 0, f"conformance exited {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    assert "Baseline check passed" in done.stdout, done.stdout[-3000:]
    checks = {}
    for path in sorted(out.glob("server-*/checks.json")):
        scenario = re.sub(r"^server-(.*)-\d{4}-\d\d-\d\dT.*$", r"\1", path.parent.name)
        checks.setdefault(scenario, []).extend(json.loads(path.read_text()))
    return checks


@pytest.mark.parametrize("run", ["active", "2026-07-28"])
def test_conformance(server_url, tmp_path, run):
    options = () if run == "active" else ("--requirements", run)
    checks = run_suite(server_url, tmp_path, *options)

    missing = GENERIC[run] - set(checks)
    assert not missing, f"generic scenarios the suite did not run: {sorted(missing)}"
    unexpected = {
        scenario: [(c["id"], c["status"], c.get("errorMessage")) for c in found
                   if c["status"] not in PASSED and c["id"] not in FIXTURE_CHECKS.get(scenario, ())]
        for scenario, found in checks.items() if not UNSCORED.fullmatch(scenario)
    }
    assert not {s: f for s, f in unexpected.items() if f}, "failing checks that need no fixture"
    for scenario in GENERIC[run]:
        assert checks[scenario], f"{scenario}: no checks recorded"
    # Every baselined scenario is one whose failures are all fixture checks.
    assert baseline_scenarios() <= set(FIXTURE_CHECKS)
