"""Learning from experience (guide 6.9, "learn from the experience"): histories of the
case-state events, the chance baseline, skill against it, timing and plots.

Pure computation over the domain's values; the services read the cases and hand the
results to the faces.  Only cvdesk.domain and this package are imported here
(tests/test_layers.py).
"""
