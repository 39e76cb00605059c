"""The emulator's **stand-in** for the share signer (``ShareApi`` + ``ShareSigner`` of ``template.yaml``).

moto can run neither that Lambda nor CloudFront, so the emulator serves the API here, in-process on
loopback: ``POST /v1/share`` authorized like API Gateway's ``AWS_IAM`` (a SigV4 signature for service
``execute-api``, checked with the caller's secret key; the caller's Cognito identity id becomes
``requestContext.identity.cognitoIdentityId``), answered by :func:`app.cloud.cfsign.handle_share_request`
— the handler the deployed Lambda's inline code reproduces (a unit test runs both on the same cases) —
with an RSA key pair generated at start.  The links it returns point to ``SHARE_DOMAIN``, which serves
nothing: the stand-in proves who may get which signed link, not CloudFront's delivery.

Knowing the caller needs credentials that name it.  moto hands every identity the same fixed keys, so
the emulator's moto server (``app.cloud.emulator.motoserver``, given ``CREDENTIAL_SEED_ENV``) issues
per-identity keys instead: the access key id encodes the identity id and the secret is an HMAC of it
under the emulator's seed, so only the holder of that identity's credentials can sign as it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from app.cloud.cfsign import handle_share_request

CREDENTIAL_SEED_ENV = "REELWRIGHT_EMULATOR_CREDENTIAL_SEED"
ACCESS_KEY_PREFIX = "ASIAEMU"
SHARE_DOMAIN = "shares.emulator.invalid"  # the stand-in distribution's domain (serves nothing)
KEY_PAIR_ID = "KEMULATORSTANDIN"
API_PATH = "/v1/share"
MAX_CLOCK_SKEW = timedelta(minutes=5)  # API Gateway refuses older/newer signatures


def identity_credentials(seed: str, identity_id: str) -> tuple[str, str, str]:
    """(access key id, secret key, session token) the emulator issues to ``identity_id``."""
    key_id = ACCESS_KEY_PREFIX + base64.b32encode(identity_id.encode()).decode().rstrip("=")
    secret = hmac.new(seed.encode(), b"secret:" + identity_id.encode(), hashlib.sha256).hexdigest()
    token = hmac.new(seed.encode(), b"token:" + identity_id.encode(), hashlib.sha256).hexdigest()
    return key_id, secret, token


def identity_of(access_key_id: str) -> str | None:
    """The identity id an emulator-issued access key id names (None: not one of ours)."""
    if not access_key_id.startswith(ACCESS_KEY_PREFIX):
        return None
    text = access_key_id[len(ACCESS_KEY_PREFIX):]
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def sigv4_identity(seed: str, region: str, method: str, url: str, headers: dict[str, str],
                   body: bytes, now: datetime | None = None) -> str:
    """The Cognito identity a SigV4 (``execute-api``) request was signed by, or ValueError why not —
    the check API Gateway's AWS_IAM authorization makes, for emulator-issued credentials."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    lower = {k.lower(): v for k, v in headers.items()}
    auth = lower.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        raise ValueError("Missing Authentication Token")
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(",") if "=" in p)
    scope = parts.get("Credential", "").split("/")
    if len(scope) != 5 or scope[2:] != [region, "execute-api", "aws4_request"]:
        raise ValueError(f"bad credential scope {parts.get('Credential')!r}")
    identity = identity_of(scope[0])
    if identity is None:
        raise ValueError("The security token included in the request is invalid")
    key_id, secret, token = identity_credentials(seed, identity)
    if lower.get("x-amz-security-token") != token:
        raise ValueError("The security token included in the request is invalid")
    stamp = lower.get("x-amz-date", "")
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"bad X-Amz-Date {stamp!r}") from None
    if abs((now or datetime.now(UTC)) - when) > MAX_CLOCK_SKEW:
        raise ValueError("Signature expired")
    signed = [h for h in parts.get("SignedHeaders", "").split(";") if h]
    request = AWSRequest(method=method, url=url, data=body,
                         headers={h: lower[h] for h in signed if h in lower and h != "host"})
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(key_id, secret, token), "execute-api", region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, parts.get("Signature", "")):
        raise ValueError("The request signature we calculated does not match the signature you provided")
    return identity


@dataclass
class ShareSignerStandIn:
    """``start()`` serves ``url`` on loopback; ``public_key_pem`` verifies the links; ``stop()``."""

    seed: str
    region: str
    domain: str = SHARE_DOMAIN
    key_pair_id: str = KEY_PAIR_ID
    private_key_pem: bytes = b""
    public_key_pem: bytes = b""
    requests: list[tuple[str | None, int]] = field(default_factory=list)  # (caller identity, status)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the share signer stand-in is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}{API_PATH}"

    def start(self) -> str:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption())
        self.public_key_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, doc = stand_in.handle("POST", self.path, dict(self.headers.items()), body,
                                              host=str(self.headers.get("Host") or ""))
                raw = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="share-signer-stand-in", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes, *,
               host: str) -> tuple[int, dict[str, Any]]:
        """One request as API Gateway + the Lambda proxy integration would treat it."""
        if path != API_PATH or method != "POST":
            return 403, {"message": "Missing Authentication Token"}  # what API Gateway says for unknown routes
        try:
            identity = sigv4_identity(self.seed, self.region, method, f"http://{host}{path}", headers, body)
        except ValueError as exc:
            self.requests.append((None, 403))
            return 403, {"message": str(exc)}
        event: dict[str, object] = {"body": body.decode("utf-8", "replace"),
                                    "requestContext": {"identity": {"cognitoIdentityId": identity}}}
        out = handle_share_request(event, domain=self.domain, key_pair_id=self.key_pair_id,
                                   private_key_pem=self.private_key_pem)
        status = int(str(out["statusCode"]))
        self.requests.append((identity, status))
        doc = json.loads(str(out["body"]))
        return status, doc if isinstance(doc, dict) else {"body": doc}
