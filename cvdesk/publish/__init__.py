"""Publication (issue 10): the advisory built from a case, and its formats.

``build`` turns a case into a ``cvdesk.domain.advisory.Advisory``; each format module
writes that one value (CSAF 2.0, CVE record 5, OSV, Markdown and HTML) and validates
what it wrote offline, before anything reaches a file.  Nothing here touches storage
or the network: services/ decide when to publish and record it.
"""
