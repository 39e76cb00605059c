"""Live-app egress: the template's opt-in NAT + Network Firewall path, and the recorder's own check
of the deployment's allow-list.

The template is evaluated the way CloudFormation would for a set of parameter values (conditions,
``Fn::If``, the ``Rules`` section), so "off creates nothing" is checked on what would be created,
not on text.  cfn-lint and checkov run over the template in tests/integration/test_cloud_linters.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.cloud.egress import EgressPolicy, parse_allowed_hosts
from app.cloud.emulator.statemachine import load_template
from app.core.script import Script
from recorder.main import RecorderEnv

EGRESS_TYPES = {"AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::VPCGatewayAttachment",
                "AWS::EC2::EIP", "AWS::NetworkFirewall::Firewall", "AWS::NetworkFirewall::FirewallPolicy",
                "AWS::NetworkFirewall::RuleGroup", "AWS::NetworkFirewall::LoggingConfiguration"}

#: every spelling of the metadata and link-local addresses a job might use to reach credentials
METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/",
    "http://169.254.170.2/v2/credentials/x",  # the ECS task credentials endpoint
    "http://2852039166/",
    "http://0xa9fea9fe/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "https://metadata.google.internal/",
    "http://user@169.254.169.254/",
]


# ---------------------------------------------------------------------- evaluating the template

def _params(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    values = {name: p.get("Default") for name, p in template["Parameters"].items()}
    values.update(given)
    return values


def _conditions(template: dict[str, Any], values: dict[str, Any]) -> dict[str, bool]:
    raw = template["Conditions"]
    done: dict[str, bool] = {}

    def value(x: Any) -> Any:
        if isinstance(x, dict) and set(x) == {"Ref"}:
            return values[x["Ref"]]
        return x

    def ev(x: Any) -> bool:
        (fn, arg), = x.items()
        if fn == "Fn::Equals":
            return bool(value(arg[0]) == value(arg[1]))
        if fn == "Fn::Not":
            return not ev(arg[0])
        if fn == "Fn::And":
            return all(ev(a) for a in arg)
        if fn == "Fn::Or":
            return any(ev(a) for a in arg)
        if fn in ("Fn::Condition", "Condition"):
            return cond(arg)
        raise AssertionError(f"condition function {fn} not handled by this test")

    def cond(name: str) -> bool:
        if name not in done:
            done[name] = ev(raw[name])
        return done[name]

    for name in raw:
        cond(name)
    return done


def _resolve_ifs(obj: Any, conds: dict[str, bool]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"Fn::If"}:
            name, yes, no = obj["Fn::If"]
            return _resolve_ifs(yes if conds[name] else no, conds)
        return {k: _resolve_ifs(v, conds) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve_ifs(v, conds) for v in obj]
    return obj


def stack(**given: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(resources CloudFormation would create, parameter values) for these parameter values."""
    template = load_template()
    values = _params(template, given)
    conds = _conditions(template, values)
    for rule in template.get("Rules", {}).values():
        if _conditions({"Conditions": {"r": rule["RuleCondition"]}}, values)["r"]:
            for a in rule["Assertions"]:
                if not _conditions({"Conditions": {"a": a["Assert"]}}, values)["a"]:
                    raise ValueError(a["AssertDescription"])
    created = {name: _resolve_ifs(r, conds) for name, r in template["Resources"].items()
               if "Condition" not in r or conds[r["Condition"]]}
    return created, values


def of_type(resources: dict[str, Any], *types: str) -> dict[str, Any]:
    return {n: r for n, r in resources.items() if r["Type"] in types}


def recorder_env(resources: dict[str, Any], values: dict[str, Any]) -> dict[str, str]:
    container = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    env = {}
    for e in container["Environment"]:
        v = e["Value"]
        env[e["Name"]] = values[v["Ref"]] if isinstance(v, dict) and set(v) == {"Ref"} else v
    return env


HOSTS = "app.example.com,.staging.example.org"


