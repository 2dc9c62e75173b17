"""Troubleshooting (CERT guide section 6): rules that find what goes wrong in a case."""

from cvdesk.troubleshoot.engine import Diagnosis, diagnose
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules import RULES

__all__ = ["RULES", "Action", "Diagnosis", "Finding", "Phase", "Severity", "Verdict",
           "diagnose"]
