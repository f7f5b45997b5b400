"""Protection for the HTML forms: signed CSRF tokens bound to a cookie, and a per-IP rate limit.

CSRF is a double-submit: the cookie holds a random nonce, the form holds the nonce signed (with a
timestamp) by the runtime's link secret. A cross-site page can make the browser send the cookie but
can neither read it nor forge the signature, so it cannot produce a matching pair.
"""

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

CSRF_COOKIE = "cf_csrf"
CSRF_FIELD = "csrf_token"
MAX_TOKEN = 512  # longer is not one of ours; do not spend time verifying it
MAX_KEYS = 10_000
CSRF_MAX_AGE = 4 * 3600  # long enough to write a complaint slowly, short enough to limit replay


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="complaintflow-form-csrf")


def issue_csrf(secret: str, request: Request) -> tuple[str, str]:
    """(nonce for the cookie, signed token for the form); reuses the browser's nonce if it has one."""
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    return nonce, _signer(secret).dumps(nonce)


def set_csrf_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def csrf_ok(secret: str, request: Request, token: object) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not isinstance(token, str) or len(token) > MAX_TOKEN:
        return False
    try:
        nonce = _signer(secret).loads(token, max_age=CSRF_MAX_AGE)
    except BadSignature:  # also SignatureExpired, its subclass
        return False
    return isinstance(nonce, str) and secrets.compare_digest(nonce, cookie)


class SlidingWindow:
    """At most ``limit`` hits per key in any ``seconds`` window, in memory (one process).

    Good enough against a script hammering one server; several workers would each count separately,
    which only loosens the limit. Thread-safe: sync routes run in a thread pool.
    """

    def __init__(self, limit: int, seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.seconds = seconds
        self._now = now
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self._now()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.seconds:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            # Forget idle keys so a scan over many addresses cannot grow the table without bound.
            if len(self._hits) > MAX_KEYS:
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.seconds}
            return True


_CREATE_LOCK = threading.Lock()


def public_form_limiter(request: Request) -> SlidingWindow:
    """The app's limiter for the public form, created on first use (one per app, not per process)."""
    with _CREATE_LOCK:
        limiter: SlidingWindow | None = getattr(request.app.state, "public_form_limiter", None)
        if limiter is None:
            limiter = SlidingWindow(limit=5, seconds=60)
            request.app.state.public_form_limiter = limiter
        return limiter


def client_key(request: Request) -> str:
    # The peer address; behind a proxy, uvicorn's --proxy-headers decides what that is, not us.
    return request.client.host if request.client else "unknown"
