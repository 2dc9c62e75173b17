"""The web face (issue 11): pages and the REST API over the services.  It imports only
services, settings, the composition root and the domain's values (tests/test_layers.py)."""
