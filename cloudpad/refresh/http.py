"""The HTTP client of the refresh: timeouts, retries with backoff, conditional requests.

Every adapter fetches through one :class:`Client` (``httpx`` underneath):

* **timeouts**: :data:`TIMEOUT`, 10 s to connect and 60 s at most between two reads
  of an answer (the large AWS offer file is streamed, never held whole);
* **retries**: a transport error (timeout, refused or dropped connection) or an
  answer 429, 500, 502, 503 or 504 is tried again, up to :data:`ATTEMPTS` times
  in all; the wait before try *n* (counting from 1) is ``BACKOFF_S * 2**(n-1)``
  seconds, or what the server's ``Retry-After`` asks (seconds or an HTTP date)
  when it asks for more, but never more than :data:`MAX_WAIT_S` (a server asking
  for longer is not waited for: the source fails and says so);
* **conditional requests**: with the ``ETag`` and ``Last-Modified`` of the last
  answer (kept in the refresh status), a request carries ``If-None-Match`` and
  ``If-Modified-Since``; an answer 304 means the source has not changed.

Any other failure raises :class:`SourceError` in one sentence naming the URL
(with an API key in it replaced by ``***``) and what went wrong.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from cloudpad.exceptions import CloudpadError

#: Seconds: to connect, and between two bytes of an answer.
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
#: Tries per request, the first included.
ATTEMPTS = 4
#: Seconds before the second try; doubled for each further one.
BACKOFF_S = 2.0
#: The longest wait between two tries, seconds (a longer Retry-After fails the source).
MAX_WAIT_S = 120.0
#: Answers that are tried again.
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
#: Identifies the book to the providers.
USER_AGENT = "cloudpad-refresh/1 (Cloud Architecture Notepad)"


class SourceError(CloudpadError):
    """A source could not be read (network, HTTP status, malformed answer); one sentence."""


def redact(url: str | httpx.URL) -> str:
    """``url`` with the value of any ``key=`` query parameter replaced by ``***``."""
    return re.sub(r"([?&]key=)[^&#]*", r"\1***", str(url))


@dataclass(frozen=True)
class Validators:
    """What a source said about its answer, to ask next time whether it changed."""

    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def of(cls, response: httpx.Response) -> Validators:
        return cls(response.headers.get("etag"), response.headers.get("last-modified"))

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass
class Answer:
    """A successful answer: its body as text (None when 304 Not Modified) and validators."""

    url: str
    text: str | None
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.text is None

    def json(self) -> Any:
        """The body parsed as JSON; :class:`SourceError` if it is not (e.g. cut short)."""
        try:
            return json.loads(self.text or "")
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"{redact(self.url)}: the answer is not valid JSON (cut short or not JSON) at "
                f"character {exc.pos} of {len(self.text or '')}: {exc.msg}"
            ) from None


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Client:
    """One HTTP client for a refresh; ``sleep`` is injectable so tests do not wait."""

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        attempts: int = ATTEMPTS,
    ) -> None:
        self._http = httpx.Client(
            timeout=TIMEOUT,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )
        self.sleep = sleep if sleep is not None else (lambda seconds: time.sleep(seconds))
        self.attempts = attempts
        #: Every wait this client made, seconds (the report and the tests read it).
        self.waits: list[float] = []

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, attempt: int, response: httpx.Response | None, url: str) -> None:
        wait = BACKOFF_S * 2 ** (attempt - 1)
        asked = retry_after_s(response.headers.get("retry-after")) if response else None
        if asked is not None and asked > MAX_WAIT_S:
            raise SourceError(
                f"{redact(url)}: HTTP {response.status_code} asking to retry after "
                f"{asked:.0f} s, longer than the {MAX_WAIT_S:.0f} s this refresh waits"
            )
        if asked is not None:
            wait = max(wait, asked)
        wait = min(wait, MAX_WAIT_S)
        self.waits.append(wait)
        self.sleep(wait)

    @contextmanager
    def _request(
        self, url: str, headers: Mapping[str, str], stream: bool
    ) -> Iterator[httpx.Response]:
        """The response to GET ``url`` after retries (status < 400 or 304); else SourceError."""
        last = ""
        for attempt in range(1, self.attempts + 1):
            request = self._http.build_request("GET", url, headers=dict(headers))
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if attempt < self.attempts:
                    self._wait(attempt, None, url)
                    continue
                raise SourceError(
                    f"{redact(url)}: no answer after {attempt} tries ({redact(last)})"
                ) from None
            if response.status_code in RETRY_STATUS:
                last = f"HTTP {response.status_code}"
                response.close()
                if attempt < self.attempts:
                    self._wait(attempt, response, url)
                    continue
                raise SourceError(
                    f"{redact(url)}: HTTP {response.status_code} after {attempt} tries"
                )
            if response.status_code >= 400:
                if stream:
                    response.read()
                snippet = " ".join(response.text.split())[:200]
                response.close()
                raise SourceError(f"{redact(url)}: HTTP {response.status_code}: {snippet!r}")
            try:
                yield response
            finally:
                response.close()
            return
        raise SourceError(f"{redact(url)}: no answer ({last})")  # pragma: no cover

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        validators: Validators | None = None,
    ) -> Answer:
        """GET ``url``; 304 gives an :class:`Answer` whose ``not_modified`` is true."""
        sent = {**(headers or {}), **(validators.headers() if validators else {})}
        with self._request(url, sent, stream=False) as response:
            if response.status_code == 304:
                return Answer(url, None, validators or Validators())
            try:
                text = response.text
            except UnicodeDecodeError as exc:
                raise SourceError(f"{redact(url)}: the answer is not text: {exc}") from None
            return Answer(url, text, Validators.of(response))

    @contextmanager
    def stream(
        self, url: str, *, validators: Validators | None = None
    ) -> Iterator[tuple[httpx.Response, Validators]]:
        """GET ``url`` without reading the body; the caller reads ``response.iter_bytes()``.

        A 304 gives the response with status 304 (no body to read).
        """
        sent = validators.headers() if validators else {}
        with self._request(url, sent, stream=True) as response:
            if response.status_code == 304:
                yield response, validators or Validators()
            else:
                yield response, Validators.of(response)


def read_stream(response: httpx.Response, url: str) -> Iterator[bytes]:
    """The chunks of a streamed body; a dropped connection raises :class:`SourceError`."""
    try:
        yield from response.iter_bytes()
    except httpx.TransportError as exc:
        raise SourceError(f"{redact(url)}: the download broke off: {redact(str(exc))}") from None
