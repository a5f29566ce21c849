"""Serve the sample site on loopback with waitress (threaded, HTTP/1.1 keep-alive, several sockets).

Why waitress: it is already a pinned dependency, runs plain WSGI in a thread pool (so the one slow
page never blocks the others), keeps connections alive, and accepts pre-bound sockets, which lets
us listen on 127.0.0.1-127.0.0.6 on the same port and report a busy port as a one-line error
before anything starts. Twisted (Scrapy's MockServer) would work too, but would tie the site to a
reactor the crawler tests also run.
"""

from __future__ import annotations

import errno
import http
import json
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sample_site.core import SOURCE_HOSTS, SOURCES
from sample_site.epochs import MAX_EPOCH
from sample_site.gate import Gate, gate_from_env
from sample_site.scale import check_scale
from sample_site.site import Response, Site, warm

THREADS = 16


class SampleSiteError(Exception):
    """A problem the user can fix (busy port, unavailable address, bad epoch or scale); one line."""


def _bind_one(ip: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((ip, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _error_for(exc: OSError, ip: str, port: int) -> SampleSiteError:
    if exc.errno == errno.EADDRINUSE:
        return SampleSiteError(f"port {port} on {ip} is already in use; pick another with --port")
    if exc.errno == errno.EADDRNOTAVAIL:
        return SampleSiteError(f"address {ip} is not available on this machine; pick a local address with --host")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return SampleSiteError(f"port {port} on {ip} needs more privileges; pick one above 1023 with --port")
    if isinstance(exc, socket.gaierror):
        return SampleSiteError(f"unknown host {ip!r}; use an IP address such as 127.0.0.1 with --host")
    return SampleSiteError(f"cannot listen on {ip}:{port}: {exc.strerror or exc}")


def bind_sockets(host: str, port: int) -> tuple[dict[str, socket.socket], int]:
    """Listen on the portal host and (for 127.0.0.1) every source's loopback host, all on one port."""
    multi = host == "127.0.0.1"
    names = list(SOURCE_HOSTS) if multi else ["portal"]
    for _attempt in range(50):
        bound: dict[str, socket.socket] = {}
        first_ip = host if not multi else SOURCE_HOSTS["portal"]
        try:
            bound["portal"] = _bind_one(first_ip, port)
        except OSError as exc:
            raise _error_for(exc, first_ip, port) from None
        actual = bound["portal"].getsockname()[1]
        try:
            for name in names[1:]:
                ip = SOURCE_HOSTS[name]
                try:
                    bound[name] = _bind_one(ip, actual)
                except OSError as exc:
                    if port == 0 and exc.errno == errno.EADDRINUSE:
                        raise _Retry from None
                    raise _error_for(exc, ip, actual) from None
        except _Retry:
            for s in bound.values():
                s.close()
            continue
        except SampleSiteError:
            for s in bound.values():
                s.close()
            raise
        return bound, actual
    raise SampleSiteError(f"could not find a free port shared by 127.0.0.1-127.0.0.6 near {port}; pick one with --port")


class _Retry(Exception):
    pass


def base_urls(host: str, port: int) -> tuple[dict[str, str], bool]:
    """Base URL of the portal and of each source, and whether everything is on one host."""
    multi = host == "127.0.0.1"
    if multi:
        return {name: f"http://{ip}:{port}" for name, ip in SOURCE_HOSTS.items()}, False
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else (f"[{host}]" if ":" in host else host))
    url = f"http://{shown}:{port}"
    return {name: url for name in ("portal", *SOURCES)}, True


class AccessLog:
    """JSON-lines access log: time (start, epoch seconds), client, host, method, path, status, user_agent, duration."""

    def __init__(self, path: str) -> None:
        self._fh = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed by close()
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        """Append one record."""
        line = json.dumps(record, ensure_ascii=False)
        with self._lock:
            self._fh.write(line + "\n")

    def close(self) -> None:
        """Flush and close."""
        with self._lock:
            self._fh.close()


def make_app(site: Site, log: AccessLog | None, gate: Gate | None = None) -> Callable:
    """The WSGI application around ``Site.respond`` (requests under a closed ``gate`` wait for it first)."""

    def app(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        admitted = gate is None or gate.admit(path)
        started = time.time()
        method = environ.get("REQUEST_METHOD", "GET")
        query = environ.get("QUERY_STRING", "")
        host = environ.get("HTTP_HOST")

        def header(name: str) -> str | None:
            return environ.get("HTTP_" + name.upper().replace("-", "_"))

        try:
            resp = site.respond(method, host, path, query, header) if admitted else _REFUSED
        except Exception:  # noqa: BLE001 - a server must answer; the traceback goes to stderr
            import traceback

            traceback.print_exc()
            body = b"<h1>500 Internal Server Error</h1>"
            start_response("500 Internal Server Error", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
            return [body]
        if resp.delay:
            time.sleep(resp.delay)
        try:
            phrase = http.HTTPStatus(resp.status).phrase
        except ValueError:
            phrase = "Status"
        start_response(f"{resp.status} {phrase}", resp.headers)
        if log is not None:
            log.write({
                "time": round(started, 6), "client": environ.get("REMOTE_ADDR"), "host": host, "method": method,
                "path": path + ("?" + query if query else ""), "status": resp.status,
                "user_agent": environ.get("HTTP_USER_AGENT"), "duration": round(time.time() - started, 6),
                "bytes": len(resp.body),
            })
        return [resp.body]

    return app


_REFUSED_BODY = b"refused at the test gate\n"
_REFUSED = Response(503, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(_REFUSED_BODY)))],
                    _REFUSED_BODY)
"""The answer to a request the gate refuses (``sample_site.gate``)."""


def serve(host: str, port: int, epoch: int, faults: bool, access_log: str | None,
          announce: Callable[[str], None], scale: int = 1, stale_lastmod: bool = False) -> None:
    """Serve the sample site until interrupted; calls announce(base_url) once it is listening and ready.

    ``scale`` (1-50) serves N times the programs and reviews (``sample_site.scale``). With
    ``SAMPLE_SITE_GATE`` set, a test can hold requests at a gate (``sample_site.gate``).
    ``stale_lastmod``: the sitemaps' lastmod never moves past the first epoch's date (a site
    whose sitemaps lie; its HTTP Last-Modified stays true).
    """
    import waitress

    if not isinstance(epoch, int) or epoch < 1 or epoch > MAX_EPOCH:
        raise SampleSiteError(f"epoch must be a whole number from 1 to {MAX_EPOCH}, got {epoch!r}")
    try:
        check_scale(scale)
    except ValueError as exc:
        raise SampleSiteError(str(exc)) from None
    sockets, actual = bind_sockets(host, port)
    base, single = base_urls(host, actual)
    log = None
    try:
        if access_log:
            try:
                log = AccessLog(access_log)
            except OSError as exc:
                raise SampleSiteError(f"cannot write the access log {access_log}: {exc.strerror}") from None
        warm(epoch, scale)
        site = Site(epoch, faults, base, single_host=single, scale=scale, stale_lastmod=stale_lastmod)
        server = waitress.create_server(
            make_app(site, log, gate_from_env()), sockets=list(sockets.values()), threads=THREADS, connection_limit=2000,
            channel_timeout=120, ident="sample-site", asyncore_use_poll=True, clear_untrusted_proxy_headers=True,
        )
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _raise_interrupt)
        announce(base["portal"])
        try:
            server.run()
        finally:
            server.close()
    finally:
        for s in sockets.values():
            try:
                s.close()
            except OSError:
                pass
        if log is not None:
            log.close()


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
