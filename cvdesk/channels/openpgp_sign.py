"""Detached OpenPGP signatures with the desk's own key (issue 10; CSAF 2.0 7.1.19).

A CSAF provider directory puts ``<file>.json.asc`` next to each document, so that
anyone who fetched the advisory can check that the desk issued it and that nothing
changed it on the way.  The key is the one the desk reads encrypted mail with
(``mail.private_key_file``): one desk, one published key.  Kept apart from
``openpgp.py``, which only takes messages apart.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

from cvdesk.channels.openpgp import OpenPGPError, _why


def signer(key_file: str, passphrase: str) -> Callable[[bytes], bytes]:
    """A function signing bytes with the key in ``key_file``; the key is read and
    unlocked here, once, so a wrong file or passphrase is reported before anything is
    signed."""
    try:
        armoured = Path(key_file).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise OpenPGPError(f"the desk's private key file cannot be read ({key_file}: "
                           f"{_why(exc)})") from None
    # PGPy warns about algorithm preferences and its use of deprecated ciphers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgpy_dtc import PGPKey

        try:
            key, _ = PGPKey.from_blob(armoured)
        except Exception as exc:  # PGPy raises many kinds on a damaged key
            raise OpenPGPError(f"the desk's private key cannot be read ({_why(exc)})"
                               ) from None
        if key.is_public:
            raise OpenPGPError(f"{key_file} holds a public key; signing needs the "
                               "private key")
        if key.is_protected:
            try:
                with key.unlock(passphrase):
                    pass
            except Exception:
                raise OpenPGPError("the desk's private key cannot be unlocked with the "
                                   "passphrase given (mail.passphrase)") from None

    def sign(data: bytes) -> bytes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if key.is_protected:
                    with key.unlock(passphrase):
                        signature = key.sign(bytes(data))
                else:
                    signature = key.sign(bytes(data))
            except Exception as exc:
                raise OpenPGPError(f"cannot sign with the desk's key ({_why(exc)})"
                                   ) from None
        return str(signature).encode("ascii")

    return sign


def sign_detached(data: bytes, key_file: str, passphrase: str) -> bytes:
    """An ASCII-armoured detached signature of ``data`` (a binary-document signature,
    so the bytes are signed as they are, line ends included)."""
    return signer(key_file, passphrase)(data)
