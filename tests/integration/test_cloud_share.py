"""Week-long share links through the emulator: the real client (`CloudClient.share_link`, which
`cloud share` and the app's "Copy share link" call) asks the share signer's **stand-in**
(`app.cloud.emulator.share`, in place of the template's API Gateway + Lambda, which moto cannot run)
with SigV4 on the signed-in user's own Cognito credentials from the emulator's moto server.

Proven here: the link is a CloudFront signed URL whose signature verifies with the stand-in's public
key over the canned policy, and whose expiry is what was asked (a week, not the credentials' hour);
a tenant cannot get a link to another tenant's output, nor to its own non-output objects; requests
unsigned or signed with the wrong secret are refused before any signing.  Not proven: CloudFront
serving the link (the stand-in domain serves nothing) — that rests on the template (unit tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.cloud.cfsign import canned_policy, cf_b64_decode
from app.cloud.client import CloudClient
from app.cloud.emulator.local import REPO_ROOT, Emulator
from app.cloud.emulator.share import KEY_PAIR_ID, SHARE_DOMAIN, identity_of
from app.cloud.errors import CloudError
from app.cloud.layout import JobRef
from app.cloud.tokens import TokenStore

pytestmark = [pytest.mark.slow]

PASSWORD = "Correct-Horse-42"
WEEK = 7 * 24 * 3600
JOB = "20261206-031500-abc123"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An emulator with the share stand-in, two signed-in tenants, and a finished job of tenant A's."""
    loop = asyncio.new_event_loop()
    emu = Emulator(workdir=tmp_path_factory.mktemp("emulator"), stand_ins=False, share_links=True)
    try:
        config = loop.run_until_complete(emu.start())
        assert config.share_api_url and config.share_domain == SHARE_DOMAIN

        async def sign_up(email: str) -> CloudClient:
            home = tmp_path_factory.mktemp("home")
            client = CloudClient(config, TokenStore(config.user_pool_id, home=home, use_keyring=False))
            await client.sign_up(email, PASSWORD)
            await client.confirm(email, "123456")  # moto accepts any code
            await client.sign_in(email, PASSWORD)
            return client

        a = loop.run_until_complete(sign_up("ada@example.com"))
        b = loop.run_until_complete(sign_up("bob@example.com"))
        tenant_a = loop.run_until_complete(a.identity())
        key = finished_job(emu, JobRef(tenant_a, JOB), b"\x00\x00\x00\x18ftypmp42 not really a video")
        yield {"emu": emu, "loop": loop, "a": a, "b": b, "tenant_a": tenant_a,
               "tenant_b": loop.run_until_complete(b.identity()), "key": key}
    finally:
        loop.run_until_complete(emu.stop())
        loop.close()


def finished_job(emu: Emulator, ref: JobRef, video: bytes) -> str:
    """A Complete job with one MP4, as the recorder and the state machine would have written it."""
    assert emu.config is not None
    key = f"{ref.prefix}out/video.mp4"
    s3 = emu.client("s3")
    s3.put_object(Bucket=emu.config.bucket, Key=key, Body=video)
    s3.put_object(Bucket=emu.config.bucket, Key=ref.status_key, Body=json.dumps({
        "status": "Complete", "outputs": [{"name": "video.mp4", "key": key, "bytes": len(video),
                                           "sha256": hashlib.sha256(video).hexdigest()}]}).encode())
    return key


def _verify(emu: Emulator, url: str) -> int:
    """The link's Expires, after checking its signature with the stand-in's public key (raises if wrong)."""
    assert emu.share_signer is not None
    public = serialization.load_pem_public_key(emu.share_signer.public_key_pem)
    assert isinstance(public, rsa.RSAPublicKey)
    base, query = url.split("?", 1)
    q = {k: v[0] for k, v in parse_qs(query).items()}
    assert q["Key-Pair-Id"] == KEY_PAIR_ID
    expires = int(q["Expires"])
    public.verify(cf_b64_decode(q["Signature"]), canned_policy(base, expires).encode(), padding.PKCS1v15(),
                  hashes.SHA1())
    return expires


def test_a_week_long_link_is_signed_for_the_owner_and_lasts_what_was_asked(world: dict[str, Any]) -> None:
    emu, loop, a = world["emu"], world["loop"], world["a"]
    before = time.time()
    link = loop.run_until_complete(a.share_link(JOB, WEEK))
    assert link.via == "cloudfront"
    assert urlsplit(link.url).netloc == SHARE_DOMAIN and urlsplit(link.url).scheme == "https"
    assert urlsplit(link.url).path == "/" + quote(world["key"], safe="/")
    expires = _verify(emu, link.url)
    assert expires == link.expires
    assert int(before) + WEEK <= expires <= time.time() + WEEK  # a week, as asked
    # ... although the credentials that asked for it last 90 seconds in the emulator
    assert a.auth.credentials_expire is not None and a.auth.credentials_expire < expires - WEEK + 3600
    assert not link.shortened and "about 168 h" in link.until_text()
    short = loop.run_until_complete(a.share_link(JOB, 600))
    assert abs(_verify(emu, short.url) - (time.time() + 600)) < 5
    capped = loop.run_until_complete(a.share_link(JOB, 30 * 24 * 3600))
    assert _verify(emu, capped.url) <= time.time() + WEEK  # never beyond the 7-day ceiling
    assert emu.share_signer is not None
    assert (world["tenant_a"], 200) in emu.share_signer.requests  # the stand-in knew the caller by its keys


