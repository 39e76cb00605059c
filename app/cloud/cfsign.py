"""CloudFront signed URLs for shared videos: the pure signing logic the share-signing Lambda runs.

Why not sign on the user's machine: the CloudFront key pair signs for the whole distribution, so a
private key on a user's machine would let one tenant sign links to another tenant's videos.  The key
stays server-side (Secrets Manager); the signer (``sign_for_tenant``) is called with the caller's
tenant (the Cognito identity id the IAM-authenticated request carries) and refuses any object key
outside ``tenants/<tenant>/jobs/<job>/out/`` (a job's file, or a fan-out variant's in
``out/<variant>/``).  Revocation: rotate the key group (put a new public key in it, remove the old one)
and every link signed with the old key stops working.

CloudFront signing (AWS docs, "Create a signed URL using a canned/custom policy"): the policy JSON
without whitespace is signed with RSA-SHA1 PKCS#1 v1.5, and the policy and signature are base64
encoded with CloudFront's URL-safe alphabet (``+`` -> ``-``, ``=`` -> ``_``, ``/`` -> ``~``).
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from urllib.parse import quote

MAX_LIFETIME_S = 7 * 24 * 3600  # the ceiling: a week


class SignError(ValueError):
    """The request cannot be signed (bad key, object outside the caller's tenant, bad lifetime)."""


@dataclass(frozen=True)
class SignedLink:
    url: str
    expires: int  # epoch seconds: when CloudFront starts refusing the link


def cf_b64(data: bytes) -> str:
    """CloudFront's URL-safe base64."""
    return base64.b64encode(data).decode("ascii").replace("+", "-").replace("=", "_").replace("/", "~")


def cf_b64_decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def canned_policy(resource: str, expires: int) -> str:
    """The canned policy CloudFront rebuilds from ``Expires`` to check the signature (exact bytes)."""
    statement = {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
    return json.dumps({"Statement": [statement]}, separators=(",", ":"))


def _rsa_sha1(private_key_pem: bytes, message: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SignError(f"the signing key is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SignError("the signing key is not an RSA key (CloudFront needs RSA 2048)")
    return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # CloudFront mandates SHA-1


def sign_url(url: str, key_pair_id: str, private_key_pem: bytes, expires: int) -> str:
    """``url`` signed with a canned policy: valid until ``expires`` (epoch s) for anyone holding it."""
    signature = _rsa_sha1(private_key_pem, canned_policy(url, expires).encode("utf-8"))
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}Expires={expires}&Signature={cf_b64(signature)}&Key-Pair-Id={key_pair_id}"


def tenant_prefix(tenant: str) -> str:
    return f"tenants/{tenant}/"


def sign_for_tenant(*, tenant: str, key: str, domain: str, key_pair_id: str, private_key_pem: bytes,
                    lifetime_s: int, now: float | None = None) -> SignedLink:
    """A link to ``https://<domain>/<key>`` for ``tenant`` only; refuses other tenants' objects and
    anything of the tenant's that is not a job output.

    ``lifetime_s`` is clamped to 1 s .. 7 days; the returned ``expires`` is the one in the link.
    """
    if not tenant or "/" in tenant or tenant in {".", ".."}:
        raise SignError(f"not a tenant id: {tenant!r}")
    parts = key.split("/")
    if not key.startswith(tenant_prefix(tenant)) or any(p in {"", ".", ".."} for p in parts):
        raise SignError(f"object {key!r} is not under your tenant's prefix {tenant_prefix(tenant)!r}")
    if len(parts) not in (6, 7) or parts[2] != "jobs" or parts[4] != "out":
        # only a job's outputs are shareable (a fan-out variant's are one folder deeper, out/<variant>/):
        # never its session file, job document or assets
        raise SignError(f"object {key!r} is not a job output (tenants/<you>/jobs/<job>/out/[<variant>/]<file>)")
    if lifetime_s <= 0:
        raise SignError("the link's lifetime must be positive")
    expires = int((time.time() if now is None else now) + min(int(lifetime_s), MAX_LIFETIME_S))
    url = f"https://{domain}/{quote(key, safe='/')}"
    return SignedLink(sign_url(url, key_pair_id, private_key_pem, expires), expires)


@dataclass(frozen=True)
class ShareLink:
    """A share link as the user gets it, and when it really stops working (epoch seconds)."""

    url: str
    expires: float
    asked_s: int = 0  # the lifetime asked for
    signed_at: float = 0.0
    via: str = "s3-presigned"  # or "cloudfront"

    @property
    def shortened(self) -> bool:
        """The link dies well before the time asked (the credentials that signed it expire first)."""
        return self.asked_s > 0 and self.expires < self.signed_at + self.asked_s - 60

    def until_text(self, now: float | None = None) -> str:
        """"works until 14:05 (about 58 min)" in local time, naming the cause when it is shorter than asked."""
        now = time.time() if now is None else now
        left = max(0.0, self.expires - now)
        fmt = "%H:%M" if left < 20 * 3600 else "%a %d %b %H:%M"
        span = f"about {round(left / 60)} min" if left < 2 * 3600 else f"about {left / 3600:.0f} h"
        text = f"works until {time.strftime(fmt, time.localtime(self.expires))} ({span})"
        if self.shortened:
            asked = (f"{self.asked_s / 86400:g} days" if self.asked_s >= 86400 else
                     f"{self.asked_s / 3600:g} h" if self.asked_s >= 3600 else f"{self.asked_s // 60} min")
            text += f"; shorter than the {asked} asked because the sign-in credentials that signed it expire then"
        return text


def handle_share_request(event: dict[str, object], *, domain: str, key_pair_id: str,
                         private_key_pem: bytes, now: float | None = None) -> dict[str, object]:
    """The share-signing Lambda's work for one API Gateway (IAM-authorized) request, boto-free.

    The tenant is the caller's Cognito identity id as API Gateway authenticated it
    (``requestContext.identity.cognitoIdentityId``), never a field of the body; the body names the
    object key and the lifetime wanted.  The deployed Lambda (``ShareSigner`` in ``infra/template.yaml``)
    runs a standard-library copy of this inline (the runtime has no ``cryptography``) plus reading the
    private key from Secrets Manager; ``tests/unit/test_cloud_share_stack.py`` checks both answer the
    same.  The emulator's stand-in (``app.cloud.emulator.share``) calls this one in-process.
    """
    ctx = event.get("requestContext")
    identity = ctx.get("identity") if isinstance(ctx, dict) else None
    tenant = identity.get("cognitoIdentityId") if isinstance(identity, dict) else None
    if not isinstance(tenant, str) or not tenant:
        return {"statusCode": 403, "body": json.dumps({"error": "not signed in with a Cognito identity"})}
    try:
        body = json.loads(str(event.get("body") or "{}"))
        key, lifetime = body["key"], int(body.get("lifetime_s", 3600))
        if not isinstance(key, str):
            raise TypeError("key must be a string")
    except (ValueError, TypeError, KeyError) as exc:
        return {"statusCode": 400, "body": json.dumps({"error": f"bad request: {exc}"})}
    try:
        link = sign_for_tenant(tenant=tenant, key=key, domain=domain, key_pair_id=key_pair_id,
                               private_key_pem=private_key_pem, lifetime_s=lifetime, now=now)
    except SignError as exc:
        return {"statusCode": 403, "body": json.dumps({"error": str(exc)})}
    return {"statusCode": 200, "body": json.dumps({"url": link.url, "expires": link.expires})}
