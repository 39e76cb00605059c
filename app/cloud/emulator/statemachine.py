"""The production state machine (from ``template.yaml``) and its documented adaptation for moto.

``template.yaml`` is the single source: :func:`production_definition` reads the state machine out of
it, so the emulator runs the very definition that gets deployed, after :func:`adapt_for_moto`
applies these changes — and only these:

1. **Substitutions.** ``${JobTable}``, ``${Cluster}``... are filled in as CloudFormation's
   ``DefinitionSubstitutions`` would, with the emulator's resources.
2. **The render step's integration.** moto fails the optimized
   ``arn:aws:states:::ecs:runTask.waitForTaskToken`` but runs the generic
   ``arn:aws:states:::aws-sdk:ecs:runTask.waitForTaskToken``; that one takes the ECS API's own
   camelCase parameter names, so every key under the step's ``Parameters`` is camel-cased
   (``TaskDefinition`` → ``taskDefinition``, ``Value.$`` → ``value.$``).
3. **Capacity.** moto places no Spot capacity: ``capacityProviderStrategy`` becomes
   ``launchType: FARGATE`` and ``propagateTags`` (unsupported) is dropped.
4. **Retries as a loop.** moto keeps one task token for all ``Retry`` attempts of a
   ``waitForTaskToken`` step, so the first failure's outcome is replayed to every retry.  The
   render step's ``Retry`` rules therefore become an equivalent loop: a ``Catch`` for the same
   errors → a ``Choice`` that counts attempts up to the same ``MaxAttempts`` → a ``Wait`` of
   ``retry_interval_s`` (default 1 s, so a test need not wait for the production backoff) → the
   render step again, which enters afresh with a new token.  Out of attempts, a ``Choice`` on the
   error's name goes where the production ``Catch`` sends that error (a lost heartbeat to
   ``ExplainLostHeartbeat``, anything else to the ``States.ALL`` target).  The production
   ``WaitToRetryRender`` (15 s, before a lost task's retry) and ``WaitForSlot`` (30 s, a job waiting
   for one of its tenant's render slots) wait ``retry_interval_s`` too.

   Changes 2-4 apply alike to a fan-out variant's render step (``RenderVariant`` inside the
   ``RenderVariants`` map, with its ``WaitToRetryVariant`` and ``WaitForVariantSlot``).
5. **camelCase SDK calls.** moto hands an ``aws-sdk`` task's parameters to boto3 as they are and
   returns boto3's response, while AWS takes and returns the API's PascalCase names.  For the services
   whose boto3 names are camelCase (ECS, Step Functions) every ``Parameters`` key is camel-cased and
   every path in ``ResultSelector`` too (``$.TaskArns`` → ``$.taskArns``), in nested ``Map``
   processors as well.  (S3 and DynamoDB use PascalCase in boto3 too: unchanged.)

The sweeper (``SweeperStateMachine``) gets changes 1 and 5 only (:func:`adapt_sweeper_for_moto`).

Everything else — the Pass states that derive tenant and job from the S3 key, the DynamoDB
``putItem``/``updateItem`` status rows, the ``aws-sdk:s3:putObject`` status documents, the
heartbeat, timeout, retry and catch wiring — runs unchanged.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from ..template import TEMPLATE

STATE_MACHINE_RESOURCE = "RenderStateMachine"
SWEEPER_RESOURCE = "SweeperStateMachine"
#: aws-sdk services whose boto3 parameter and response names are camelCase (AWS's own are PascalCase)
CAMEL_SDK_SERVICES = ("ecs", "sfn")
RENDER_STATE = "Render"
RETRY_WAIT_STATE = "WaitToRetryRender"
SLOT_WAIT_STATE = "WaitForSlot"
FAN_OUT_STATE = "RenderVariants"
VARIANT_RENDER_STATE = "RenderVariant"
VARIANT_SLOT_WAIT_STATE = "WaitForVariantSlot"
VARIANT_RETRY_WAIT_STATE = "WaitToRetryVariant"
OPTIMIZED_ECS = "arn:aws:states:::ecs:runTask.waitForTaskToken"
SDK_ECS = "arn:aws:states:::aws-sdk:ecs:runTask.waitForTaskToken"


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML loader that turns CloudFormation short tags (``!Ref``, ``!Sub``...) into their long form."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # a SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return data


def production_definition(path: Path = TEMPLATE, resource: str = STATE_MACHINE_RESOURCE) -> dict[str, Any]:
    """A state machine of the template exactly as deployed (substitution placeholders still in place)."""
    props = load_template(path)["Resources"][resource]["Properties"]
    definition: dict[str, Any] = copy.deepcopy(props["Definition"])
    return definition


def substitution_names(path: Path = TEMPLATE, resource: str = STATE_MACHINE_RESOURCE) -> list[str]:
    props = load_template(path)["Resources"][resource]["Properties"]
    return sorted(props["DefinitionSubstitutions"])


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def substitute(obj: Any, values: dict[str, str]) -> Any:
    """Replace ``${Name}`` in every string, as ``DefinitionSubstitutions`` does; unknown names fail."""
    if isinstance(obj, str):
        def one(m: re.Match[str]) -> str:
            if m.group(1) not in values:
                raise KeyError(f"no substitution for ${{{m.group(1)}}}")
            return values[m.group(1)]
        return _PLACEHOLDER.sub(one, obj)
    if isinstance(obj, list):
        return [substitute(v, values) for v in obj]
    if isinstance(obj, dict):
        return {k: substitute(v, values) for k, v in obj.items()}
    return obj


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:] if key[:1].isupper() else key


def _camel_keys(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_camel_keys(v) for v in obj]
    if isinstance(obj, dict):
        return {_camel(k): _camel_keys(v) for k, v in obj.items()}
    return obj


def _camel_path(path: str) -> str:
    """``$.Task.TaskArn`` → ``$.task.taskArn`` (a ResultSelector path into a camelCase boto3 response)."""
    if not path.startswith("$."):
        return path
    return "$." + ".".join(_camel(part) for part in path[2:].split("."))


def _all_states(states: dict[str, Any]) -> list[dict[str, Any]]:
    """Every state, including those of ``Map`` processors (``ItemProcessor`` or the older ``Iterator``)."""
    out: list[dict[str, Any]] = []
    for state in states.values():
        out.append(state)
        inner = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(inner, dict):
            out.extend(_all_states(inner.get("States", {})))
    return out


def _camel_sdk_calls(d: dict[str, Any]) -> None:
    """Change 5 of the module docstring, in place."""
    for state in _all_states(d["States"]):
        resource = str(state.get("Resource", ""))
        if not resource.startswith("arn:aws:states:::aws-sdk:") or resource == SDK_ECS:
            continue
        if resource.split(":")[6] not in CAMEL_SDK_SERVICES:
            continue
        state["Parameters"] = _camel_keys(state.get("Parameters", {}))
        if "ResultSelector" in state:
            state["ResultSelector"] = {k: _camel_path(v) if k.endswith(".$") and isinstance(v, str) else v
                                       for k, v in state["ResultSelector"].items()}


def adapt_sweeper_for_moto(definition: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The sweeper's production definition with changes 1 and 5 (module docstring) applied."""
    d: dict[str, Any] = substitute(copy.deepcopy(definition), values)
    _camel_sdk_calls(d)
    return d


