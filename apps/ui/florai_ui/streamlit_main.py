"""Streamlit's own command line in this process, after the metrics endpoint is up.

The page script runs only when a browser opens the page; a metrics server started from it would
leave the ServiceMonitor (and `make up`'s Prometheus) scraping a closed port until the first visit.
Started here, it answers from the first second; the page's own call to ``metrics.serve`` then finds it
running (one server per process).
"""

from __future__ import annotations

import sys

from florai_ui import metrics
from florai_ui.settings import SettingsError, load_settings


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"florai_ui: {exc}")
    if settings.metrics_port:
        metrics.serve(settings.metrics_port, settings.metrics_addr)
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
