"""Who may use the web app: the admin token and the users file (no web stack imported here, so
`jarvis users` and `jarvis serve` read them cheaply).

The admin token is ``JARVIS_WEB_TOKEN`` when set; else ``<data dir>/web-token``, created at first
start with 32 random bytes (URL-safe), mode 0600, exclusively (two processes starting at once
end with the same token). More users live in ``<data dir>/web-users.json``: name ->
``{"sha256": <hex digest of the user's token>, "admin": bool}``; their tokens are shown once,
when `jarvis users add` makes them, and never stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from activities.secret_files import SecretFileError, ensure_secret
from planner.settings import Settings

TOKEN_FILE = "web-token"
USERS_FILE = "web-users.json"
TOKEN_BYTES = 32
MIN_TOKEN_CHARS = 16
ADMIN = "admin"  # the name of whoever holds the admin token
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")


class TokenError(RuntimeError):
    """The token or the users file is malformed or cannot be read or written."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class AdminToken:
    token: str
    path: Path | None  # the file it is kept in; None when it comes from JARVIS_WEB_TOKEN
    created: bool  # made just now (shown once by `jarvis serve`)


@dataclass(frozen=True)
class User:
    name: str
    sha256: str
    admin: bool


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def admin_token(settings: Settings) -> AdminToken:
    """``JARVIS_WEB_TOKEN``, else the token file (created when missing)."""
    if settings.web_token is not None:
        token = settings.web_token.strip()
        if len(token) < MIN_TOKEN_CHARS:
            raise TokenError(f"JARVIS_WEB_TOKEN must have at least {MIN_TOKEN_CHARS} "
                             "characters (e.g. `python -c 'import secrets; "
                             "print(secrets.token_urlsafe(32))'`)")
        return AdminToken(token, None, False)
    path = Path(settings.data_dir) / TOKEN_FILE
    try:
        token, created = ensure_secret(path, new_token,
                                       lambda text: len(text) >= MIN_TOKEN_CHARS, "web token")
    except SecretFileError as exc:
        raise TokenError(str(exc)) from exc
    return AdminToken(token, path, created)


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise TokenError(f"invalid user name {name!r}: use 1-40 lowercase letters, digits, "
                         "'.', '_' or '-', starting with a letter or digit")
    if name == ADMIN:
        raise TokenError(f"'{ADMIN}' is whoever holds the admin token (JARVIS_WEB_TOKEN or "
                         f"<data dir>/{TOKEN_FILE}); choose another name")
    return name


class UserStore:
    """The users file, re-read when it changes (users added while the app runs can log in;
    removed ones are logged out)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._users: dict[str, User] = {}

    @classmethod
    def of(cls, settings: Settings) -> UserStore:
        return cls(Path(settings.data_dir) / USERS_FILE)

    def users(self) -> dict[str, User]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._seen, self._users = None, {}
            return {}
        key = (st.st_mtime_ns, st.st_size)
        if key != self._seen:
            self._users, self._seen = self._load(), key
        return self._users

    def get(self, name: str) -> User | None:
        return self.users().get(name)

    def find(self, token: str) -> User | None:
        """The user holding ``token`` (every entry is compared, in constant time each)."""
        wanted = digest(token)
        found = None
        for user in self.users().values():
            if hmac.compare_digest(user.sha256, wanted):
                found = user
        return found

    def add(self, name: str, *, admin: bool = False) -> str:
        """Add a user; returns the new token (not stored: only its digest is)."""
        check_name(name)
        users = dict(self._load())
        if name in users:
            raise TokenError(f"user '{name}' exists", "`jarvis users remove` it first")
        token = new_token()
        users[name] = User(name, digest(token), admin)
        self._save(users)
        return token

    def remove(self, name: str) -> None:
        users = dict(self._load())
        if users.pop(name, None) is None:
            raise TokenError(f"no user '{name}'")
        self._save(users)

    def _load(self) -> dict[str, User]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise TokenError(f"cannot read the users file {self.path}: {exc}") from exc
        if not isinstance(raw, dict):
            raise TokenError(f"{self.path} must hold an object: name -> {{sha256, admin}}")
        users = {}
        for name, entry in raw.items():
            sha = entry.get("sha256") if isinstance(entry, dict) else None
            if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
                raise TokenError(f"{self.path}: user {name!r} needs a sha256 hex digest")
            users[name] = User(name, sha, bool(entry.get("admin", False)))
        return users

    def _save(self, users: dict[str, User]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {u.name: {"sha256": u.sha256, "admin": u.admin} for u in users.values()}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.write("\n")
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