def test_default_is_off_and_creates_no_nat_or_firewall() -> None:
    resources, values = stack(ImageUri="x")
    assert values["LiveAppEgress"] == "off"
    assert of_type(resources, *EGRESS_TYPES) == {}
    # no route out of the VPC at all: the private subnets reach AWS through endpoints only
    assert of_type(resources, "AWS::EC2::Route") == {}
    assert "Vpc" in resources and "S3Endpoint" in resources  # the VPC itself is still created
    # a host list alone does not open anything
    resources, _ = stack(ImageUri="x", EgressAllowedHosts=HOSTS)
    assert of_type(resources, *EGRESS_TYPES, "AWS::EC2::Route") == {}


def test_on_routes_private_subnets_through_the_firewall_to_one_nat_gateway() -> None:
    resources, _ = stack(ImageUri="x", LiveAppEgress="on", EgressAllowedHosts=HOSTS)
    assert len(of_type(resources, "AWS::EC2::NatGateway")) == 1
    assert len(of_type(resources, "AWS::NetworkFirewall::Firewall")) == 1
    routes = {n: r["Properties"] for n, r in of_type(resources, "AWS::EC2::Route").items()}
    by_table = {(p["RouteTableId"]["Ref"], p["DestinationCidrBlock"]): p for p in routes.values()}
    endpoint = by_table[("PrivateRouteTable", "0.0.0.0/0")]["VpcEndpointId"]
    assert "EgressFirewall" in str(endpoint)  # tasks -> firewall endpoint, never straight to the NAT
    assert by_table[("FirewallRouteTable", "0.0.0.0/0")]["NatGatewayId"] == {"Ref": "NatGateway"}
    assert by_table[("PublicRouteTable", "0.0.0.0/0")]["GatewayId"] == {"Ref": "InternetGateway"}
    # replies to both private subnets come back through the firewall (symmetric routing)
    back = by_table[("PublicRouteTable", "10.80.0.0/19")]["VpcEndpointId"]
    assert back == endpoint
    for subnet in ("PrivateSubnetA", "PrivateSubnetB"):
        cidr = resources[subnet]["Properties"]["CidrBlock"]
        assert cidr.startswith(("10.80.0.", "10.80.16.")) and cidr.endswith("/20")
    # the NAT's subnet and the firewall's subnet are not the tasks' subnets
    assert resources["NatGateway"]["Properties"]["SubnetId"] == {"Ref": "PublicSubnet"}
    assert resources["EgressFirewall"]["Properties"]["SubnetMappings"] == [{"SubnetId": {"Ref": "FirewallSubnet"}}]
    assert resources["PublicSubnet"]["Properties"]["MapPublicIpOnLaunch"] is False


def test_on_allows_only_the_listed_names_and_drops_the_rest() -> None:
    resources, _ = stack(ImageUri="x", LiveAppEgress="on", EgressAllowedHosts=HOSTS)
    source = resources["EgressAllowList"]["Properties"]["RuleGroup"]["RulesSource"]["RulesSourceList"]
    assert source["GeneratedRulesType"] == "ALLOWLIST"
    assert set(source["TargetTypes"]) == {"TLS_SNI", "HTTP_HOST"}
    assert source["Targets"] == {"Fn::Split": [",", {"Ref": "EgressAllowedHosts"}]}
    policy = resources["EgressFirewallPolicy"]["Properties"]["FirewallPolicy"]
    assert "aws:drop_established" in policy["StatefulDefaultActions"]  # unlisted names: dropped
    assert policy["StatefulEngineOptions"]["RuleOrder"] == "STRICT_ORDER"
    assert policy["StatelessDefaultActions"] == ["aws:forward_to_sfe"]  # nothing bypasses the stateful rules
    refs = policy["StatefulRuleGroupReferences"]
    assert [r["ResourceArn"] for r in refs] == [{"Ref": "EgressAllowList"}]
    assert "EgressFirewallLogging" in resources  # dropped flows are logged


def test_on_needs_a_host_list() -> None:
    with pytest.raises(ValueError, match="at least one host"):
        stack(ImageUri="x", LiveAppEgress="on")


