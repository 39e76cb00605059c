"""Cognito sign-in (SRP through pycognito) and the user's temporary AWS credentials.

Everything here blocks (HTTP to Cognito): the async facade in :mod:`app.cloud.client` runs it through
``asyncio.to_thread``.  Credentials come from the identity pool and refresh themselves before they
expire (botocore ``RefreshableCredentials``), renewing the id token with the refresh token as needed.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError
from pycognito import Cognito
from pycognito.exceptions import ForceChangePasswordException, TokenVerificationException

from .config import CloudConfig
from .errors import AuthError, CloudError, NotSignedIn, SessionExpired
from .tokens import Session, TokenStore

#: Cognito error code -> what the user reads
_AUTH_MESSAGES: dict[str, str] = {
    "NotAuthorizedException": "wrong email or password",
    "UserNotFoundException": "wrong email or password",
    "UserNotConfirmedException": "this account is not confirmed yet: enter the code from the e-mail",
    "UsernameExistsException": "an account with this e-mail already exists",
    "InvalidPasswordException": "the password does not meet the policy (12+ characters, upper, lower, digit)",
    "CodeMismatchException": "the code is wrong",
    "ExpiredCodeException": "the code has expired: request a new one",
    "LimitExceededException": "too many attempts: wait a few minutes",
    "TooManyRequestsException": "too many attempts: wait a few minutes",
    "InvalidParameterException": "the request was refused",
}


#: what the user reads when the stack refuses self sign-up (template parameter SignUpMode=invite: Cognito
#: answers SignUp with NotAuthorizedException "SignUp is not permitted for this user pool")
INVITE_ONLY = ("this Reelwright Cloud accepts invited accounts only: ask its operator to invite your e-mail "
               "address; the invitation e-mail holds a temporary password to sign in with")


#: an invited account (admin-create-user) signs in first with the e-mailed temporary password
FIRST_SIGN_IN = ("this invited account still has the temporary password from its invitation e-mail: choose your "
                 "own password to finish signing in (`reelwright cloud login --new-password`)")


def _new_password_required() -> AuthError:
    err = AuthError(f"sign-in needs a new password: {FIRST_SIGN_IN}")
    err.code = "NewPasswordRequired"
    return err


def sign_up_error(exc: Exception) -> AuthError:
    """A refused sign-up, in words: an invite-only pool is not a wrong password."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        detail = str(exc.response.get("Error", {}).get("Message", ""))
        if code == "NotAuthorizedException" and "not permitted" in detail.lower():
            err = AuthError(f"sign-up refused: {INVITE_ONLY}")
            err.code = "SignUpNotPermitted"
            return err
        if code == "UserLambdaValidationException":
            # SignUpMode=allow-list: the PreSignUp trigger's own words, without Cognito's wrapping
            reason = detail.removeprefix("PreSignUp failed with error ").rstrip(".").strip()
            err = AuthError(f"sign-up refused: {reason or detail}")
            err.code = "SignUpNotAllowed"
            return err
    return auth_error(exc, "sign-up failed")


def auth_error(exc: Exception, action: str, kind: type[AuthError] = AuthError) -> AuthError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        detail = exc.response.get("Error", {}).get("Message", "")
        msg = _AUTH_MESSAGES.get(code)
        if msg:
            err = kind(f"{action}: {msg}" + (f" ({detail})" if code == "InvalidParameterException" else ""))
        else:
            err = kind(f"{action}: {code or 'error'}: {detail}")
        err.code = code
        return err
    return kind(f"{action}: {exc}")


def _jwt_claims(token: str) -> dict[str, Any]:
    import base64

    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        data = json.loads(base64.urlsafe_b64decode(payload))
        return data if isinstance(data, dict) else {}
    except (IndexError, ValueError):
        return {}


