"""One HTTP exchange under the egress policy, with a byte cap and a total time limit.

Every hop (the URL, then each redirect, at most ``MAX_REDIRECTS``) is checked by
``egress.check`` and sent to a checked address: the request goes to the IP literal with the
original ``Host`` header and, for https, the original name as SNI and certificate name
(httpx's ``sni_hostname`` extension). The body is streamed and decoded (gzip/deflate) with a
bound, so neither a large body nor a compression bomb grows the worker past the cap. The whole
exchange (resolution, redirects, body) runs under one ``asyncio.timeout``, so a server that
trickles bytes ends at the tool's timeout, not after N reads.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from activities.errors import ToolError, ToolInputError
from activities.net.egress import Allowance, Target, check

MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_BYTES_SETTING = "JARVIS_HTTP_MAX_BYTES"


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str  # the final URL as the caller would write it (host name, not the address)
    truncated: bool = False  # the body stopped at the byte cap

    @property
    def text(self) -> str:
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset":
                charset = value.strip().strip("\"'") or charset
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def with_idempotency_key(headers: Mapping[str, str] | None, method: str,
                         key: str | None) -> dict[str, str]:
    """``headers`` plus ``Idempotency-Key: key`` for a method with effects, unless the caller
    set one or there is no key (a call outside a run)."""
    out = dict(headers or {})
    if key and method.upper() not in SAFE_METHODS and not any(
            name.lower() == IDEMPOTENCY_HEADER.lower() for name in out):
        out[IDEMPOTENCY_HEADER] = key
    return out


async def exchange(method: str, url: str, *, allow: tuple[str, ...], timeout_s: float,
                   max_bytes: int, headers: Mapping[str, str] | None = None,
                   params: Mapping[str, str] | None = None, json_body: Any = None,
                   too_large: Literal["error", "truncate"] = "error",
                   follow_redirects: bool = True) -> Fetched:
    """Send ``method url`` under the egress policy; the response with its body read (capped).

    Raises EgressRefused or ToolInputError (no retry) for a refused or invalid URL, too many
    redirects or (``too_large="error"``) a body over ``max_bytes``; ToolError (retry) for
    network failures and for not finishing within ``timeout_s`` in total."""
    label = f"{method} {url}"
    try:
        async with asyncio.timeout(timeout_s):
            return await _exchange(method, url, Allowance.parse(allow), timeout_s, max_bytes,
                                   headers, params, json_body, too_large, follow_redirects)
    except TimeoutError:
        raise ToolError(f"{label} timed out after {timeout_s:g}s (the whole exchange: "
                        "resolution, redirects and body)") from None


async def _exchange(method: str, url: str, allow: Allowance, timeout_s: float, max_bytes: int,
                    headers: Mapping[str, str] | None, params: Mapping[str, str] | None,
                    json_body: Any, too_large: Literal["error", "truncate"],
                    follow_redirects: bool) -> Fetched:
    try:
        current = httpx.URL(url)  # (URL(url, params=...) would drop the url's own query)
        if params:
            current = current.copy_merge_params(dict(params))
    except (httpx.InvalidURL, TypeError) as exc:
        raise ToolInputError(f"invalid url {url!r}: {exc}") from exc
    sent = httpx.Headers(headers or {})
    sent.pop("host", None)
    sent.setdefault("Accept-Encoding", "gzip, deflate")
    body = json_body
    via: str | None = None
    async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False,
                                 trust_env=False) as client:
        for hop in range(MAX_REDIRECTS + 1):
            target = await check(current, allow, via=via)
            response = await _send(client, method, target, sent, body)
            try:
                location = response.headers.get("location")
                if not (follow_redirects and response.status_code in REDIRECTS and location):
                    data, truncated = await _read(response, max_bytes, too_large,
                                                  f"{method} {current}")
                    return Fetched(response.status_code, response.headers, data, str(current),
                                   truncated)
            finally:
                await response.aclose()
            if hop == MAX_REDIRECTS:
                break
            try:
                following = current.join(location)
            except httpx.InvalidURL as exc:
                raise ToolInputError(f"{method} {current} redirected to an invalid url "
                                     f"{location!r}: {exc}") from exc
            next_method, body = _redirected(response.status_code, method, body)
            if next_method != method:  # the effect was done by the hop that redirected
                sent.pop(IDEMPOTENCY_HEADER, None)
            method = next_method
            if (following.scheme, following.netloc) != (current.scheme, current.netloc):
                sent.pop("authorization", None)
                sent.pop("cookie", None)
            via, current = str(current), following
    raise ToolInputError(f"{method} {url}: more than {MAX_REDIRECTS} redirects")


def _redirected(status: int, method: str, body: Any) -> tuple[str, Any]:
    """The method and body of the next hop: 303 (and 301/302 after a POST) become a GET."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET", None
    return method, body


async def _send(client: httpx.AsyncClient, method: str, target: Target, headers: httpx.Headers,
                json_body: Any) -> httpx.Response:
    """Send to the checked addresses in turn (the next only when connecting failed)."""
    hop_headers = httpx.Headers(headers)
    hop_headers["Host"] = target.url.netloc.decode("ascii")
    extensions = ({"sni_hostname": target.host}
                  if target.url.scheme == "https" and target.host_is_name else {})
    failure: Exception | None = None
    for ip in target.addresses:
        request = client.build_request(method, target.url.copy_with(host=str(ip)),
                                       headers=hop_headers, json=json_body,
                                       extensions=extensions)
        try:
            return await client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            failure = exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise ToolInputError(f"invalid url {target.url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise ToolError(f"{method} {target.url} failed: {type(exc).__name__}: {exc}") from exc
    shown = ", ".join(map(str, target.addresses))
    raise ToolError(f"{method} {target.url} failed: could not connect to {shown}: "
                    f"{type(failure).__name__}: {failure}")


class _Decoder:
    """Content-Encoding decoding that never produces more than asked for."""

    def __init__(self, encoding: str) -> None:
        kind = encoding.strip().lower()
        if kind in ("", "identity"):
            self._zlib = None
        elif kind in ("gzip", "x-gzip", "deflate"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        else:
            raise ToolInputError(f"unsupported content-encoding {encoding!r}")

    def feed(self, data: bytes, limit: int) -> bytes:
        if self._zlib is None:
            return data[:limit]
        return self._zlib.decompress(data, limit)


async def _read(response: httpx.Response, max_bytes: int,
                too_large: Literal["error", "truncate"], label: str) -> tuple[bytes, bool]:
    """The decoded body, at most ``max_bytes``: an error past it, or the first bytes and True."""
    declared = response.headers.get("content-length", "")
    over = f"{label}: response larger than {max_bytes} bytes ({MAX_BYTES_SETTING})"
    if too_large == "error" and declared.isdigit() and int(declared) > max_bytes:
        raise ToolInputError(over)
    decoder = _Decoder(response.headers.get("content-encoding", ""))
    chunks: list[bytes] = []
    size = 0
    try:
        async for raw in response.aiter_raw():
            # one byte past the cap is how we know there is more
            piece = decoder.feed(raw, max_bytes - size + 1)
            chunks.append(piece)
            size += len(piece)
            if size > max_bytes:
                if too_large == "error":
                    raise ToolInputError(over)
                return b"".join(chunks)[:max_bytes], True
    except zlib.error as exc:
        raise ToolInputError(f"{label}: undecodable {response.headers['content-encoding']} "
                             f"body: {exc}") from exc
    except httpx.HTTPError as exc:
        raise ToolError(f"{label} failed reading the body: {type(exc).__name__}: {exc}") from exc
    return b"".join(chunks), False

