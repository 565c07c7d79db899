"""The lines the processes `healops up` starts print once they serve, and the starter waits for.

Kept apart from both sides: the embedded cloud and the dashboard print them, healops.deploy.processes reads them,
and neither side need import the other (the embedded cloud needs the local extra, moto; the dashboard, flask).
"""

from __future__ import annotations

EMBEDDED_CLOUD_READY = "healops-embedded-cloud ready"
# Printed as the embedded cloud stops when its last snapshot could not be written (`healops down` says so).
EMBEDDED_CLOUD_NOT_SAVED = "healops-embedded-cloud state not saved:"
DASHBOARD_READY = "healops dashboard listening on"
