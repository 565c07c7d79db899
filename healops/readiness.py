"""The lines the processes `healops up` starts print once they serve, and the starter waits for.

Kept apart from both sides: the embedded cloud and the dashboard print them, healops.deploy.processes reads them,
and neither side need import the other (the embedded cloud needs the local extra, moto; the dashboard, flask).
"""

from __future__ import annotations

EMBEDDED_CLOUD_READY = "healops-embedded-cloud ready"
DASHBOARD_READY = "healops dashboard listening on"
