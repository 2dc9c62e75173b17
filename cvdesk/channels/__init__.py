"""Channels to the outside: guarded HTTP fetching, security.txt, (later) e-mail and OpenPGP."""
