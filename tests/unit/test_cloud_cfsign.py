"""CloudFront URL signing, checked offline against a key pair the test generates: the signature
verifies with the public key over the exact canned policy CloudFront rebuilds, the base64 is
CloudFront's URL-safe alphabet, lifetimes are capped at 7 days, and a tenant cannot get a link to
another tenant's objects (or to its own non-output objects such as the session file)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.cloud.cfsign import MAX_LIFETIME_S, SignError, canned_policy, cf_b64, cf_b64_decode, sign_for_tenant

TENANT = "eu-west-1:1111-2222"
KEY = f"tenants/{TENANT}/jobs/20261205-abc/out/video.mp4"
NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def key_pair() -> tuple[bytes, rsa.RSAPublicKey]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return pem, private.public_key()


def _sign(pem: bytes, **kw: object) -> tuple[str, dict[str, str]]:
    args: dict[str, object] = {"tenant": TENANT, "key": KEY, "domain": "d111.cloudfront.net",
                               "key_pair_id": "K2JCJMDEHXQW5F", "private_key_pem": pem,
                               "lifetime_s": 7 * 24 * 3600, "now": NOW}
    args.update(kw)
    link = sign_for_tenant(**args)  # type: ignore[arg-type]
    q = {k: v[0] for k, v in parse_qs(urlsplit(link.url).query).items()}
    assert int(q["Expires"]) == link.expires
    return link.url, q


def test_signature_verifies_with_the_public_key_over_the_canned_policy(
        key_pair: tuple[bytes, rsa.RSAPublicKey]) -> None:
    pem, public = key_pair
    url, q = _sign(pem)
    base = url.split("?", 1)[0]
    assert base == "https://d111.cloudfront.net/" + KEY.replace(":", "%3A")  # the policy signs the URL as sent
    assert q["Key-Pair-Id"] == "K2JCJMDEHXQW5F"
    assert int(q["Expires"]) == int(NOW) + 7 * 24 * 3600  # a week, as asked — not an hour
    policy = canned_policy(base, int(q["Expires"]))
    assert json.loads(policy)["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"] == int(q["Expires"])
    assert " " not in policy
    sig = cf_b64_decode(q["Signature"])
    public.verify(sig, policy.encode(), padding.PKCS1v15(), hashes.SHA1())  # raises if wrong
    with pytest.raises(InvalidSignature):  # a link whose expiry is edited no longer verifies
        public.verify(sig, canned_policy(base, int(q["Expires"]) + 1).encode(), padding.PKCS1v15(), hashes.SHA1())


def test_cloudfront_base64_uses_the_url_safe_alphabet() -> None:
    raw = bytes([0xFB, 0xFF, 0xFE, 0x3E, 0x3F])  # standard base64: "+//+Pj8=" -ish, with + / =
    enc = cf_b64(raw)
    assert not set(enc) & set("+/=") and set(enc) & set("-~_")
    assert cf_b64_decode(enc) == raw


def test_lifetime_is_capped_at_seven_days(key_pair: tuple[bytes, rsa.RSAPublicKey]) -> None:
    _url, q = _sign(key_pair[0], lifetime_s=30 * 24 * 3600)
    assert int(q["Expires"]) == int(NOW) + MAX_LIFETIME_S
    with pytest.raises(SignError):
        _sign(key_pair[0], lifetime_s=0)


@pytest.mark.parametrize("key", [
    "tenants/eu-west-1:9999-other/jobs/20261205-abc/out/video.mp4",  # another tenant
    f"tenants/{TENANT}-x/jobs/j/out/video.mp4",                       # a tenant whose id extends ours
    f"tenants/{TENANT}/jobs/20261205-abc/session.json",               # ours, but the browser session
    f"tenants/{TENANT}/jobs/20261205-abc/out/../session.json",        # climbing out of out/
    f"tenants/{TENANT}/assets/abc",                                   # ours, not an output
    f"tenants/{TENANT}/jobs/20261205-abc/out/de/sub/video.mp4",       # deeper than a variant's folder
])
def test_a_tenant_cannot_sign_what_is_not_its_own_output(key_pair: tuple[bytes, rsa.RSAPublicKey], key: str) -> None:
    with pytest.raises(SignError, match=r"tenant|output"):
        _sign(key_pair[0], key=key)


def test_a_fan_out_variants_output_is_signable(key_pair: tuple[bytes, rsa.RSAPublicKey]) -> None:
    key = f"tenants/{TENANT}/jobs/20261205-abc/out/de-9x16/video.mp4"
    url, q = _sign(key_pair[0], key=key)
    assert url.split("?")[0].endswith("/jobs/20261205-abc/out/de-9x16/video.mp4"), url
    key_pair[1].verify(cf_b64_decode(q["Signature"]), canned_policy(url.split("?")[0], int(q["Expires"])).encode(),
                       padding.PKCS1v15(), hashes.SHA1())


def test_a_bad_key_is_named_not_a_traceback() -> None:
    with pytest.raises(SignError, match="PEM"):
        _sign(b"not a key")


def test_a_share_link_tells_its_real_end_and_why_it_is_short() -> None:
    from app.cloud.cfsign import ShareLink

    short = ShareLink("u", expires=NOW + 55 * 60, asked_s=7 * 24 * 3600, signed_at=NOW)
    assert short.shortened
    text = short.until_text(now=NOW)
    assert "about 55 min" in text and "credentials" in text and "the 7 days asked" in text
    week = ShareLink("u", expires=NOW + 7 * 24 * 3600, asked_s=7 * 24 * 3600, signed_at=NOW, via="cloudfront")
    assert not week.shortened and "about 168 h" in week.until_text(now=NOW)


def test_the_signer_takes_the_tenant_from_the_authenticated_identity_not_the_body(
        key_pair: tuple[bytes, rsa.RSAPublicKey]) -> None:
    from app.cloud.cfsign import handle_share_request

    def call(tenant: str | None, body: dict[str, object]) -> tuple[int, dict[str, object]]:
        event: dict[str, object] = {"body": json.dumps(body),
                                    "requestContext": {"identity": {"cognitoIdentityId": tenant}}}
        out = handle_share_request(event, domain="d111.cloudfront.net", key_pair_id="K1",
                                   private_key_pem=key_pair[0], now=NOW)
        return int(str(out["statusCode"])), json.loads(str(out["body"]))

    status, body = call(TENANT, {"key": KEY, "lifetime_s": 3 * 24 * 3600})
    assert status == 200 and body["expires"] == int(NOW) + 3 * 24 * 3600 and "Signature=" in str(body["url"])
    # another tenant asking for the same object (even claiming the owner's id in the body) is refused
    status, body = call("eu-west-1:9999-other", {"key": KEY, "tenant": TENANT})
    assert status == 403 and "tenant" in str(body["error"])
    assert call(None, {"key": KEY})[0] == 403
    assert call(TENANT, {"lifetime_s": 5})[0] == 400