def _exhausted_target(catches: list[dict[str, Any]], errors: list[str], check: str) -> dict[str, Any]:
    """Where the production ``Catch`` sends each of ``errors`` once its retries are spent: a Choice on the
    error's name (``States.ALL``'s target by default)."""
    default = next(c["Next"] for c in catches if c["ErrorEquals"] == ["States.ALL"])
    choices = []
    for error in errors:
        target = next((c["Next"] for c in catches if error in c["ErrorEquals"]), default)
        if target != default:
            choices.append({"Variable": "$.error.Error", "StringEquals": error, "Next": target})
    if not choices:
        return {"Type": "Pass", "Next": default}
    return {"Type": "Choice", "Choices": choices, "Default": default, "Comment": f"out of attempts ({check})"}


def adapt_for_moto(definition: dict[str, Any], values: dict[str, str], *,
                   retry_interval_s: int = 1, heartbeat_s: int | None = None) -> dict[str, Any]:
    """The production definition with the five documented changes (module docstring) applied.

    ``heartbeat_s`` shortens the render steps' ``HeartbeatSeconds`` (a test of a lost recorder need not
    wait five minutes); ``None`` keeps the production value.  Changes 2-4 apply to the single render
    (``Render``) and to each fan-out variant's (``RenderVariant``, inside the ``RenderVariants`` map).
    """
    d: dict[str, Any] = substitute(copy.deepcopy(definition), values)
    _camel_sdk_calls(d)
    if d["States"].get(RENDER_STATE, {}).get("Resource") != OPTIMIZED_ECS:
        raise ValueError(f"the {RENDER_STATE} state no longer uses {OPTIMIZED_ECS}; update adapt_for_moto")
    _adapt_render(d["States"], RENDER_STATE, (RETRY_WAIT_STATE, SLOT_WAIT_STATE), retry_interval_s, heartbeat_s)
    fan_out = d["States"].get(FAN_OUT_STATE)
    if fan_out is not None:
        inner = fan_out["ItemProcessor"]["States"]
        if inner.get(VARIANT_RENDER_STATE, {}).get("Resource") != OPTIMIZED_ECS:
            raise ValueError(f"the {VARIANT_RENDER_STATE} state no longer uses {OPTIMIZED_ECS}; update adapt_for_moto")
        _adapt_render(inner, VARIANT_RENDER_STATE, (VARIANT_RETRY_WAIT_STATE, VARIANT_SLOT_WAIT_STATE),
                      retry_interval_s, heartbeat_s,
                      prefix="MotoVariantRetry")
    return d


