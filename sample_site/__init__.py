"""The bundled sample site: local copies of real site structures, built from real public data.

``python -m sample_site`` (or ``collegesearch sample-site``) serves it on loopback; ``sample_site.truth``
holds the ground truth the tests compare crawls with. See ``sample_site/server.py`` for the URL map.
"""