def test_a_tenant_cannot_get_a_link_to_another_tenants_output(world: dict[str, Any]) -> None:
    loop, b = world["loop"], world["b"]
    with pytest.raises(CloudError, match=r"refused the link: object .* is not under your tenant's prefix.*HTTP 403"):
        loop.run_until_complete(asyncio.to_thread(b._cloudfront_link, world["key"], WEEK))
    # nor to its own objects that are not outputs (a session file, say)
    own_session = JobRef(world["tenant_b"], JOB).session_key
    with pytest.raises(CloudError, match=r"not a job output"):
        loop.run_until_complete(asyncio.to_thread(b._cloudfront_link, own_session, WEEK))
    # and through the normal door, B has no such job at all
    with pytest.raises(CloudError):
        loop.run_until_complete(b.share_link(JOB, WEEK))
    assert world["emu"].share_signer is not None
    assert (world["tenant_b"], 403) in world["emu"].share_signer.requests


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_requests_not_signed_by_the_callers_own_credentials_are_refused(world: dict[str, Any]) -> None:
    emu, a, b = world["emu"], world["a"], world["b"]
    api = emu.config.share_api_url
    body = json.dumps({"key": world["key"], "lifetime_s": WEEK}).encode()
    status, doc = _post(api, body, {"Content-Type": "application/json"})
    assert status == 403 and "Missing Authentication Token" in doc["message"]
    creds_a = a.auth.boto_session().get_credentials().get_frozen_credentials()
    creds_b = b.auth.boto_session().get_credentials().get_frozen_credentials()
    # every identity has its own keys (moto alone hands all of them the same), naming it
    assert creds_a.access_key != creds_b.access_key and identity_of(creds_a.access_key) == world["tenant_a"]

    def signed(creds: Credentials, payload: bytes = body) -> dict[str, str]:
        request = AWSRequest(method="POST", url=api, data=payload, headers={"Content-Type": "application/json"})
        SigV4Auth(creds, "execute-api", emu.region).add_auth(request)
        return {k: str(v) for k, v in request.headers.items()}

    # B claiming to be A (A's access key id, B's secret): the signature does not match
    forged = Credentials(creds_a.access_key, creds_b.secret_key, creds_a.token)
    status, doc = _post(api, body, signed(forged))
    assert status == 403 and "signature" in doc["message"]
    # a signed body swapped for another: refused too
    other = json.dumps({"key": world["key"], "lifetime_s": 60}).encode()
    status, doc = _post(api, other, signed(Credentials(creds_a.access_key, creds_a.secret_key, creds_a.token)))
    assert status == 403 and "signature" in doc["message"]
    # A's own, properly signed: a link
    status, doc = _post(api, body, signed(Credentials(creds_a.access_key, creds_a.secret_key, creds_a.token)))
    assert status == 200 and _verify(emu, doc["url"]) == doc["expires"]


def test_without_the_share_api_the_link_is_presigned_s3_and_says_it_is_short(world: dict[str, Any]) -> None:
    """The stack without SharePublicKey: the same call falls back to the presigned S3 link."""
    from dataclasses import replace

    a: CloudClient = world["a"]
    plain = CloudClient(replace(a.config, share_api_url=None, share_domain=None), a.auth.store)
    link = world["loop"].run_until_complete(plain.share_link(JOB, WEEK))
    assert link.via == "s3-presigned" and urlsplit(link.url).netloc.startswith("127.0.0.1:") and link.shortened
    with urllib.request.urlopen(link.url, timeout=10) as resp:  # served by S3 (moto) itself
        assert resp.read().startswith(b"\x00\x00\x00\x18ftyp")


