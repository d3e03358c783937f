"""Who may ask the metadata service, and for which instance.

The metadata agent (one per chassis) resolves a guest's request to a port and
forwards it with Nova's proxy headers (reference E.3/E.4, metadata-clients §5.3):

* ``X-Instance-ID``: the port's ``device_id``;
* ``X-Tenant-ID``: the port's project (not signed; must match the instance);
* ``X-Instance-ID-Signature``: ``hex(HMAC-SHA256(key=shared secret, msg=instance id))``;
* ``X-Forwarded-For``: the guest's address.

The scheme is exactly Nova's (``[neutron] metadata_proxy_shared_secret`` with
``service_metadata_proxy = true``), so the agent can forward either to
neutrino's service or to Nova's metadata API (``nova_metadata_url``, "Nova mode")
with the same code: :func:`proxy_headers` and :func:`forward_url`.

IMDSv2 tokens (:class:`TokenSigner`) are self-contained: an expiry, a nonce and
an HMAC binding both to the instance id, keyed by a key derived from the shared
secret. Any process holding the secret can check them; nothing is stored.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
import struct
import time
from pathlib import Path

from neutrino.config import ConfigError, Settings

SECRET_FILE = "metadata_proxy_shared_secret"
TOKEN_TTL_MAX = 21600  # seconds (AWS IMDSv2, metadata-clients §6)
_TOKEN = struct.Struct("!Q8s16s")  # expiry (unix s), nonce, truncated HMAC-SHA256
_TOKEN_LEN = len(base64.urlsafe_b64encode(b"\0" * _TOKEN.size))


@functools.lru_cache(maxsize=4096)  # per request on both sides of the agent's hop
def sign_instance_id(secret: str, instance_id: str) -> str:
    """``X-Instance-ID-Signature`` for ``instance_id``: lowercase hex HMAC-SHA256
    keyed by the UTF-8 ``secret`` (Nova ``handler.py``, Neutron ``common/utils.py``).
    Remembered for the last 4096 (secret, id) pairs."""
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def signature_ok(secret: str, instance_id: str, signature: str) -> bool:
    """True if ``signature`` signs ``instance_id``; compared in constant time.
    An empty secret or signature never matches."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign_instance_id(secret, instance_id).encode(),
                               signature.encode("utf-8", "replace"))


def proxy_headers(secret: str, instance_id: str, project_id: str, client_ip: str) -> dict[str, str]:
    """The headers the agent adds when forwarding a guest's request (reference E.3 step 4).
    The agent must drop the guest's own copies of these headers first."""
    return {"X-Instance-ID": instance_id, "X-Tenant-ID": project_id,
            "X-Instance-ID-Signature": sign_instance_id(secret, instance_id),
            "X-Forwarded-For": client_ip}


def forward_url(settings: Settings) -> str:
    """Where the agent forwards: ``nova_metadata_url`` (Nova mode) or neutrino's own
    service at ``http://metadata_host:metadata_port``; no trailing slash.
    Raises ConfigError for a nova_metadata_url that is not http(s)."""
    if settings.nova_metadata_url:
        if not settings.nova_metadata_url.startswith(("http://", "https://")):
            raise ConfigError("nova_metadata_url must be an http:// or https:// URL")
        return settings.nova_metadata_url.rstrip("/")
    host = settings.metadata_host
    return f"http://[{host}]:{settings.metadata_port}" if ":" in host else \
        f"http://{host}:{settings.metadata_port}"


def ensure_shared_secret(settings: Settings) -> str:
    """The shared secret: ``metadata_proxy_shared_secret`` when set, else the one in
    ``<state_dir>/metadata_proxy_shared_secret``, created (64 hex digits, mode 0600)
    by whichever process asks first. Only right for a single host (the all-in-one):
    agents on other chassis need the setting. Raises ConfigError if the file cannot
    be read or written."""
    if settings.metadata_proxy_shared_secret:
        return settings.metadata_proxy_shared_secret
    path = Path(settings.state_dir) / SECRET_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        for _ in range(50):  # another process may be between create and write
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.01)
    except OSError as exc:
        raise ConfigError(f"metadata shared secret {path}: {exc.strerror}") from exc
    raise ConfigError(f"metadata shared secret {path} is empty: set metadata_proxy_shared_secret")


class TokenSigner:
    """Issues and checks IMDSv2 session tokens bound to one instance.

    A token is URL-safe base64 of (expiry, 8-byte nonce, 16 bytes of
    HMAC-SHA256(key, instance id | expiry | nonce)); ``key`` is derived from the
    shared secret so tokens are no use as proxy signatures. 44 characters.
    """

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"neutrino imdsv2 token", hashlib.sha256).digest()

    def _mac(self, instance_id: str, expires: int, nonce: bytes) -> bytes:
        msg = b"%s|%d|%s" % (instance_id.encode(), expires, nonce)
        return hmac.new(self._key, msg, hashlib.sha256).digest()[:16]

    def issue(self, instance_id: str, ttl: int, now: float | None = None) -> str:
        """A token for ``instance_id`` valid ``ttl`` seconds (1..21600) from ``now``."""
        if not 1 <= ttl <= TOKEN_TTL_MAX:
            raise ValueError(f"ttl {ttl} is not within 1..{TOKEN_TTL_MAX}")
        expires = int(now if now is not None else time.time()) + ttl
        nonce = os.urandom(8)
        raw = _TOKEN.pack(expires, nonce, self._mac(instance_id, expires, nonce))
        return base64.urlsafe_b64encode(raw).decode()

    def check(self, token: str, instance_id: str, now: float | None = None) -> bool:
        """True if ``token`` was issued for ``instance_id`` and has not expired."""
        if len(token) != _TOKEN_LEN:
            return False
        try:
            expires, nonce, mac = _TOKEN.unpack(base64.urlsafe_b64decode(token))
        except (ValueError, struct.error):
            return False
        if not hmac.compare_digest(mac, self._mac(instance_id, expires, nonce)):
            return False
        return (now if now is not None else time.time()) < expires
