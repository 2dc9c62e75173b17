"""``metrics timing`` and ``metrics import``: added to the metrics group."""

from __future__ import annotations

from cvdesk.cli.metrics import metrics_app  # noqa: F401  (commands are added to it)
