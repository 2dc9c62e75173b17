"""Intake: turning report forms from files (and later the web form, API and e-mail) into reports."""

from cvdesk.intake.report_form import (
    LIMITS,
    FormError,
    load_report_bytes,
    load_report_file,
    parse_report,
)

__all__ = ["LIMITS", "FormError", "load_report_bytes", "load_report_file", "parse_report"]
