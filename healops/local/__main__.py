from __future__ import annotations

import sys

from healops.local.server import main

sys.exit(main())
