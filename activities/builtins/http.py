"""HTTP tools: a general request and a page fetched as readable text, both under the egress
policy and caps of ``activities.net``."""

from __future__ import annotations

import contextlib
import json
from html.parser import HTMLParser
from typing import Any, Literal

from pydantic import BaseModel

from activities.errors import ToolError, ToolInputError
from activities.net.exchange import Fetched, exchange, with_idempotency_key
from planner.retry import RetrySpec
from planner.tools import Risk, ToolContext, ToolRegistry, tool_from_function

MAX_BODY_CHARS = 200_000


class HttpResponse(BaseModel):
    status: int
    headers: dict[str, str]
    body: Any
    url: str


class PageText(BaseModel):
    url: str
    status: int
    title: str
    text: str
    truncated: bool = False


async def _send(ctx: ToolContext, method: str, url: str, timeout_s: float, *,
                too_large: Literal["error", "truncate"] = "error", **kwargs: Any) -> Fetched:
    """The exchange under the egress policy and caps; 5xx, 408 and 429 raise to be retried."""
    response = await exchange(method, url, allow=ctx.egress_allow, timeout_s=timeout_s,
                              max_bytes=ctx.http_max_bytes, too_large=too_large, **kwargs)
    if response.status >= 500 or response.status in (408, 429):
        raise ToolError(f"{method} {url} returned {response.status} (will retry)")
    return response


async def http_request(
    url: str,
    ctx: ToolContext,
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET",
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    json_body: Any = None,
    timeout_s: float = 30.0,
    fail_on_4xx: bool = True,
) -> HttpResponse:
    """Send an HTTP request and return status, headers and body (parsed JSON when it is JSON).

    5xx, 408 and 429 responses are retried; other 4xx fail the step unless fail_on_4xx is false.
    Internal addresses are refused unless allowed (JARVIS_EGRESS_ALLOW); methods with effects
    carry the step's Idempotency-Key header.
    """
    response = await _send(ctx, method, url, timeout_s, params=params, json_body=json_body,
                           headers=with_idempotency_key(headers, method, ctx.idempotency_key))
    if fail_on_4xx and 400 <= response.status < 500:
        raise ToolInputError(f"{method} {url} returned {response.status}: "
                             f"{response.text[:200]}")
    body: Any = response.text[:MAX_BODY_CHARS]
    if "json" in response.headers.get("content-type", ""):
        with contextlib.suppress(ValueError):
            body = json.loads(response.text)
    return HttpResponse(status=response.status, headers=dict(response.headers), body=body,
                        url=response.url)


class _TextExtractor(HTMLParser):
    SKIP = {"script", "style", "noscript", "template", "svg"}
    BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
             "article", "header", "footer", "pre", "blockquote", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self.SKIP:
            self._skip += 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)


def html_to_text(html: str) -> tuple[str, str]:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.title.strip(), parser.text()


async def fetch_page(url: str, ctx: ToolContext, max_chars: int = 20_000,
                     timeout_s: float = 30.0) -> PageText:
    """Fetch a web page and return its title and readable text (scripts and styles removed).
    Internal addresses are refused unless allowed (JARVIS_EGRESS_ALLOW); ``truncated`` says the
    text is not the whole page (cut at max_chars or at the byte cap)."""
    response = await _send(ctx, "GET", url, timeout_s, too_large="truncate")
    if response.status >= 400:
        raise ToolInputError(f"GET {url} returned {response.status}")
    kind = response.headers.get("content-type", "")
    if "html" in kind or not kind:
        title, text = html_to_text(response.text)
    else:
        title, text = "", response.text
    return PageText(url=response.url, status=response.status, title=title,
                    text=text[:max_chars], truncated=response.truncated or len(text) > max_chars)


def register(registry: ToolRegistry) -> None:
    retry = RetrySpec(max_attempts=4, initial_interval_s=0.5)
    registry.register(tool_from_function(http_request, risk=Risk.SIDE_EFFECTING,
                                         idempotent=False, timeout_s=60, retry=retry))
    registry.register(tool_from_function(fetch_page, timeout_s=60, retry=retry))