class CognitoAuth:
    """Sign-up, sign-in, refresh, sign-out and forgot/reset against one user pool (blocking)."""

    def __init__(self, config: CloudConfig, store: TokenStore | None = None) -> None:
        self.config = config
        self.store = store or TokenStore(config.user_pool_id)
        self._session: Session | None = self.store.load()
        self._lock = threading.Lock()
        self._jwks: dict[str, Any] | None = None
        self.credentials_expire: float | None = None  # epoch s; set by each credentials fetch

    # ------------------------------------------------------------------ pycognito plumbing

    def _cognito(self, username: str | None = None, session: Session | None = None) -> Cognito:
        kwargs: dict[str, Any] = {}
        if self.config.endpoint_url:
            kwargs["endpoint_url"] = self.config.endpoint_url
        u = Cognito(
            self.config.user_pool_id,
            self.config.client_id,
            user_pool_region=self.config.region,
            username=username,
            id_token=session.id_token if session else None,
            access_token=session.access_token if session else None,
            refresh_token=session.refresh_token if session else None,
            boto3_client_kwargs=kwargs,
        )
        if self.config.endpoint_url:
            # moto signs tokens with its own issuer: verify against the emulator's JWKS and the
            # standard issuer (pycognito would otherwise take the endpoint as the issuer)
            u.pool_jwk = self._emulator_jwks()
            u.pool_domain_url = None
        return u

    def _emulator_jwks(self) -> dict[str, Any]:
        if self._jwks is None:
            url = f"{self.config.endpoint_url}/{self.config.user_pool_id}/.well-known/jwks.json"
            with urllib.request.urlopen(url, timeout=10) as resp:  # loopback emulator only
                self._jwks = json.loads(resp.read())
        return self._jwks

    # ------------------------------------------------------------------ account operations

    @property
    def session(self) -> Session | None:
        return self._session

    def sign_up(self, email: str, password: str) -> None:
        u = self._cognito()
        u.set_base_attributes(email=email)
        try:
            u.register(email, password)
        except (ClientError, BotoCoreError) as exc:
            raise sign_up_error(exc) from None

    def confirm(self, email: str, code: str) -> None:
        try:
            self._cognito(email).confirm_sign_up(code, username=email)
        except (ClientError, BotoCoreError) as exc:
            raise auth_error(exc, "confirmation failed") from None

    def sign_in(self, email: str, password: str, *, flow: str = "srp", new_password: str | None = None) -> Session:
        """SRP sign-in (the password never leaves the machine).  ``flow="password"`` uses
        USER_PASSWORD_AUTH instead (only where the app client allows it, e.g. the emulator).

        An invited account's first sign-in (Cognito's NEW_PASSWORD_REQUIRED challenge) needs
        ``new_password``; without it the error says so (code ``NewPasswordRequired``)."""
        u = self._cognito(email)
        try:
            if flow == "srp":
                try:
                    u.authenticate(password=password)
                except ForceChangePasswordException:
                    if not new_password:
                        raise _new_password_required() from None
                    u.new_password_challenge(password, new_password)
            else:
                resp = u.client.initiate_auth(
                    ClientId=self.config.client_id, AuthFlow="USER_PASSWORD_AUTH",
                    AuthParameters={"USERNAME": email, "PASSWORD": password},
                )
                if resp.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
                    if not new_password:
                        raise _new_password_required()
                    resp = u.client.respond_to_auth_challenge(
                        ClientId=self.config.client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                        Session=resp["Session"],
                        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new_password})
                if "AuthenticationResult" not in resp:
                    raise AuthError(f"sign-in needs a challenge this app does not support: {resp.get('ChallengeName')}")
                u._set_tokens(resp)
            u.verify_tokens()
        except (ClientError, BotoCoreError) as exc:
            raise auth_error(exc, "sign-in failed") from None
        except TokenVerificationException as exc:
            err = AuthError(f"sign-in failed: the tokens did not verify ({exc})")
            err.code = "TokenVerificationFailed"  # e.g. a user pool id or region that is not the client's
            raise err from None
        previous = self.store.load()
        identity = previous.identity_id if previous and previous.username == email else None
        session = Session(email, u.id_token, u.access_token, u.refresh_token, identity)
        with self._lock:
            self._session = session
            self.store.save(session)
        return session

    def require(self) -> Session:
        if self._session is None:
            raise NotSignedIn()
        return self._session

    def refresh(self) -> Session:
        """Renew the id/access tokens with the refresh token."""
        with self._lock:
            s = self.require()
            u = self._cognito(s.username, s)
            try:
                u.renew_access_token()
            except (ClientError, BotoCoreError) as exc:
                # Cognito says NotAuthorized for an expired, revoked or damaged refresh token; a
                # network error is not an expiry (signing in again would not help)
                err = auth_error(exc, "your sign-in expired")
                if err.code == "NotAuthorizedException":
                    detail = exc.response.get("Error", {}).get("Message", "") if isinstance(exc, ClientError) else ""
                    err = SessionExpired("your session expired — sign in again" + (f" ({detail})" if detail else ""))
                    err.code = "NotAuthorizedException"
                err.hint = "run `reelwright cloud login` again"
                raise err from None
            s = Session(s.username, u.id_token, u.access_token, s.refresh_token or u.refresh_token, s.identity_id)
            self._session = s
            self.store.save(s)
            return s

    def sign_out(self) -> None:
        """Revoke the tokens (global sign-out) and forget the session locally, whatever happens remotely."""
        s = self._session
        try:
            if s is not None:
                self._cognito(s.username, s).logout()
        except (ClientError, BotoCoreError):
            pass  # an expired or already revoked session is signed out anyway
        finally:
            with self._lock:
                self._session = None
                self.store.clear()

    def forgot(self, email: str) -> None:
        try:
            self._cognito(email).initiate_forgot_password()
        except (ClientError, BotoCoreError) as exc:
            raise auth_error(exc, "password reset failed") from None

    def reset(self, email: str, code: str, new_password: str) -> None:
        try:
            self._cognito(email).confirm_forgot_password(code, new_password)
        except (ClientError, BotoCoreError) as exc:
            raise auth_error(exc, "password reset failed") from None

    # ------------------------------------------------------------------ AWS credentials

    def _fresh_id_token(self) -> Session:
        s = self.require()
        exp = _jwt_claims(s.id_token).get("exp")
        if not isinstance(exp, (int, float)) or exp - time.time() < 120:
            s = self.refresh()
        return s

    def identity_id(self) -> str:
        """The Cognito identity id: the user's tenant.  Asked once, then remembered with the session."""
        s = self.require()
        if s.identity_id:
            return s.identity_id
        s = self._fresh_id_token()
        ci = boto3.client("cognito-identity", **self.config.client_kwargs())
        try:
            resp = ci.get_id(IdentityPoolId=self.config.identity_pool_id,
                             Logins={self.config.login_provider: s.id_token})
        except (ClientError, BotoCoreError) as exc:
            raise CloudError(f"could not get your cloud identity: {exc}") from None
        with self._lock:
            s.identity_id = str(resp["IdentityId"])
            self.store.save(s)
        return s.identity_id

    def _fetch_credentials(self) -> dict[str, str]:
        identity = self.identity_id()
        s = self._fresh_id_token()
        ci = boto3.client("cognito-identity", **self.config.client_kwargs())
        try:
            resp = ci.get_credentials_for_identity(IdentityId=identity, Logins={self.config.login_provider: s.id_token})
        except (ClientError, BotoCoreError) as exc:
            raise CloudError(f"could not get cloud credentials: {exc}") from None
        c = resp["Credentials"]
        exp = c["Expiration"]
        if not isinstance(exp, datetime):
            exp = datetime.fromtimestamp(float(exp), tz=UTC)
        self.credentials_expire = exp.timestamp()  # what a presigned link made with them lives until
        return {"access_key": c["AccessKeyId"], "secret_key": c["SecretKey"], "token": c["SessionToken"],
                "expiry_time": exp.astimezone(UTC).isoformat()}

    def boto_session(self) -> boto3.Session:
        """A boto3 session whose credentials are the user's, refreshed before they expire."""
        first = self._fetch_credentials()
        creds = RefreshableCredentials.create_from_metadata(first, self._fetch_credentials, "cognito-identity")
        lifetime = (datetime.fromisoformat(first["expiry_time"]) - datetime.now(UTC)).total_seconds()
        # botocore refreshes 15/10 minutes before expiry; short-lived credentials (the emulator's
        # last 90 s) would then refresh on every call, so scale the margins to the lifetime
        creds._advisory_refresh_timeout = int(min(15 * 60, max(5, lifetime / 3)))
        creds._mandatory_refresh_timeout = int(min(10 * 60, max(3, lifetime / 6)))
        bs = botocore.session.Session()
        bs._credentials = creds
        bs.set_config_variable("region", self.config.region)
        return boto3.Session(botocore_session=bs)
