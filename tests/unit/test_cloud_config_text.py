"""The one parser for pasted or picked cloud settings (the app's Cloud setup and ``cloud configure
--from-file``): every shape a user is likely to have, and a sentence for each thing that is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cloud.config import STACK_OUTPUTS, CloudConfig, config_from_file, config_from_text, load_config
from app.cloud.errors import CloudConfigError

CFG = CloudConfig(region="eu-west-1", user_pool_id="eu-west-1_AbC", client_id="client123",
                  identity_pool_id="eu-west-1:1234", bucket="rw-bucket", session_key_id="arn:aws:kms:eu-west-1:1:key/k",
                  share_api_url="https://abc123.execute-api.eu-west-1.amazonaws.com/v1/share",
                  share_domain="d111.cloudfront.net")
OUTPUTS = {key: getattr(CFG, field) for key, field in STACK_OUTPUTS.items()}
OUTPUT_LIST = [{"OutputKey": k, "OutputValue": v, "Description": "…"} for k, v in OUTPUTS.items()] + [
    {"OutputKey": "StateMachineArn", "OutputValue": "arn:aws:states:eu-west-1:1:stateMachine:rw"}]


@pytest.mark.parametrize("doc", [
    {"Stacks": [{"StackName": "rw", "StackStatus": "CREATE_COMPLETE", "Outputs": OUTPUT_LIST}]},
    {"StackName": "rw", "Outputs": OUTPUT_LIST},
    OUTPUT_LIST,
    {**OUTPUTS, "JobTableName": "jobs"},
], ids=["describe-stacks", "one stack", "outputs list", "key-value object"])
def test_stack_outputs_in_every_shape(doc: object) -> None:
    cfg = config_from_text(json.dumps(doc), endpoint_url="http://127.0.0.1:5000")
    assert cfg.user_pool_id == CFG.user_pool_id and cfg.bucket == CFG.bucket and cfg.region == "eu-west-1"
    assert cfg.session_key_id == CFG.session_key_id and cfg.endpoint_url == "http://127.0.0.1:5000"
    assert (cfg.share_api_url, cfg.share_domain) == (CFG.share_api_url, CFG.share_domain)
    assert cfg.stack == ("rw" if isinstance(doc, dict) and ("Stacks" in doc or "StackName" in doc) else None)


def test_a_saved_configuration_reads_as_saved(tmp_path: Path) -> None:
    emulated = CloudConfig(**{**CFG.to_json(), "endpoint_url": "http://127.0.0.1:9", "emulator": True})
    path = emulated.save(tmp_path / "config.json")
    assert config_from_file(path) == emulated == load_config(path)


@pytest.mark.parametrize(("text", "message"), [
    ('{"Stacks": [', r"is not JSON \(.*line 1 column"),
    (json.dumps({"Stacks": []}), "holds 0 stacks"),
    (json.dumps([{"OutputKey": "Region"}]), "output 1 has no OutputKey/OutputValue"),
    (json.dumps({k: v for k, v in OUTPUTS.items() if k != "UserPoolClientId"}), "missing client_id"),
    (json.dumps({"hello": "world"}), "has no cloud settings"),
    (json.dumps(["x"]), "output 1 has no OutputKey"),
])
def test_what_is_wrong_is_said(text: str, message: str) -> None:
    with pytest.raises(CloudConfigError, match=message):
        config_from_text(text, source="the pasted text")


def test_cli_configure_from_file_takes_stack_outputs(tmp_path: Path) -> None:
    from app.cli_cloud import main

    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"Stacks": [{"StackName": "rw", "Outputs": OUTPUT_LIST}]}))
    target = tmp_path / "config.json"
    assert main(["cloud", "--config", str(target), "configure", "--from-file", str(outputs)]) == 0
    assert load_config(target) == CloudConfig(**{**CFG.to_json(), "stack": "rw"})
    before = target.read_text()
    outputs.write_text("[")  # a broken file: an error and an exit code, the saved configuration unchanged
    assert main(["cloud", "--config", str(target), "configure", "--from-file", str(outputs)]) == 4
    assert target.read_text() == before
