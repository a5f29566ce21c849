"""collegesearch: the settings, the command line and the demo that tie the layers together.

The version is written once, in ``pyproject.toml``; everything else reads it from the installed
package's metadata.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("collegesearch")
except PackageNotFoundError:  # running from a checkout that was never installed (`make` installs it)
    __version__ = "0+unknown"
