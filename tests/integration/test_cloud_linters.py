"""The CloudFormation template and its state machine pass the offline linters the issue names:
cfn-lint, checkov (no failed checks; every skip carries its justification in the template), and
statelint (Amazon States Language) on the production definition."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cloud.emulator.statemachine import load_template, production_definition
from app.cloud.template import TEMPLATE

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed (pip install {name} into the venv)")
    return found


def test_cfn_lint_is_clean() -> None:
    out = subprocess.run([tool("cfn-lint"), str(TEMPLATE)], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr


def test_cfn_lint_is_clean_with_live_app_egress_on() -> None:
    """The egress resources exist only under a condition; lint them as a deploy with the option on sees them."""
    out = subprocess.run([tool("cfn-lint"), str(TEMPLATE), "--parameters", "ImageUri=x", "LiveAppEgress=on",
                          "EgressAllowedHosts=app.example.com,.example.org"],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr


def test_cfn_lint_is_clean_with_share_links_on() -> None:
    """The share distribution, signer and API exist only with a SharePublicKey: lint them as that deploy sees them."""
    public_key = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----"
    out = subprocess.run([tool("cfn-lint"), str(TEMPLATE), "--parameters", "ImageUri=x",
                          f"SharePublicKey={public_key}", "ShareKeyVersion=2"],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr


def test_cfn_lint_is_clean_with_the_sign_up_allow_list() -> None:
    """The PreSignUp Lambda exists only with SignUpMode=allow-list; lint it as such a deploy sees it."""
    out = subprocess.run([tool("cfn-lint"), str(TEMPLATE), "--parameters", "ImageUri=x", "SignUpMode=allow-list",
                          "SignUpDomains=example.com,example.org"],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_checkov_finds_no_failed_checks(tmp_path: Path) -> None:
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false", LOG_LEVEL="ERROR")
    out = subprocess.run([tool("checkov"), "-f", str(TEMPLATE), "--framework", "cloudformation",
                          "--skip-download", "-o", "json"], capture_output=True, text=True, timeout=300, env=env,
                         cwd=tmp_path)
    report = json.loads(out.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert summary["failed"] == 0, failed
    assert summary["passed"] > 50
    # every skip is one the template justifies in a comment
    skips = report["results"]["skipped_checks"]
    template = load_template()
    for skip in skips:
        resource = skip["resource"].split(".", 1)[1]
        entries = template["Resources"][resource]["Metadata"]["checkov"]["skip"]
        assert any(e["id"] == skip["check_id"] and len(e.get("comment", "")) > 20 for e in entries), skip


@pytest.mark.parametrize("resource", ["RenderStateMachine", "SweeperStateMachine"])
def test_statelint_accepts_the_state_machine(tmp_path: Path, resource: str) -> None:
    path = tmp_path / f"{resource}.asl.json"
    path.write_text(json.dumps(production_definition(resource=resource), indent=2))
    out = subprocess.run([tool("statelint"), str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
