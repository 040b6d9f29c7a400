"""A real HTTP server on 127.0.0.1 for the fetching tests and the benchmark.

Each :class:`Site` is one ``ThreadingHTTPServer`` on its own port (a "host" for briefwatch's
per-host limits), serving HTTP/1.1 with keep-alive from a table of routes that a test can
change between runs (a page that changes, disappears, comes back). Every request is logged
with its headers and start/end times, and the server counts how many requests were in
flight at once.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What the server answers: status, headers, body, and optional delays."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    trickle: float = 0.0  # seconds between body chunks of 1 KiB (a slow body)
    content_length: bool = True  # False: no Content-Length, the connection closes after


@dataclass
class Seen:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    start: float
    end: float = 0.0


Route = Reply | Callable[[Seen, int], Reply]  # a callable gets the request and its number


def html(title: str, *paragraphs: str, canonical: str | None = None) -> bytes:
    """A small article page."""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html><head><title>{title}</title>{link}</head><body>"
            f"<main><article><h1>{title}</h1>{body}</article></main></body></html>").encode()


def page(body: bytes, *, etag: str | None = None, last_modified: str | None = None,
         content_type: str = "text/html; charset=utf-8") -> Route:
    """A page that answers conditional requests: 304 when the client's ETag or
    If-Modified-Since matches."""
    headers = {"Content-Type": content_type}
    if etag:
        headers["ETag"] = etag
    if last_modified:
        headers["Last-Modified"] = last_modified

    def route(seen: Seen, number: int) -> Reply:
        del number
        if etag and seen.headers.get("if-none-match") == etag:
            return Reply(304, b"", dict(headers))
        if not etag and last_modified and seen.headers.get("if-modified-since") == last_modified:
            return Reply(304, b"", dict(headers))
        return Reply(200, body, dict(headers))

    return route


def sequence(*replies: Reply) -> Route:
    """Answer the first request with the first reply, and so on; then the last one."""

    def route(seen: Seen, number: int) -> Reply:
        del seen
        return replies[min(number, len(replies) - 1)]

    return route


def gzip_bomb(decompressed: int) -> Reply:
    """A 200 whose gzip body inflates to ``decompressed`` bytes of zeros."""
    return Reply(200, gzip.compress(b"\0" * decompressed, compresslevel=9),
                 {"Content-Type": "text/html", "Content-Encoding": "gzip"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (a fetch giving up on a body) are not worth a traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Site:
    """One HTTP server on 127.0.0.1 (a host of its own); use as a context manager."""

    def __init__(self, host: str = "127.0.0.1", latency: float = 0.0) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.latency = latency  # added before every answer
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without this, Nagle's algorithm holds
            # the body until the client's delayed ACK (~40 ms per keep-alive request)
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                site._handle(self)

        self.server = _Server((host, 0), Handler)
        self.host, self.port = self.server.server_address[:2]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def route(self, path: str, reply: Route) -> str:
        """Serve ``reply`` at ``path``; returns the full URL."""
        self.routes[path] = reply
        return self.url(path)

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        seen = Seen(handler.path, {k.lower(): v for k, v in handler.headers.items()},
                    time.monotonic())
        with self._lock:
            self.seen.append(seen)
            number = self._counts.get(handler.path, 0)
            self._counts[handler.path] = number + 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            route = self.routes.get(handler.path)
            if route is None:
                reply = Reply(404, b"<html><body>not found</body></html>",
                              {"Content-Type": "text/html"})
            elif isinstance(route, Reply):
                reply = route
            else:
                reply = route(seen, number)
            self._send(handler, reply)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self._lock:
                self.in_flight -= 1
                seen.end = time.monotonic()

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if self.latency or reply.delay:
            time.sleep(self.latency + reply.delay)
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.content_length:
            handler.send_header("Content-Length", str(len(reply.body)))
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        if not reply.trickle:
            handler.wfile.write(reply.body)
            return
        for start in range(0, len(reply.body), 1024):
            handler.wfile.write(reply.body[start:start + 1024])
            handler.wfile.flush()
            time.sleep(reply.trickle)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Site:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
