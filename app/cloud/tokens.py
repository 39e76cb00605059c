"""Where the signed-in session lives: the OS keyring, or a 0600 file when there is no keyring.

The session holds the Cognito tokens (id, access, refresh) and the identity id.  Headless Linux has
no keyring backend; then the session goes to ``<cloud home>/session.json`` readable by the user only,
and :attr:`TokenStore.warning` says so (the CLI prints it, the app shows it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.core.infra.fs import atomic_write

from .config import cloud_home

log = logging.getLogger(__name__)

KEYRING_SERVICE = "reelwright-cloud"


@dataclass
class Session:
    username: str
    id_token: str
    access_token: str
    refresh_token: str
    identity_id: str | None = None


class TokenStore:
    """Saves one session per user pool.  ``backend`` is "keyring" or "file"."""

    def __init__(self, user_pool_id: str, *, home: Path | None = None, use_keyring: bool = True) -> None:
        self.user_pool_id = user_pool_id
        self.home = home or cloud_home()
        self.backend = "file"
        self.warning: str | None = None
        self._keyring: Any = None
        if use_keyring and os.environ.get("REELWRIGHT_NO_KEYRING") != "1":
            self._keyring = _usable_keyring()
        if self._keyring is not None:
            self.backend = "keyring"
        else:
            self.warning = (f"no OS keyring available: your cloud sign-in is kept in {self.file_path} "
                            "(readable only by you)")

    @property
    def file_path(self) -> Path:
        return self.home / "session.json"

    def load(self) -> Session | None:
        raw: str | None
        if self._keyring is not None:
            raw = self._keyring.get_password(KEYRING_SERVICE, self.user_pool_id)
        else:
            try:
                raw = json.loads(self.file_path.read_text(encoding="utf-8")).get(self.user_pool_id)
            except FileNotFoundError:
                raw = None
            except (OSError, ValueError, AttributeError) as exc:
                log.warning("ignoring unreadable session file %s: %s", self.file_path, exc)
                raw = None
        if not raw:
            return None
        try:
            return Session(**json.loads(raw))
        except (TypeError, ValueError):
            return None

    def save(self, session: Session) -> None:
        raw = json.dumps(asdict(session))
        if self._keyring is not None:
            self._keyring.set_password(KEYRING_SERVICE, self.user_pool_id, raw)
            return
        self._write_file({self.user_pool_id: raw})

    def clear(self) -> None:
        if self._keyring is not None:
            import keyring.errors

            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                self._keyring.delete_password(KEYRING_SERVICE, self.user_pool_id)
            return
        self._write_file({self.user_pool_id: None})

    def _write_file(self, update: dict[str, str | None]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            data = json.loads(self.file_path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                data = {}
        except (OSError, ValueError):
            data = {}
        for k, v in update.items():
            if v is None:
                data.pop(k, None)
            else:
                data[k] = v
        # created 0600 from the start: the tokens are never readable by others, not even briefly
        atomic_write(self.file_path, json.dumps(data), private=True)


def _usable_keyring() -> Any:
    """The keyring module if it has a real backend (not the 'fail' or a plaintext one), else None."""
    try:
        import keyring
        import keyring.backends.chainer
        import keyring.backends.fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        return None
    if type(backend).__module__.startswith("keyrings.alt"):  # plaintext files: no better than ours
        return None
    if isinstance(backend, keyring.backends.chainer.ChainerBackend) and not backend.backends:
        return None
    return keyring
