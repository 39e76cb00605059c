"""Reelwright Cloud on one machine: a moto server on loopback, seeded like the stack, plus stand-ins.

* **moto server** (``moto_server`` via :mod:`app.cloud.emulator.motoserver`, on loopback) provides Cognito,
  S3, DynamoDB, ECS, IAM and Step Functions.  moto's CloudFormation drops Cognito and Fargate
  settings, so the resources are seeded with boto3 to match ``template.yaml``.
* **The state machine** is the production one from ``template.yaml`` after the small documented
  transformation in :mod:`app.cloud.emulator.statemachine`.
* **The event rule stand-in** watches the bucket for new ``tenants/*/jobs/*/job.json`` keys (the
  rule's pattern) and starts an execution with the same EventBridge "Object Created" event as input.
* **The Fargate stand-in** runs ``python -m recorder`` as a subprocess for every ECS task the state
  machine starts, with the task's environment overrides; ``StopTask`` sends it SIGTERM (as Fargate
  does on a Spot interruption), and the task is stopped when the process exits.  With
  ``container_image`` set (``reelwright cloud emulate --container``) each task runs in the recorder image
  instead: ``docker run --network host`` with only the task's environment, a read-only root filesystem
  and a tmpfs ``/scratch``, as on Fargate (``docker run`` forwards SIGTERM to the recorder).
  Every ``StopTask`` the stand-in acts on is recorded in ``stopped_tasks`` (task ARN → reason).
* **The sweeper** (``SweeperStateMachine``) is created too; :meth:`Emulator.sweep_once` runs it once, and
  with ``sweep_every_s`` set (``reelwright cloud emulate`` sets the schedule's 15 minutes) a loop stands in
  for the ``SweepSchedule``.
* **A fake hung recorder** for tests that inject a lost task: the tasks of the jobs in ``fake_hung_jobs``
  run a process that never reports and never heartbeats (a recorder stuck in a blocking call); it
  ends on SIGTERM, as a real one would be killed.

* **The share signer stand-in** (``share_links=True``, ``emulate --share-links``): moto runs neither
  Lambda nor CloudFront, so :mod:`app.cloud.emulator.share` serves the share API in-process, checking
  SigV4 like API Gateway and signing with ``app.cloud.cfsign`` and a key pair it generates.

* **The fake Polly** (:mod:`app.cloud.emulator.polly`): Amazon Polly cannot exist offline, and the
  recorder image voices with Polly only.  Containerized tasks (and subprocess tasks with
  ``fake_polly=True``, ``emulate --polly``) get ``REELWRIGHT_VOICE_OVERRIDE=polly`` and
  ``AWS_ENDPOINT_URL_POLLY`` pointing at this loopback ``SynthesizeSpeech`` stand-in, which voices with the
  host's Piper.  Other subprocess tasks keep ``REELWRIGHT_VOICE_OVERRIDE=piper`` (``voice_override``).

Cognito confirmation codes are not mailed; moto accepts any code.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from app.cloud.config import CloudConfig
from app.core.infra.progress import stop_process

from .iam import as_moto_evaluates, job_role_policy, tenant_policy
from .motoserver_env import BUCKET_ENV, SERVICE_KEYS_ENV, TENANT_ROLE_ENV
from .polly import FakePolly
from .share import CREDENTIAL_SEED_ENV, ShareSignerStandIn
from .statemachine import SWEEPER_RESOURCE, adapt_for_moto, adapt_sweeper_for_moto, production_definition

log = logging.getLogger("reelwright.emulator")

REPO_ROOT = Path(__file__).resolve().parents[3]
JOB_KEY_PATTERN = "tenants/*/jobs/*/job.json"  # the SubmitRule's wildcard, same semantics (* spans /)
FAKE_KEYS = {"aws_access_key_id": "emulator", "aws_secret_access_key": "emulator"}
BUCKET = "reelwright-emulator"
#: the template's TenantRole as the emulator seeds it with iam_enforcement (moto's default account)
TENANT_ROLE_ARN = "arn:aws:iam::123456789012:role/reelwright-tenant"
#: the fake hung recorder: no report, no heartbeat, until SIGTERM (Python's default action ends it)
FAKE_HUNG_RECORDER = "import time\nwhile True:\n    time.sleep(60)\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])




@dataclass
class TaskRun:
    arn: str
    proc: asyncio.subprocess.Process
    started: float
    log_path: Path
    sigtermed: bool = False


@dataclass
class Emulator:
    """Start with ``await emu.start()``; ``emu.config`` is what the app needs; ``await emu.stop()``."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="reelwright-emulator-")))
    port: int = 0
    host: str = "127.0.0.1"  # where moto listens; clients always use loopback
    region: str = "us-east-1"
    heartbeat_s: float = 5.0
    cancel_poll_s: float = 0.5
    poll_s: float = 0.25
    #: the voice provider subprocess tasks are forced to (the host has Piper); tasks voiced by the fake
    #: Polly (containers, ``fake_polly``) get ``polly`` instead
    voice_override: str | None = "piper"
    #: serve the fake Polly and voice every task with it; None = only containerized tasks (the image has
    #: no Piper: Polly is its one voice)
    fake_polly: bool | None = None
    polly: FakePolly | None = None
    #: the template's LiveAppEgress / EgressAllowedHosts, passed to every task as the task definition does
    live_app_egress: str = "off"
    egress_allowed_hosts: str = ""
    #: the template's RetentionDays (the job-retention lifecycle rule and every status document)
    retention_days: int = 7
    extra_task_env: dict[str, str] = field(default_factory=dict)
    #: run each task in this recorder image (``make recorder-image``) instead of a host subprocess
    container_image: str | None = None
    #: keep Chromium's sandbox in the container: docker's default seccomp profile denies the user namespace
    #: it needs, so this runs the task with ``seccomp=unconfined`` and REELWRIGHT_CHROMIUM_SANDBOX=1
    container_sandbox: bool = False
    #: run the event rule and Fargate stand-ins (off: only the seeded services, for tests that put
    #: job.json keys without wanting them rendered)
    stand_ins: bool = True
    #: the render step's HeartbeatSeconds (None: the template's 300 s); tests of a lost recorder shorten it
    render_heartbeat_s: int | None = None
    #: job ids whose tasks run the fake hung recorder (:data:`FAKE_HUNG_RECORDER`) instead of the recorder
    fake_hung_jobs: set[str] = field(default_factory=set)
    #: run the sweeper this often, as the stack's SweepSchedule does (None: only by sweep_once())
    sweep_every_s: float | None = None
    #: serve the share signer's stand-in (the template's SharePublicKey option): the config then names
    #: its API and ``share`` returns CloudFront signed links instead of presigned S3 links
    share_links: bool = False
    share_signer: ShareSignerStandIn | None = None
    #: the moto server issues each Cognito identity its own keys derived from this (see .share)
    credential_seed: str = field(default_factory=lambda: secrets.token_hex(16))
    #: the template's MaxConcurrentJobsPerTenant and MonthlyRenderMinutes
    max_concurrent_jobs: int = 2
    monthly_render_minutes: int = 600
    #: the state machine's WaitForSlot (30 s in the template) and its other retry waits, shortened
    retry_interval_s: int = 1
    #: IAM enforcement on from the end of seeding: users act with the template's tenant role narrowed to
    #: their identity, recorders with their job credentials (app.cloud.emulator.motoserver, fix 7)
    iam_enforcement: bool = False

    endpoint: str = ""
    config: CloudConfig | None = None
    resources: dict[str, str] = field(default_factory=dict)
    #: the state machine's DefinitionSubstitutions as seeded (also for :mod:`.jobcreds`)
    substitutions: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, TaskRun] = field(default_factory=dict)
    finished_tasks: dict[str, int] = field(default_factory=dict)  # task arn -> exit code
    stopped_tasks: dict[str, str] = field(default_factory=dict)  # task arn -> StopTask's reason
    #: task arn -> (process started, process exited or None), time.monotonic(): when each task really ran
    task_spans: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    executions: dict[str, str] = field(default_factory=dict)  # job key -> execution arn
    _moto: subprocess.Popen[bytes] | None = None
    _loops: list[asyncio.Task[None]] = field(default_factory=list)
    _seen_keys: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ lifecycle

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region, **FAKE_KEYS)

    async def start(self) -> CloudConfig:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "tasks").mkdir(exist_ok=True)
        self.port = self.port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, MOTO_PORT=str(self.port))  # moto's Step Functions call back on this port
        env[CREDENTIAL_SEED_ENV] = self.credential_seed  # per-identity credentials (app.cloud.emulator.share)
        if self.iam_enforcement:
            # the emulator's own keys ("emulator": event rule, Fargate stand-in, task callbacks) and Step
            # Functions' ("ak") stand for the stack's service principals; tenants get the tenant role
            env[SERVICE_KEYS_ENV] = f"{FAKE_KEYS['aws_access_key_id']},ak"
            env[TENANT_ROLE_ENV] = TENANT_ROLE_ARN
            env[BUCKET_ENV] = BUCKET
        log_file = open(self.workdir / "moto.log", "wb")  # noqa: SIM115 - closed with the process
        # moto_server plus the one fix in app.cloud.emulator.motoserver (SendTaskFailure's cause)
        self._moto = subprocess.Popen([sys.executable, "-m", "app.cloud.emulator.motoserver", "-H", self.host,
                                       "-p", str(self.port)], cwd=str(REPO_ROOT), env=env, stdout=log_file,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        log_file.close()
        await asyncio.to_thread(self._wait_ready)
        await asyncio.to_thread(self._post, "/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        self.config = await asyncio.to_thread(self._seed)
        if self.iam_enforcement:
            await asyncio.to_thread(self._seed_tenant_role)
            # moto: reset-auth with 0 requests left unauthenticated (a form content type would hide the body)
            req = urllib.request.Request(self.endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
            await asyncio.to_thread(lambda: urllib.request.urlopen(req, timeout=10).close())
        if self._wants_fake_polly():
            await asyncio.to_thread(self._fake_polly)
        if self.share_links:
            self.share_signer = ShareSignerStandIn(self.credential_seed, self.region)
            api = await asyncio.to_thread(self.share_signer.start)
            self.config = replace(self.config, share_api_url=api, share_domain=self.share_signer.domain)
        if self.stand_ins:
            self._loops = [asyncio.create_task(self._event_rule_loop()), asyncio.create_task(self._fargate_loop())]
            if self.sweep_every_s:
                self._loops.append(asyncio.create_task(self._sweep_loop(self.sweep_every_s)))
        return self.config

    async def stop(self) -> None:
        if self.share_signer is not None:
            await asyncio.to_thread(self.share_signer.stop)
        if self.polly is not None:
            await asyncio.to_thread(self.polly.stop)
        for t in self._loops:
            t.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        for run in list(self.tasks.values()):
            await stop_process(run.proc)
            if self.container_image:  # killing the `docker run` client does not stop its container
                with contextlib.suppress(OSError):
                    rm = await asyncio.create_subprocess_exec(
                        "docker", "rm", "-f", f"reelwright-task-{run.arn.rsplit('/', 1)[-1]}",
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    await rm.wait()
        if self._moto is not None and self._moto.poll() is None:
            os.killpg(self._moto.pid, signal.SIGTERM)
            try:
                await asyncio.to_thread(self._moto.wait, 5)
            except subprocess.TimeoutExpired:
                os.killpg(self._moto.pid, signal.SIGKILL)
                await asyncio.to_thread(self._moto.wait)

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._moto is not None and self._moto.poll() is not None:
                raise RuntimeError(f"moto_server exited (see {self.workdir / 'moto.log'})")
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start within 30 s")

    def _post(self, path: str, body: Any) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method="POST")
        with urllib.request.urlopen(req, timeout=10):
            pass

    # ------------------------------------------------------------------ seeding (mirrors template.yaml)

    def _seed(self) -> CloudConfig:
        idp = self.client("cognito-idp")
        pool = idp.create_user_pool(
            PoolName="reelwright-users", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"],
            Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireLowercase": True,
                                         "RequireUppercase": True, "RequireNumbers": True,
                                         "RequireSymbols": False}},
        )["UserPool"]
        app = idp.create_user_pool_client(
            UserPoolId=pool["Id"], ClientName="reelwright-desktop", GenerateSecret=False,
            # USER_PASSWORD_AUTH only here: moto's SRP accepts any password, so tests of a wrong
            # password use this flow; the deployed client allows SRP and refresh only
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
        )["UserPoolClient"]
        ident = self.client("cognito-identity").create_identity_pool(
            IdentityPoolName="reelwright_identities", AllowUnauthenticatedIdentities=False,
            CognitoIdentityProviders=[{"ClientId": app["ClientId"],
                                       "ProviderName": f"cognito-idp.{self.region}.amazonaws.com/{pool['Id']}"}],
        )
        bucket = BUCKET
        s3 = self.client("s3")
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "job-retention", "Status": "Enabled", "Filter": {"Prefix": "tenants/"},
             "Expiration": {"Days": self.retention_days}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
            {"ID": "temporary-objects", "Status": "Enabled",
             "Filter": {"Tag": {"Key": "reelwright-temporary", "Value": "true"}}, "Expiration": {"Days": 7}},
            {"ID": "session-files", "Status": "Enabled",
             "Filter": {"Tag": {"Key": "reelwright-session", "Value": "true"}}, "Expiration": {"Days": 1},
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
        # the stack's SessionKey (moto keeps the key; it does not evaluate key policies)
        session_key = self.client("kms").create_key(
            Description="reelwright session files (emulator)", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
        table = "reelwright-jobs"
        self.client("dynamodb").create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}])
        ecs = self.client("ecs")
        cluster = ecs.create_cluster(clusterName="reelwright",
                                     capacityProviders=["FARGATE", "FARGATE_SPOT"])["cluster"]["clusterArn"]
        taskdef = ecs.register_task_definition(
            family="reelwright-recorder", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
            cpu="2048", memory="4096",
            containerDefinitions=[{"name": "recorder", "image": "reelwright-recorder:emulator", "memory": 4096,
                                   "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        ec2 = self.client("ec2")
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"]
                   for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
        sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"][0]["GroupId"]
        role = self.client("iam").create_role(
            RoleName="reelwright-state-machine",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        )["Role"]["Arn"]
        job_role = self._seed_job_role(role, bucket)
        values = {"JobTable": table, "Cluster": cluster, "TaskDefinition": taskdef, "CapacityProvider": "FARGATE",
                  "SubnetA": subnets[0], "SubnetB": subnets[1 % len(subnets)], "TaskSecurityGroup": sg,
                  "RetentionDays": str(self.retention_days), "RecorderJobRole": job_role,
                  "SessionKey": session_key, "Partition": "aws",
                  "MaxConcurrentJobsPerTenant": str(self.max_concurrent_jobs),
                  "MonthlyRenderMinutes": str(self.monthly_render_minutes)}
        self.substitutions = values
        definition = adapt_for_moto(production_definition(), values, heartbeat_s=self.render_heartbeat_s,
                                    retry_interval_s=self.retry_interval_s)
        sfn = self.client("stepfunctions")
        sm = sfn.create_state_machine(
            name="reelwright-render", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
        sweeper_values = {"JobTable": table, "Bucket": bucket, "Cluster": cluster,
                          "RetentionDays": str(self.retention_days)}
        sweeper = sfn.create_state_machine(
            name="reelwright-sweeper", roleArn=role,
            definition=json.dumps(adapt_sweeper_for_moto(production_definition(resource=SWEEPER_RESOURCE),
                                                         sweeper_values)))["stateMachineArn"]
        self.resources = {"bucket": bucket, "table": table, "cluster": cluster, "task_definition": taskdef,
                          "state_machine": sm, "sweeper": sweeper, "user_pool": pool["Id"],
                          "session_key": session_key, "state_machine_role": role, "job_role": job_role}
        return CloudConfig(region=self.region, user_pool_id=pool["Id"], client_id=app["ClientId"],
                           identity_pool_id=ident["IdentityPoolId"], bucket=bucket,
                           endpoint_url=self.endpoint, emulator=True, session_key_id=session_key)

    def _seed_tenant_role(self) -> None:
        """The template's ``TenantRole`` with its policies for every identity (``*`` where IAM puts the
        caller's): each user's credentials narrow it to their own identity (motoserver, fix 7)."""
        iam = self.client("iam")
        name = TENANT_ROLE_ARN.rsplit("/", 1)[-1]
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
             "Action": "sts:AssumeRoleWithWebIdentity"}]}))
        for i, doc in enumerate(as_moto_evaluates(tenant_policy("*", BUCKET))):
            iam.put_role_policy(RoleName=name, PolicyName=f"tenant-{i}", PolicyDocument=json.dumps(doc))

    def _seed_job_role(self, state_machine_role: str, bucket: str) -> str:
        """``RecorderJobRole`` as the template has it: assumable by the state machine's role only, with
        the template's own policy (in moto's terms, see :func:`as_moto_evaluates`)."""
        iam = self.client("iam")
        arn: str = iam.create_role(
            RoleName="reelwright-recorder-job", MaxSessionDuration=3600,
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": state_machine_role}, "Action": "sts:AssumeRole"}]}),
        )["Role"]["Arn"]
        for i, doc in enumerate(as_moto_evaluates(job_role_policy(bucket))):
            iam.put_role_policy(RoleName="reelwright-recorder-job", PolicyName=f"job-objects-{i}",
                                PolicyDocument=json.dumps(doc))
        return arn

    # ------------------------------------------------------------------ the event rule stand-in

    def _new_job_keys(self) -> list[str]:
        s3 = self.client("s3")
        fresh = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.resources["bucket"], Prefix="tenants/"):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key not in self._seen_keys and fnmatch.fnmatchcase(key, JOB_KEY_PATTERN):
                    self._seen_keys.add(key)
                    fresh.append(key)
        return fresh

    def _start_execution(self, key: str, bucket: str | None = None) -> str:
        """Start the state machine as the SubmitRule would for ``key``.  Tests call it again for a key
        to deliver a duplicate event, or with another ``bucket`` to make the S3 states fail."""
        bucket = bucket or self.resources["bucket"]
        event = {  # the shape EventBridge delivers for an S3 "Object Created" event
            "version": "0", "id": os.urandom(8).hex(), "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "region": self.region, "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {"version": "0", "bucket": {"name": bucket},
                       "object": {"key": key}, "reason": "PutObject"},
        }
        arn: str = self.client("stepfunctions").start_execution(
            stateMachineArn=self.resources["state_machine"], name=f"{key.split('/')[3][:60]}-{os.urandom(4).hex()}",
            input=json.dumps(event))["executionArn"]
        return arn

    async def _event_rule_loop(self) -> None:
        while True:
            try:
                for key in await asyncio.to_thread(self._new_job_keys):
                    self.executions[key] = await asyncio.to_thread(self._start_execution, key)
                    log.info("submitted %s -> %s", key, self.executions[key])
            except (ClientError, BotoCoreError, OSError) as exc:  # transient: logged, the loop goes on
                log.warning("event rule stand-in: %s", exc)
            await asyncio.sleep(self.poll_s)

    # ------------------------------------------------------------------ the Fargate stand-in

    def task_env(self, overrides: dict[str, Any]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JOB_", "TASK_"))}
        for co in overrides.get("containerOverrides", []):
            if co.get("name") == "recorder":
                env.update({e["name"]: e["value"] for e in co.get("environment", [])})
        env.update({
            "AWS_ENDPOINT_URL": self.endpoint, "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "emulator", "AWS_SECRET_ACCESS_KEY": "emulator",
            "HEARTBEAT_S": str(self.heartbeat_s), "CANCEL_POLL_S": str(self.cancel_poll_s),
            "REELWRIGHT_WORK_DIR": str(self.workdir / "tasks"),
            # the emulator's own voice cache: a cloud task never sees the desktop's (nor leaves it entries)
            "REELWRIGHT_VOICE_CACHE": str(self.workdir / "voice-cache"),
            "LIVE_APP_EGRESS": self.live_app_egress, "EGRESS_ALLOWED_HOSTS": self.egress_allowed_hosts,
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
        })
        env.update(self._voice_env())
        env.update(self.extra_task_env)
        return env

    def _wants_fake_polly(self) -> bool:
        return bool(self.fake_polly or (self.fake_polly is None and self.container_image))

    def _fake_polly(self) -> FakePolly:
        """The fake Polly, started on first use (``container_image`` may be set after ``start()``)."""
        if self.polly is None:
            self.polly = FakePolly()
            self.polly.start()
        return self.polly

    def _voice_env(self) -> dict[str, str]:
        """How a task voices: with the fake Polly (containers, ``fake_polly``), else ``voice_override``."""
        if self._wants_fake_polly():
            return {"REELWRIGHT_VOICE_OVERRIDE": "polly", "AWS_ENDPOINT_URL_POLLY": self._fake_polly().endpoint}
        return {"REELWRIGHT_VOICE_OVERRIDE": self.voice_override} if self.voice_override else {}

    def container_env(self, overrides: dict[str, Any]) -> dict[str, str]:
        """The environment of a containerized task: the task definition's and the overrides', nothing of
        the host's (the image sets PATH, HOME, REELWRIGHT_CHROMIUM, REELWRIGHT_WORK_DIR itself)."""
        env: dict[str, str] = {}
        for co in overrides.get("containerOverrides", []):
            if co.get("name") == "recorder":
                env.update({e["name"]: e["value"] for e in co.get("environment", [])})
        env.update({
            "AWS_ENDPOINT_URL": self.endpoint, "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "emulator", "AWS_SECRET_ACCESS_KEY": "emulator",
            "HEARTBEAT_S": str(self.heartbeat_s), "CANCEL_POLL_S": str(self.cancel_poll_s),
            "LIVE_APP_EGRESS": self.live_app_egress, "EGRESS_ALLOWED_HOSTS": self.egress_allowed_hosts,
        })
        env.update(self._voice_env())
        env.update(self.extra_task_env)
        return env

    def container_command(self, arn: str, overrides: dict[str, Any]) -> list[str]:
        """``docker run`` for one task: host network (moto listens on loopback), Fargate's read-only root
        filesystem with an ephemeral /scratch, the image's non-root user."""
        assert self.container_image
        cmd = ["docker", "run", "--rm", "--network", "host", "--name", f"reelwright-task-{arn.rsplit('/', 1)[-1]}",
               "--read-only", "--tmpfs", "/tmp:mode=1777", "--tmpfs", "/scratch:uid=10001,gid=10001,mode=0700,exec",
               "--shm-size", "256m"]
        env = self.container_env(overrides)
        if self.container_sandbox:
            cmd += ["--security-opt", "seccomp=unconfined"]
            env["REELWRIGHT_CHROMIUM_SANDBOX"] = "1"
        for k, v in sorted(env.items()):
            cmd += ["-e", f"{k}={v}"]
        return [*cmd, self.container_image]

    def _poll_tasks(self) -> tuple[list[dict[str, Any]], set[str]]:
        ecs = self.client("ecs")
        cluster = self.resources["cluster"]
        running = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
        new = [a for a in running if a not in self.tasks and a not in self.finished_tasks]
        described = ecs.describe_tasks(cluster=cluster, tasks=new)["tasks"] if new else []
        stopped = set(ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"])
        return described, stopped

    async def _launch(self, task: dict[str, Any]) -> None:
        arn = task["taskArn"]
        log_path = self.workdir / "tasks" / f"{arn.rsplit('/', 1)[-1]}.log"
        overrides = task.get("overrides") or {}
        env = self.task_env(overrides)
        key_parts = env.get("JOB_KEY", "").split("/")  # tenants/<tenant>/jobs/<job>/job.json
        hung = len(key_parts) > 3 and key_parts[3] in self.fake_hung_jobs
        with open(log_path, "wb") as out:
            if hung:  # the fake: a recorder that never reports (see the module docstring)
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", FAKE_HUNG_RECORDER, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True)
            elif self.container_image:  # docker run forwards SIGTERM to the container (--sig-proxy)
                proc = await asyncio.create_subprocess_exec(
                    *self.container_command(arn, overrides), stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True)
            else:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "recorder", env=env,
                    cwd=str(REPO_ROOT), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        run = TaskRun(arn, proc, time.monotonic(), log_path)
        self.tasks[arn] = run
        self.task_spans[arn] = (run.started, None)
        log.info("task %s started (pid %d)", arn, proc.pid)
        asyncio.get_running_loop().create_task(self._reap(run))

    async def _reap(self, run: TaskRun) -> None:
        code = await run.proc.wait()
        self.task_spans[run.arn] = (run.started, time.monotonic())
        log.info("task %s exited %d after %.1f s", run.arn, code, time.monotonic() - run.started)
        with contextlib.suppress(Exception):  # already stopped (e.g. by StopTask) is fine
            await asyncio.to_thread(self.client("ecs").stop_task, cluster=self.resources["cluster"],
                                    task=run.arn, reason=f"Essential container exited ({code})")
        # finished only once ECS says STOPPED (until then it stays in `tasks`, so it is not relaunched)
        self.tasks.pop(run.arn, None)
        self.finished_tasks[run.arn] = code

    async def _fargate_loop(self) -> None:
        while True:
            try:
                new, stopped = await asyncio.to_thread(self._poll_tasks)
                for task in new:
                    await self._launch(task)
                for arn, run in list(self.tasks.items()):
                    if arn in stopped and not run.sigtermed and run.proc.returncode is None:
                        run.sigtermed = True  # StopTask: Fargate sends SIGTERM, then SIGKILL later
                        self.stopped_tasks[arn] = await asyncio.to_thread(self._stopped_reason, arn)
                        log.info("task %s stopped (%s): SIGTERM", arn, self.stopped_tasks[arn])
                        with contextlib.suppress(ProcessLookupError):
                            run.proc.send_signal(signal.SIGTERM)
            except (ClientError, BotoCoreError, OSError) as exc:  # transient: logged, the loop goes on
                log.warning("Fargate stand-in: %s", exc)
            await asyncio.sleep(self.poll_s)

    def _stopped_reason(self, arn: str) -> str:
        tasks = self.client("ecs").describe_tasks(cluster=self.resources["cluster"], tasks=[arn])["tasks"]
        return str(tasks[0].get("stoppedReason", "")) if tasks else ""

    # ------------------------------------------------------------------ the sweeper (no scheduler here)

    def sweep_once(self, timeout: float = 120) -> dict[str, Any]:
        """Run the sweeper once, as its 15-minute schedule would, and wait for it to end.

        Returns ``describe_execution``'s answer: ``status`` is ``FAILED`` with ``error`` =
        ``Reelwright.Stuck`` when it failed any job, ``SUCCEEDED`` when none was stuck.
        """
        sfn = self.client("stepfunctions")
        arn = sfn.start_execution(stateMachineArn=self.resources["sweeper"],
                                  name=f"sweep-{os.urandom(6).hex()}", input="{}")["executionArn"]
        deadline = time.monotonic() + timeout
        while True:
            done: dict[str, Any] = sfn.describe_execution(executionArn=arn)
            if done["status"] != "RUNNING":
                return done
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sweeper execution {arn} still runs after {timeout} s")
            time.sleep(0.2)

    async def _sweep_loop(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                done = await asyncio.to_thread(self.sweep_once)
                if done["status"] != "SUCCEEDED":
                    log.warning("sweep: %s %s", done["status"], done.get("cause", ""))
            except (ClientError, BotoCoreError, OSError, TimeoutError) as exc:  # the next sweep tries again
                log.warning("sweeper stand-in: %s", exc)

    # ------------------------------------------------------------------ helpers for tests and the CLI

    def execution_status(self, job_key: str) -> str | None:
        arn = self.executions.get(job_key)
        if arn is None:
            return None
        status: str = self.client("stepfunctions").describe_execution(executionArn=arn)["status"]
        return status

    def usage(self, tenant: str) -> dict[str, Any]:
        """The tenant's usage items, unwrapped: ``{"running": n, "USAGE#2026-12": minutes, ...}``."""
        items = self.client("dynamodb").query(
            TableName=self.resources["table"], KeyConditionExpression="pk = :pk AND begins_with(sk, :u)",
            ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant}"}, ":u": {"S": "USAGE#"}})["Items"]
        out: dict[str, Any] = {}
        for item in items:
            if item["sk"]["S"] == "USAGE#RUNNING":
                out["running"] = int(item.get("running", {}).get("N", "0"))
            else:
                out[item["sk"]["S"]] = float(item.get("minutes", {}).get("N", "0"))
        return out

    def job_row(self, tenant: str, job_id: str) -> dict[str, Any] | None:
        item = self.client("dynamodb").get_item(
            TableName=self.resources["table"],
            Key={"pk": {"S": f"TENANT#{tenant}"}, "sk": {"S": f"JOB#{job_id}"}}).get("Item")
        return {k: next(iter(v.values())) for k, v in item.items()} if item else None