def _cli_user(emu: Emulator, loop: asyncio.AbstractEventLoop, tmp_path: Path,
              email: str) -> tuple[Callable[..., subprocess.CompletedProcess[str]], str]:
    """A user signed up and in with `reelwright cloud login` (a subprocess, as a user runs it): the
    CLI runner for them and their tenant id."""
    assert emu.config is not None
    config = emu.config.save(tmp_path / "config.json")
    home = tmp_path / "home"
    env = {**os.environ, "REELWRIGHT_CLOUD_HOME": str(home), "REELWRIGHT_NO_KEYRING": "1"}

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", "cloud", "--config", str(config), *args],
                              input=stdin, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)

    out = cli("login", "--email", email, "--sign-up", "--code", "1", "--password-stdin", stdin=PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    same_user = CloudClient(emu.config, TokenStore(emu.config.user_pool_id, home=home, use_keyring=False))
    return cli, loop.run_until_complete(same_user.identity())


def test_cli_share_prints_a_week_long_link_and_its_end(world: dict[str, Any], tmp_path: Path) -> None:
    """`reelwright cloud share` in a subprocess, as a user runs it, against the stand-in."""
    emu: Emulator = world["emu"]
    cli, tenant = _cli_user(emu, world["loop"], tmp_path, "cli@example.com")
    key = finished_job(emu, JobRef(tenant, JOB), b"\x00\x00\x00\x18ftypmp42 cli")
    out = cli("share", JOB, "--expires", str(WEEK))
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert url.startswith(f"https://{SHARE_DOMAIN}/{quote(key, safe='/')}?Expires=") and "\n" not in url
    assert WEEK - 60 < _verify(emu, url) - time.time() <= WEEK
    assert "this link works until" in out.stderr and "about 168 h" in out.stderr, out.stderr
    assert "credentials" not in out.stderr  # not cut short
    # the other tenant's job id under this user's tenant does not exist: a clear error, no traceback
    out = cli("share", "20261206-031500-ffffff", "--expires", str(WEEK))
    assert out.returncode != 0 and "Traceback" not in out.stderr and "20261206-031500-ffffff" in out.stderr


FAN_OUT_JOB = "20261206-031500-fa0001"


def finished_fan_out_job(emu: Emulator, ref: JobRef, variants: dict[str, bytes]) -> dict[str, str]:
    """A Complete fan-out job, one MP4 per variant under out/<variant>/ (as the recorders and the state
    machine write them); returns {"<variant>/video.mp4": key}."""
    assert emu.config is not None
    s3 = emu.client("s3")
    keys, docs = {}, []
    for name, video in variants.items():
        key = ref.out_key("video.mp4", name)
        s3.put_object(Bucket=emu.config.bucket, Key=key, Body=video)
        keys[f"{name}/video.mp4"] = key
        docs.append({"variant": {"name": name, "language": name.split("-")[0], "format": "16:9"},
                     "status": "Complete", "result": {"outputs": [{
                         "name": "video.mp4", "key": key, "bytes": len(video),
                         "sha256": hashlib.sha256(video).hexdigest()}]}})
    s3.put_object(Bucket=emu.config.bucket, Key=ref.status_key,
                  Body=json.dumps({"status": "Complete", "variants": docs}).encode())
    return keys


def test_every_variant_of_a_fan_out_job_gets_its_own_week_long_link(world: dict[str, Any], tmp_path: Path) -> None:
    """The signer signs a variant's output (out/<variant>/<file>): one CloudFront link per variant video,
    each verifying with the stand-in's key for a week; the other tenant still gets none of them; and
    `cloud share` prints one line per variant (or the one asked for with --name)."""
    emu, loop, a, b = world["emu"], world["loop"], world["a"], world["b"]
    keys = finished_fan_out_job(emu, JobRef(world["tenant_a"], FAN_OUT_JOB),
                                {"en-16x9": b"\x00\x00\x00\x18ftypmp42 en", "de-16x9": b"\x00\x00\x00\x18ftypmp42 de"})
    links = loop.run_until_complete(a.share_links(FAN_OUT_JOB, WEEK))
    assert [name for name, _ in links] == ["en-16x9/video.mp4", "de-16x9/video.mp4"]
    for name, link in links:
        assert link.via == "cloudfront" and urlsplit(link.url).path == "/" + quote(keys[name], safe="/")
        assert WEEK - 60 < _verify(emu, link.url) - time.time() <= WEEK
    one = loop.run_until_complete(a.share_link(FAN_OUT_JOB, 600, "de-16x9/video.mp4"))
    assert urlsplit(one.url).path == "/" + quote(keys["de-16x9/video.mp4"], safe="/")
    with pytest.raises(CloudError, match=r"not under your tenant's prefix.*HTTP 403"):
        loop.run_until_complete(asyncio.to_thread(b._cloudfront_link, keys["de-16x9/video.mp4"], WEEK))

    # the CLI, as the owner runs it
    cli, tenant = _cli_user(emu, loop, tmp_path, "fancli-share@example.com")
    keys = finished_fan_out_job(emu, JobRef(tenant, FAN_OUT_JOB),
                                {"en-16x9": b"\x00\x00\x00\x18ftypmp42 en", "fr-16x9": b"\x00\x00\x00\x18ftypmp42 fr"})
    out = cli("share", FAN_OUT_JOB, "--expires", str(WEEK))
    assert out.returncode == 0, out.stderr
    lines = [line.split(" ") for line in out.stdout.strip().splitlines()]
    assert [name for name, _ in lines] == ["en-16x9/video.mp4", "fr-16x9/video.mp4"], out.stdout
    for name, url in lines:
        assert urlsplit(url).path == "/" + quote(keys[name], safe="/")
        assert WEEK - 60 < _verify(emu, url) - time.time() <= WEEK
    assert out.stderr.count("this link works until") == 2, out.stderr
    out = cli("share", FAN_OUT_JOB, "--expires", "600", "--name", "fr-16x9/video.mp4")
    assert out.returncode == 0 and urlsplit(out.stdout.strip()).path == "/" + quote(keys["fr-16x9/video.mp4"], safe="/")
