"""``python -m florai_ui.server``: Streamlit serving the page, with every server flag set here, once.

The image's entry point and the local launcher both start the UI through ``streamlit_argv``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from florai_ui import contract
from florai_ui.oidc import write_auth_secrets
from florai_ui.settings import SettingsError, load_settings

APP_SCRIPT = Path(__file__).with_name("app.py")
PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def streamlit_argv(port: int = contract.UI_PORT, address: str = "0.0.0.0") -> list[str]:
    return [
        sys.executable, "-m", "florai_ui.streamlit_main", "run", str(APP_SCRIPT),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--server.maxUploadSize", str(contract.MAX_UPLOAD_MIB),
        "--server.enableXsrfProtection", "true",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
        "--client.showErrorDetails", "none",
    ]  # fmt: skip


def streamlit_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for Streamlit: the package importable even when it is not installed (a checkout)."""
    env = dict(os.environ if base is None else base)
    paths = [str(PACKAGE_PARENT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def main() -> None:
    try:
        write_auth_secrets(load_settings(), Path(os.environ.get("HOME", "/tmp")))
    except SettingsError as exc:
        sys.exit(f"florai_ui: {exc}")
    port = int(os.environ.get("FLORAI_UI_PORT", contract.UI_PORT))
    address = os.environ.get("FLORAI_UI_ADDRESS", "0.0.0.0")
    argv = streamlit_argv(port, address)
    os.execve(argv[0], argv, streamlit_env())


if __name__ == "__main__":
    main()
