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
   render step again, which enters afresh with a new token.  Out of attempts, it goes where the
   production ``Catch`` sends other errors (``FailedDocument``).

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
RENDER_STATE = "Render"
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


def production_definition(path: Path = TEMPLATE) -> dict[str, Any]:
    """The state machine exactly as deployed (substitution placeholders still in place)."""
    props = load_template(path)["Resources"][STATE_MACHINE_RESOURCE]["Properties"]
    definition: dict[str, Any] = copy.deepcopy(props["Definition"])
    return definition


def substitution_names(path: Path = TEMPLATE) -> list[str]:
    props = load_template(path)["Resources"][STATE_MACHINE_RESOURCE]["Properties"]
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


def adapt_for_moto(definition: dict[str, Any], values: dict[str, str], *,
                   retry_interval_s: int = 1) -> dict[str, Any]:
    """The production definition with the four documented changes (module docstring) applied."""
    d: dict[str, Any] = substitute(copy.deepcopy(definition), values)
    render = d["States"][RENDER_STATE]
    if render.get("Resource") != OPTIMIZED_ECS:
        raise ValueError(f"the {RENDER_STATE} state no longer uses {OPTIMIZED_ECS}; update adapt_for_moto")
    render["Resource"] = SDK_ECS
    params = _camel_keys(render["Parameters"])
    params.pop("capacityProviderStrategy", None)
    params.pop("propagateTags", None)
    params["launchType"] = "FARGATE"
    render["Parameters"] = params
    retries = render.pop("Retry", [])
    if retries:
        failed_target = next(c["Next"] for c in render["Catch"] if c["ErrorEquals"] == ["States.ALL"])
        for i, rule in enumerate(retries):
            check, init, bump, wait = (f"MotoRetry{i}{n}" for n in ("Check", "Init", "Bump", "Wait"))
            counter = f"$.motoRetry{i}"
            render["Catch"].insert(i, {"ErrorEquals": rule["ErrorEquals"], "ResultPath": "$.error", "Next": check})
            d["States"][check] = {"Type": "Choice", "Choices": [
                {"Variable": counter, "IsPresent": False, "Next": init},
                {"Variable": f"{counter}.n", "NumericLessThan": int(rule.get("MaxAttempts", 3)), "Next": bump}],
                "Default": failed_target}
            d["States"][init] = {"Type": "Pass", "Result": {"n": 1}, "ResultPath": counter, "Next": wait}
            d["States"][bump] = {"Type": "Pass", "Parameters": {"n.$": f"States.MathAdd({counter}.n, 1)"},
                                 "ResultPath": counter, "Next": wait}
            d["States"][wait] = {"Type": "Wait", "Seconds": retry_interval_s, "Next": RENDER_STATE}
    return d
