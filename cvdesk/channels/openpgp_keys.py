"""Vendors' OpenPGP public keys: read safely, checked once when filed, used to encrypt.

A key reaches the desk as text from outside (a `pgp-key` contact's ``armored`` detail in a
directory file).  PGPy reads armoured text with a regular expression that backtracks
exponentially on some inputs that are not well formed (README, security.txt checks:
twenty blank lines after a "BEGIN PGP SIGNED MESSAGE" line take a third of a second,
each further line about doubles it, and the interpreter lock is held throughout).  So
PGPy is never shown the armour: the block is taken apart here, in one pass, and PGPy
gets the binary packets, which it reads without that expression (binary OpenPGP data
starts with a byte whose high bit is set, so PGPy cannot mistake it for armour).
"""

from __future__ import annotations

import base64
import binascii
import warnings
from typing import Any

from cvdesk.channels.openpgp import OpenPGPError, _why

#: The longest armoured key read.  A key with its user ids and a few signatures is a
#: few kilobytes; one carrying years of third-party signatures can be a few hundred.
MAX_KEY_CHARS = 512 * 1024

_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
_END = "-----END PGP PUBLIC KEY BLOCK-----"
_PRIVATE = "-----BEGIN PGP PRIVATE KEY BLOCK-----"


def key_packets(armoured: str) -> bytes:
    """The binary packets of the first armoured public-key block in ``armoured``
    (RFC 9580 6.2: armour headers, then base64 lines, then an optional checksum line)."""
    if len(armoured) > MAX_KEY_CHARS:
        raise OpenPGPError(f"longer than {MAX_KEY_CHARS // 1024} KiB")
    begin = armoured.find(_BEGIN)
    if begin < 0:
        if _PRIVATE in armoured:
            raise OpenPGPError("a private key: give the vendor's public key only")
        raise OpenPGPError(f"no '{_BEGIN}' line")
    end = armoured.find(_END, begin)
    if end < 0:
        raise OpenPGPError(f"no '{_END}' line")
    lines = armoured[begin + len(_BEGIN):end].strip("\r\n").splitlines()
    while lines and lines[0].strip() and ":" in lines[0]:
        lines.pop(0)  # armour headers (Version:, Comment:)
    body = [line.strip() for line in lines if line.strip()]
    if body and body[-1].startswith("=") and len(body[-1]) == 5:
        body.pop()  # the CRC-24 line, which RFC 9580 says not to reject a key on
    try:
        packets = base64.b64decode("".join(body).encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise OpenPGPError("the armoured block is damaged (not base64 text)") from None
    if not packets or not packets[0] & 0x80:  # every OpenPGP packet header has bit 7 set
        raise OpenPGPError("the armoured block holds no OpenPGP packets")
    return packets


def public_key(armoured: str, *, trial: bool = True) -> Any:
    """PGPy's key for an armoured public key; with ``trial``, one that a message can be
    encrypted to (itself or a subkey).  OpenPGPError says what is wrong with any other."""
    packets = key_packets(armoured)
    from pgpy_dtc import PGPKey, PGPMessage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PGPy warns about preferences and old ciphers
        try:
            key, _ = PGPKey.from_blob(packets)
        except Exception as exc:  # PGPy raises many kinds on damaged data
            raise OpenPGPError(f"not a readable OpenPGP key ({_why(exc)})") from None
        if not key.is_public:
            raise OpenPGPError("a private key: give the vendor's public key only")
        if trial:  # the one thing the desk does with it
            try:
                key.encrypt(PGPMessage.new("test"))
            except Exception as exc:
                raise OpenPGPError(f"cannot encrypt to this key ({_why(exc)})") from None
    return key


def check_public_key(armoured: str) -> str:
    """``armoured`` unchanged, once ``public_key`` has read it (raises OpenPGPError)."""
    public_key(armoured)
    return armoured


def encrypt(armoured: str, text: str) -> str:
    """``text`` encrypted to the key, as an armoured OpenPGP message."""
    from pgpy_dtc import PGPMessage

    key = public_key(armoured, trial=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return str(key.encrypt(PGPMessage.new(text)))
        except Exception as exc:
            raise OpenPGPError(f"cannot encrypt to this key ({_why(exc)})") from None
