"""``collegesearch serve``: the web app under gunicorn (a production WSGI server), in the foreground.

The app is built once in the gunicorn master (``preload_app``) so a broken setting fails before any
worker starts; each worker then opens its own catalog connections and its own shared searcher.
For development, ``flask --app webapp run`` still works.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Any

from collegesearch.config import ConfigError, Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class ServeError(RuntimeError):
    """The server cannot start (port in use, bad address, broken settings); the message says what to fix."""


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``bind`` value (IPv6 addresses in brackets)."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def check_port(host: str, port: int) -> None:
    """Fail early with a one-line message when the address is bad or the port is taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ServeError(f"cannot listen on {host}:{port}: {host!r} is not a usable address ({reason}); "
                         "use an IP address such as 127.0.0.1 or 0.0.0.0 with --host") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # Same options as gunicorn, so a port in TIME_WAIT is not reported as busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
            sock.listen(1)
        except PermissionError:
            raise ServeError(f"cannot listen on {host}:{port}: permission denied (ports below 1024 need "
                             "privileges); choose another port with --port") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"port {port} on {host} is already in use; stop the other server or choose "
                                 "another port with --port") from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ServeError(f"cannot listen on {host}:{port}: this machine has no such address; "
                                 "use 127.0.0.1 or 0.0.0.0 with --host") from None
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def gunicorn_options(settings: Settings, host: str, port: int, workers: int) -> dict[str, Any]:
    """The gunicorn settings we run with."""
    options: dict[str, Any] = {
        "bind": [bind_address(host, port)],
        "workers": workers,
        # Threads let a worker serve the page's CSS and JS while another request waits on a slow client;
        # the shared Searcher and the per-request catalog connections are thread-safe.
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "graceful_timeout": 20,
        "keepalive": 5,
        "preload_app": True,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": settings.LOG_LEVEL.lower(),
        "proc_name": "collegesearch-web",
        # gunicorn's control socket defaults to one path per user: two servers would fight over it.
        "control_socket_disable": True,
        # Bounded request lines and headers: hostile clients get a 4xx from gunicorn itself.
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }
    if settings.LOG_FORMAT == "json":
        options["logconfig_dict"] = json_log_config(settings.LOG_LEVEL)
    return options


def json_log_config(level: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict`` for LOG_FORMAT=json: its error and access logs and the app's, as JSON lines.

    Same streams as the text logs (errors on stderr, the access log on stdout); every line gets the
    request id where there is one (``webapp.request_id``).
    """
    def stream(name: str) -> dict[str, Any]:
        return {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"],
                "stream": f"ext://sys.{name}"}

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "ops.log_setup.JsonLogFormatter"}},
        "filters": {"request_id": {"()": "webapp.request_id.RequestIdFilter"}},
        "handlers": {"stderr": stream("stderr"), "stdout": stream("stdout")},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
            # Flask gives its app logger ("webapp") a text handler of its own when it sees none above it.
            "webapp": {"handlers": [], "propagate": True},
        },
    }


def metrics_dir(settings: Settings) -> Path:
    """Where the gunicorn workers keep their Prometheus metrics: PROMETHEUS_MULTIPROC_DIR, else DATA_DIR/metrics."""
    given = os.environ.get(MULTIPROC_ENV)
    return Path(given) if given else settings.data_dir / "metrics"


def prepare_metrics_dir(settings: Settings) -> Path:
    """Create the metrics folder, empty it of an earlier server's files, and point prometheus-client at it."""
    folder = metrics_dir(settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Counts left by the workers of a previous server would be added to this one's.
        for stale in folder.glob("*.db"):
            stale.unlink()
    except OSError as exc:
        raise ServeError(f"cannot prepare the metrics folder {folder}: {exc.strerror or exc}; make DATA_DIR "
                         f"writable or set {MULTIPROC_ENV} to a writable folder") from None
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def worker_exited(server: Any, worker: Any) -> None:
    """gunicorn's child_exit hook: a dead worker's live gauges stop counting (its counters are kept)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def serve_app(settings: Settings, host: str, port: int, workers: int) -> None:
    """Run the app under gunicorn with ``workers`` processes until stopped (Ctrl-C or SIGTERM)."""
    from gunicorn.app.base import BaseApplication

    from catalog import CatalogError
    from webapp import AppConfigError, create_app

    if not 1 <= int(workers) <= 64:
        raise ServeError(f"workers must be from 1 to 64, got {workers}")
    check_port(host, port)
    # Before the app (and with it prometheus-client) is imported: the library picks its
    # multiprocess value class when first imported, in this master, and the workers inherit it.
    prepare_metrics_dir(settings)
    try:
        app = create_app({"SETTINGS": settings})
    except (AppConfigError, ConfigError, CatalogError) as exc:
        raise ServeError(str(exc)) from None
    options = gunicorn_options(settings, host, port, workers)

    class Server(BaseApplication):  # type: ignore[misc]
        """gunicorn embedded: our options, our already-built app."""

        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)
            self.cfg.set("child_exit", worker_exited)

        def load(self) -> Any:
            return app

    print(f"collegesearch web app on http://{bind_address(host, port)}/ ({workers} worker"
          f"{'' if workers == 1 else 's'}; Ctrl-C to stop)", flush=True)
    Server().run()