def test_an_existing_vpc_gets_no_egress_resources_but_the_recorder_still_gets_the_list() -> None:
    resources, values = stack(ImageUri="x", ExistingVpcId="vpc-1", ExistingSubnetIds="subnet-a,subnet-b",
                              LiveAppEgress="on", EgressAllowedHosts=HOSTS)
    assert of_type(resources, *EGRESS_TYPES, "AWS::EC2::Route", "AWS::EC2::VPC") == {}
    env = recorder_env(resources, values)
    assert env["LIVE_APP_EGRESS"] == "on" and env["EGRESS_ALLOWED_HOSTS"] == HOSTS


@pytest.mark.parametrize("mode", ["off", "on"])
def test_metadata_and_link_local_stay_blocked_in_every_mode(mode: str) -> None:
    resources, values = stack(ImageUri="x", LiveAppEgress=mode, EgressAllowedHosts=HOSTS)
    # the task's security group lets out HTTPS and nothing else, in both modes
    (sg,) = [r for n, r in resources.items() if n == "TaskSecurityGroup"]
    egress = sg["Properties"]["SecurityGroupEgress"]
    assert [(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in egress] == [("tcp", 443, 443)]
    assert not sg["Properties"].get("SecurityGroupIngress")
    # nothing routes a link-local range anywhere
    for r in of_type(resources, "AWS::EC2::Route").values():
        assert not str(r["Properties"].get("DestinationCidrBlock", "")).startswith("169.254.")
    # the recorder gets the deployment's mode and list, and refuses every metadata spelling even
    # when a job's host list would otherwise let it through
    env = recorder_env(resources, values)
    assert env["LIVE_APP_EGRESS"] == mode
    policy = EgressPolicy.from_environ(env)
    assert policy is not None and policy.enabled is (mode == "on")
    for url in METADATA_URLS:
        problem = policy.url_problem(url)
        assert problem is not None, url
    # the deploy-time pattern refuses addresses and ports, so the firewall can never allow one
    pattern = load_template()["Parameters"]["EgressAllowedHosts"]["AllowedPattern"]
    for bad in ("169.254.169.254", "app.example.com,169.254.169.254", "[fd00:ec2::254]", "fd00:ec2::254",
                "2852039166", "app.example.com:8443", "https://app.example.com", "*.example.com",
                "app.example.com, other.example.com", "localhost"):
        assert not re.fullmatch(pattern, bad), bad
    for good in ("", "app.example.com", HOSTS, "a.b.c.example.co.uk"):
        assert re.fullmatch(pattern, good), good


def test_session_key_is_scoped_and_sessions_expire() -> None:
    resources, _ = stack(ImageUri="x")
    key = resources["SessionKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    statements = {s["Sid"]: s for s in key["KeyPolicy"]["Statement"]}
    for sid, s in statements.items():
        assert s["Principal"] != "*" and s["Principal"].get("AWS") != "*", sid
        assert "kms:*" not in s["Action"], sid
    admin = statements["AccountAdministersTheKey"]
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} & set(admin["Action"])
    for sid in ("TenantsEncryptSessionsThroughS3", "RecorderDecryptsSessionsThroughS3"):
        cond = statements[sid]["Condition"]
        assert cond["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}
        assert cond["StringLike"]["kms:EncryptionContext:aws:s3:arn"]["Fn::Sub"].endswith(
            "${Bucket}/tenants/*/jobs/*/session.json")
    assert statements["RecorderDecryptsSessionsThroughS3"]["Action"] == "kms:Decrypt"
    rules = {r["Id"]: r for r in resources["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    backstop = rules["session-files"]
    assert backstop["ExpirationInDays"] == 1 and backstop["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    assert backstop["TagFilters"] == [{"Key": "reelwright-session", "Value": "true"}]
    denies = {s["Sid"]: s for s in resources["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
              if "Sid" in s}  # the share statement is conditional (Fn::If)
    assert denies["SessionsUseTheSessionKey"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": {"Fn::GetAtt": ["SessionKey", "Arn"]}}
    assert denies["SessionsCarryTheExpiryTag"]["Condition"]["StringNotEquals"] == {
        "s3:RequestObjectTag/reelwright-session": "true"}
    assert "s3:DeleteObjectTagging" in denies["SessionTagsAreFixed"]["Action"]
    outputs = load_template()["Outputs"]
    assert outputs["SessionKeyArn"]["Value"] == {"Fn::GetAtt": ["SessionKey", "Arn"]}


# ---------------------------------------------------------------------- the recorder's own check

def script(base_url: str | None = None, *gotos: str) -> Script:
    actions = [{"type": "goto", "url": u} for u in gotos] or [{"type": "goto", "url": "/"}]
    doc: dict[str, Any] = {"version": 1, "title": "t", "settings": {"base_url": base_url} if base_url else {},
                           "cards": [{"id": "open", "actions": actions}]}
    return Script.model_validate(doc)


def test_allow_list_entries_are_host_names_only() -> None:
    assert parse_allowed_hosts(" App.Example.com ,.example.org,,app.example.com") == (
        "app.example.com", ".example.org")
    for bad in ("169.254.169.254", "https://x.example.com", "x.example.com:443", "*.example.com",
                "metadata.google.internal", "[fd00:ec2::254]", "localhost"):
        with pytest.raises(ValueError):
            parse_allowed_hosts(bad)


def test_on_allows_listed_hosts_and_their_listed_subdomains_over_https_only() -> None:
    policy = EgressPolicy(True, parse_allowed_hosts(HOSTS))
    assert policy.problems(script("https://app.example.com/start")) == []
    assert policy.problems(script("https://app.example.com:443/")) == []
    assert policy.problems(script(None, "https://staging.example.org/", "https://a.b.staging.example.org/x")) == []
    assert policy.problems(script("http://127.0.0.1:8000/")) == []  # the task's own loopback (a served site)
    (p,) = policy.problems(script("https://evil.example.com/"))
    assert "settings › base_url" in p and "evil.example.com" in p and "EgressAllowedHosts" in p
    (p,) = policy.problems(script("https://app.example.com/", "https://app.example.com.evil.test/"))
    assert "card 1 'open' › action 1 (goto)" in p
    (p,) = policy.problems(script("http://app.example.com/"))
    assert "HTTPS on port 443 only" in p
    (p,) = policy.problems(script("https://app.example.com:8443/"))
    assert "port 443" in p
    assert policy.problems(script("https://example.com/"))  # "app.example.com" does not allow its parent
    assert policy.problems(script("https://notstaging.example.org/"))  # ".x" is a label boundary


def test_off_allows_loopback_only_and_says_how_to_change_that() -> None:
    policy = EgressPolicy.from_environ({"LIVE_APP_EGRESS": "off", "EGRESS_ALLOWED_HOSTS": HOSTS})
    assert policy is not None and not policy.enabled
    assert policy.problems(script("http://localhost:3000/")) == []
    (p,) = policy.problems(script("https://app.example.com/"))
    assert "LiveAppEgress=off" in p and "LiveAppEgress=on" in p and "app.example.com" in p
    # outside the cloud there is no check at all (the desktop renders whatever the user points at)
    assert EgressPolicy.from_environ({}) is None
    assert EgressPolicy.from_environ({"LIVE_APP_EGRESS": ""}) is None  # an empty line in a .env file


def test_a_bad_allow_list_fails_closed() -> None:
    env = RecorderEnv.from_environ({"JOB_BUCKET": "b", "JOB_KEY": "k", "TASK_TOKEN": "t", "LIVE_APP_EGRESS": "on",
                                    "EGRESS_ALLOWED_HOSTS": "app.example.com,169.254.169.254"})
    assert env.egress == EgressPolicy(False)
    assert env.egress_error is not None and "169.254.169.254" in env.egress_error
    # anything but "on" is off
    assert EgressPolicy.from_environ({"LIVE_APP_EGRESS": "yes", "EGRESS_ALLOWED_HOSTS": HOSTS}) == EgressPolicy(False)
