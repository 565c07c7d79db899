"""healops dashboard: serve the dashboard of a deployed stack on 127.0.0.1, in the foreground (Ctrl-C stops).

healops up starts one already; this is for a stack reached by endpoint (LocalStack, another machine's embedded
cloud through a tunnel) or an installation without a checkout (pipx install 'healops[dashboard]'). The stack is
the one at --endpoint-url, else the one healops up started here, else the one at $AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from healops import paths
from healops.cli.target import add_target_arguments, resolve_target


def add_parser(sub: Any) -> None:
    dashboard = sub.add_parser(
        "dashboard",
        help="serve a deployed stack's dashboard on 127.0.0.1 (in the foreground)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_target_arguments(dashboard)
    dashboard.add_argument("--port", type=int, default=8050, help="port on 127.0.0.1 (0: a free one); default 8050")
    dashboard.add_argument(
        "--token-file",
        type=Path,
        help="where the write token (approve / deny) is kept, created 0600 if missing (default: dashboard.token in "
        "the state directory in a checkout, else ~/.healops/dashboard.token)",
    )
    dashboard.add_argument(
        "--time-scale", type=float, help="the stack's time scale (default: the running healops up's, else 1)"
    )


def default_token_file() -> Path:
    """The state directory's token in a checkout (the one healops up writes), else one in the home directory."""
    if os.environ.get("HEALOPS_STATE_DIR") or paths.TERRAFORM_DIR.is_dir():
        return paths.state_dir() / "dashboard.token"
    return Path.home() / ".healops" / "dashboard.token"


def run_dashboard(args: argparse.Namespace) -> int:
    # Flask (the dashboard extra) first: a missing extra is named before any endpoint is reached.
    from healops.dashboard import create_app  # noqa: F401
    from healops.dashboard.__main__ import main as serve

    target = resolve_target(args.endpoint_url, args.name_prefix)
    time_scale = args.time_scale
    if time_scale is None:
        time_scale = float(target.local_stack["time_scale"]) if target.local_stack else 1.0

    return serve(
        [
            "--endpoint",
            target.endpoint_url,
            "--name-prefix",
            args.name_prefix,
            "--port",
            str(args.port),
            "--token-file",
            str(args.token_file or default_token_file()),
            "--time-scale",
            f"{time_scale:g}",
        ]
    )