def _adapt_render(states: dict[str, Any], name: str, waits: tuple[str, ...], retry_interval_s: int,
                  heartbeat_s: int | None, prefix: str = "MotoRetry") -> None:
    """Changes 2-4 of the module docstring for the render step ``name`` of ``states``, in place."""
    render = states[name]
    render["Resource"] = SDK_ECS
    params = _camel_keys(render["Parameters"])
    params.pop("capacityProviderStrategy", None)
    params.pop("propagateTags", None)
    params["launchType"] = "FARGATE"
    render["Parameters"] = params
    if heartbeat_s is not None:
        render["HeartbeatSeconds"] = heartbeat_s
    for wait_state in waits:
        if wait_state in states:
            states[wait_state]["Seconds"] = retry_interval_s
    retries = render.pop("Retry", [])
    if retries:
        production_catches = copy.deepcopy(render["Catch"])
        for i, rule in enumerate(retries):
            check, init, bump, wait = (f"{prefix}{i}{n}" for n in ("Check", "Init", "Bump", "Wait"))
            out = f"{prefix}{i}Out"
            states[out] = _exhausted_target(production_catches, rule["ErrorEquals"], check)
            failed_target = out
            counter = f"$.{prefix[:1].lower()}{prefix[1:]}{i}"
            render["Catch"].insert(i, {"ErrorEquals": rule["ErrorEquals"], "ResultPath": "$.error", "Next": check})
            states[check] = {"Type": "Choice", "Choices": [
                {"Variable": counter, "IsPresent": False, "Next": init},
                {"Variable": f"{counter}.n", "NumericLessThan": int(rule.get("MaxAttempts", 3)), "Next": bump}],
                "Default": failed_target}
            states[init] = {"Type": "Pass", "Result": {"n": 1}, "ResultPath": counter, "Next": wait}
            states[bump] = {"Type": "Pass", "Parameters": {"n.$": f"States.MathAdd({counter}.n, 1)"},
                            "ResultPath": counter, "Next": wait}
            states[wait] = {"Type": "Wait", "Seconds": retry_interval_s, "Next": name}
