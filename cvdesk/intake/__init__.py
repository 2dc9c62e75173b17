"""Intake: turning report forms from files (and later the web form, API and e-mail) into reports."""

from cvdesk.intake.report_form import FormError, load_report_file, parse_report

__all__ = ["FormError", "load_report_file", "parse_report"]
