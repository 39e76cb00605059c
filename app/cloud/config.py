"""Cloud configuration: which user pool, identity pool and bucket to talk to, and where.

Comes from a deployed stack's outputs (``reelwright cloud configure --stack NAME``) or from the
emulator (``reelwright cloud emulate`` writes it).  ``endpoint_url`` points every AWS client at the
emulator's moto server; it is ``None`` for real AWS.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import platformdirs

from app.core.infra.fs import atomic_write

from .errors import CloudConfigError

#: CloudFormation output key -> config field
STACK_OUTPUTS: dict[str, str] = {
    "Region": "region",
    "UserPoolId": "user_pool_id",
    "UserPoolClientId": "client_id",
    "IdentityPoolId": "identity_pool_id",
    "BucketName": "bucket",
    "SessionKeyArn": "session_key_id",
    "ShareApiUrl": "share_api_url",
    "ShareDomain": "share_domain",
}


def cloud_home() -> Path:
    """Folder for the cloud config and (keyring-less) session file; ``REELWRIGHT_CLOUD_HOME`` overrides."""
    env = os.environ.get("REELWRIGHT_CLOUD_HOME")
    return Path(env) if env else Path(platformdirs.user_config_dir("reelwright")) / "cloud"


def default_config_path() -> Path:
    env = os.environ.get("REELWRIGHT_CLOUD_CONFIG")
    return Path(env) if env else cloud_home() / "config.json"


@dataclass(frozen=True)
class CloudConfig:
    region: str
    user_pool_id: str
    client_id: str
    identity_pool_id: str
    bucket: str
    endpoint_url: str | None = None  # the emulator's moto server; None = real AWS
    stack: str | None = None
    emulator: bool = False
    #: the KMS key session files are encrypted with (stack output SessionKeyArn); None = older stack
    session_key_id: str | None = None
    #: the share signer (stack outputs ShareApiUrl / ShareDomain, deployed with SharePublicKey): week-long
    #: CloudFront links; None = presigned S3 links that end with the sign-in credentials (<= 1 h)
    share_api_url: str | None = None
    share_domain: str | None = None

    @property
    def login_provider(self) -> str:
        """The identity pool's key for tokens of our user pool."""
        return f"cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    def client_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kw["endpoint_url"] = self.endpoint_url
        return kw

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, *, source: str = "cloud config") -> CloudConfig:
        if not isinstance(data, dict):
            raise CloudConfigError(f"{source}: must be a JSON object")
        known = {f.name for f in fields(cls)}
        missing = [n for n in ("region", "user_pool_id", "client_id", "identity_pool_id", "bucket")
                   if not isinstance(data.get(n), str) or not data.get(n)]
        if missing:
            raise CloudConfigError(f"{source}: missing {', '.join(missing)}",
                                   hint="run `reelwright cloud configure --stack NAME` or `reelwright cloud emulate`")
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_stack_outputs(cls, outputs: dict[str, str], *, stack: str | None = None,
                           endpoint_url: str | None = None) -> CloudConfig:
        data: dict[str, Any] = {field: outputs.get(key) for key, field in STACK_OUTPUTS.items()}
        data.update(stack=stack, endpoint_url=endpoint_url)
        return cls.from_json(data, source=f"stack {stack or '?'} outputs")

    def save(self, path: Path | None = None) -> Path:
        path = path or default_config_path()
        return atomic_write(path, json.dumps(self.to_json(), indent=2) + "\n")


def load_config(path: Path | None = None) -> CloudConfig:
    path = path or default_config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CloudConfigError(
            f"no cloud configuration at {path}",
            hint="run `reelwright cloud configure --stack NAME` (deployed stack) or "
            "`reelwright cloud emulate` (local emulator)",
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CloudConfigError(f"cannot read the cloud configuration {path}: {exc}") from None
    return CloudConfig.from_json(data, source=str(path))


def config_from_text(text: str, *, source: str = "the pasted text", endpoint_url: str | None = None) -> CloudConfig:
    """The configuration in what a user pastes or picks — one parser for the app and ``cloud configure``:

    * a configuration file as ``cloud configure``/``cloud emulate`` write it (``region``, ``user_pool_id`` …),
    * ``aws cloudformation describe-stacks`` output (whole, one stack of it, or its ``Outputs`` list),
    * a ``{"UserPoolId": "…", …}`` object of output keys and values.

    ``endpoint_url`` (the emulator's) applies to stack outputs, which never name one.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CloudConfigError(f"{source} is not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})",
                               hint="paste the stack's outputs as JSON, e.g. from "
                               "`aws cloudformation describe-stacks --stack-name NAME`") from None
    stack: str | None = None
    if isinstance(data, dict) and isinstance(data.get("Stacks"), list):
        stacks = data["Stacks"]
        if len(stacks) != 1:
            raise CloudConfigError(f"{source} holds {len(stacks)} stacks: paste the outputs of one")
        data = stacks[0]
    if isinstance(data, dict) and "Outputs" in data:
        stack = data.get("StackName") if isinstance(data.get("StackName"), str) else None
        data = data["Outputs"]
    if isinstance(data, list):
        outputs: dict[str, str] = {}
        for i, item in enumerate(data, 1):
            if not (isinstance(item, dict) and isinstance(item.get("OutputKey"), str)
                    and isinstance(item.get("OutputValue"), str)):
                raise CloudConfigError(f"{source}: output {i} has no OutputKey/OutputValue")
            outputs[item["OutputKey"]] = item["OutputValue"]
        return CloudConfig.from_stack_outputs(outputs, stack=stack, endpoint_url=endpoint_url)
    if isinstance(data, dict) and any(k in data for k in STACK_OUTPUTS):
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        return CloudConfig.from_stack_outputs(values, stack=stack, endpoint_url=endpoint_url)
    if isinstance(data, dict) and any(f.name in data for f in fields(CloudConfig)):
        return CloudConfig.from_json(data, source=source)
    raise CloudConfigError(f"{source} has no cloud settings: expected the stack's outputs "
                           f"({', '.join(STACK_OUTPUTS)}) or a configuration file")


def config_from_file(path: Path, *, endpoint_url: str | None = None) -> CloudConfig:
    """:func:`config_from_text` of a file (a saved configuration or a stack's outputs)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CloudConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return config_from_text(text, source=str(path), endpoint_url=endpoint_url)
