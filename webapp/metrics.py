"""``/metrics`` in the Prometheus text format: request, search and render latency, cache hits, crawls and the index.

Per-request numbers (latency per endpoint, search time, results-page render time, cache hits) are
recorded by ``webapp.instruments``. Under ``collegesearch serve`` every gunicorn worker writes them
to files in ``PROMETHEUS_MULTIPROC_DIR`` (``webapp/serve.py`` sets it up) and a scrape sums the files
of all workers; under ``flask run`` or the test client the default registry holds them.
Shared state (crawl runs, index generation and lag) is read at scrape time by ``ops.metrics``.

``/metrics`` answers addresses in ``METRICS_ALLOW`` (after ProxyFix, as rate limits see them) and a
logged-in admin; anyone else gets 403.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from webapp import instruments

bp = Blueprint("metrics", __name__)


def init_app(app: Flask) -> None:
    """Record this process's metrics and register ``/metrics``."""
    instruments.init_app(app)
    app.register_blueprint(bp)


def client_allowed(address: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether ``address`` is one of the addresses or inside one of the networks in ``allowed``."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket reports 127.0.0.1 as ::ffff:127.0.0.1
    return any(ip in ipaddress.ip_network(net, strict=False) for net in allowed)


class _DefaultMetrics(Collector):
    """This process's own metrics, as one collector of a scrape's registry."""

    def collect(self) -> Iterator[Metric]:
        """Everything in prometheus-client's default registry."""
        yield from REGISTRY.collect()


@bp.get("/metrics")
def metrics() -> Response:
    """The metrics in the Prometheus text format (403 unless the client is allowed or an admin)."""
    from ops.metrics import CatalogCollector
    from webapp.admin import is_admin
    from webapp.db import get_catalog

    settings = current_app.config["SETTINGS"]
    allowed = settings.METRICS_ALLOW
    if not (client_allowed(request.remote_addr, allowed) or is_admin()):
        abort(403, description="Metrics are open to the addresses in COLLEGESEARCH_METRICS_ALLOW and to a "
                               "logged-in admin.")
    # A registry per scrape: the shared-state collector reads the catalog of this request, and
    # auto_describe=False keeps the registry from collecting everything twice to learn metric names.
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_DefaultMetrics())
    registry.register(CatalogCollector(settings, lambda: get_catalog() if settings.catalog_exists else None))
    # The classic text format, or OpenMetrics when the scraper asks for it (as Prometheus does).
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = Response(encode(registry))
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = "no-store"
    return response
