"""Decrypting an OpenPGP message addressed to the desk, within a size limit.

PGPy finds the session key and removes the symmetric layer.  The packets inside
(compressed data, literal data, one-pass signatures and signatures) are read here
instead of by PGPy, for two reasons: PGPy inflates compressed data with no limit, so a
few hundred kilobytes of mail could expand to gigabytes in memory; and PGPy hands back
binary literal data as a ``bytearray`` that was easy to mistake for text.

What GnuPG sends by default, and what happens to it:
- GnuPG 2.2: SEIPD v1 (tag 18, with MDC), ZLIB or ZIP compression, one literal packet;
  with ``--sign`` a one-pass signature and a signature around it.  Decrypted.
- GnuPG 2.3 and later: OCB (AEAD, tag 20) when the recipient key announces AEAD support,
  otherwise as 2.2.  PGPy cannot decrypt OCB, so such mail is refused with that reason
  (it is quarantined, not lost).  A desk key made by GnuPG 2.2 or PGPy does not announce
  AEAD, so senders fall back to SEIPD v1.
- RFC 9580 SEIPD v2 is refused the same way; tag 9 (no integrity protection) is refused
  because its plaintext can be altered undetected (GnuPG refuses it too).
Signatures are skipped, not verified.
"""

from __future__ import annotations

import base64
import bz2
import warnings
import zlib
from collections.abc import Sequence

PKESK, SIG, SKESK, OPS, COMPRESSED, SED, MARKER, LITERAL, SEIPD, MDC, AEAD = (
    1, 2, 3, 4, 8, 9, 10, 11, 18, 19, 20)
_MAX_NESTING = 4


class OpenPGPError(Exception):
    """The encrypted data cannot be read; the message says why."""


class TooLarge(OpenPGPError):
    pass


def decrypt(data: bytes, keys: Sequence[tuple[str, str]], *, max_bytes: int) -> bytes:
    """The literal data of an encrypted message (armoured or binary), at most ``max_bytes``.

    ``keys`` are (armoured private key, passphrase)."""
    binary = _dearmor(data)
    _check_envelope(binary)
    if not keys:
        raise OpenPGPError("encrypted, and the desk has no private key configured "
                           "(mail.private_key_file)")
    from pgpy_dtc import PGPKey, PGPMessage
    from pgpy_dtc.packet.packets import PKESessionKey

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            message = PGPMessage.from_blob(binary)
            recipients = set(message.encrypters)
            sessions = [p for p in message._sessionkeys if isinstance(p, PKESessionKey)]
        except Exception as exc:  # PGPy raises many kinds on damaged input
            raise OpenPGPError(f"the encrypted part cannot be read ({_why(exc)})") from None
        for armoured, passphrase in keys:
            try:
                key, _ = PGPKey.from_blob(armoured)
            except Exception as exc:
                raise OpenPGPError(f"the desk's private key cannot be read ({_why(exc)})"
                                   ) from None
            candidates = [key, *key.subkeys.values()]
            target = next((k for k in candidates if k.fingerprint.keyid in recipients), None)
            if target is None:
                continue
            try:
                if key.is_protected:
                    with key.unlock(passphrase):
                        plain = _open(message, sessions, target)
                else:
                    plain = _open(message, sessions, target)
            except OpenPGPError:
                raise
            except Exception as exc:
                raise OpenPGPError(f"cannot be decrypted with the desk's key ({_why(exc)})"
                                   ) from None
            return bytes(_literal(bytes(plain), max_bytes, 0))
    raise OpenPGPError("encrypted to a key the desk does not have")


def _open(message: object, sessions: list[object], target: object) -> bytearray:
    """The plaintext packets: PGPy's own steps in PGPKey.decrypt, minus its parsing."""
    keyid = target.fingerprint.keyid  # type: ignore[attr-defined]
    pkesk = next(p for p in sessions if p.encrypter == keyid)  # type: ignore[attr-defined]
    alg, session_key = pkesk.decrypt_sk(target._key)  # type: ignore[attr-defined]
    return message.message.decrypt(session_key, alg)  # type: ignore[attr-defined,no-any-return]


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _dearmor(data: bytes) -> bytes:
    """The binary packets of an armoured block (RFC 4880 6.2); the CRC line is not
    checked (RFC 9580 6.1 says not to reject on it), the MDC inside protects the data."""
    begin = data.find(b"-----BEGIN PGP MESSAGE-----")
    if begin < 0:
        return data
    lines = data[begin:].splitlines()[1:]
    while lines and lines[0].strip() and b":" in lines[0]:
        lines.pop(0)  # armour headers (Version:, Comment:)
    body = []
    for line in lines:
        line = line.strip()
        if line.startswith(b"-----END") or (line.startswith(b"=") and len(line) == 5):
            break
        body.append(line)
    try:
        return base64.b64decode(b"".join(body), validate=True)
    except ValueError as exc:
        raise OpenPGPError(f"the armoured OpenPGP block is damaged ({_why(exc)})") from None


def _check_envelope(binary: bytes) -> None:
    """Name what the desk cannot decrypt before PGPy gives a vaguer error."""
    tags = []
    pos = 0
    while pos < len(binary):
        tag, body, pos = _packet(binary, pos)
        tags.append(tag)
        if tag == AEAD:
            raise OpenPGPError("encrypted with AEAD/OCB (GnuPG 2.3 or later), which the "
                               "desk's OpenPGP library cannot decrypt; the sender can use "
                               "plain OpenPGP encryption, or the desk key can stop "
                               "announcing AEAD support")
        if tag == SEIPD and body[:1] == b"\x02":
            raise OpenPGPError("encrypted with SEIPD version 2 (RFC 9580), which the desk's "
                               "OpenPGP library cannot decrypt")
        if tag == SED:
            raise OpenPGPError("encrypted without integrity protection (no MDC); refused "
                               "because it could have been altered")
    if SEIPD not in tags:
        raise OpenPGPError("no encrypted data in the OpenPGP part")
    if PKESK not in tags:
        raise OpenPGPError("encrypted with a password only, not to the desk's key"
                           if SKESK in tags else "no recipient in the OpenPGP part")


def _packet(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, body, next position) of the packet at ``pos`` (RFC 4880 4.2, both formats)."""
    try:
        first = data[pos]
        if not first & 0x80:
            raise OpenPGPError("not OpenPGP packet data")
        pos += 1
        if first & 0x40:  # new format, maybe split into partial bodies
            tag = first & 0x3F
            chunks = []
            while True:
                o1 = data[pos]
                if o1 < 192:
                    size, pos = o1, pos + 1
                elif o1 < 224:
                    size, pos = ((o1 - 192) << 8) + data[pos + 1] + 192, pos + 2
                elif o1 == 255:
                    size, pos = int.from_bytes(data[pos + 1:pos + 5], "big"), pos + 5
                else:
                    size, pos = 1 << (o1 & 0x1F), pos + 1
                    chunks.append(data[pos:pos + size])
                    pos += size
                    continue
                chunks.append(data[pos:pos + size])
                pos += size
                break
            body = b"".join(chunks)
        else:
            tag, kind = (first >> 2) & 0x0F, first & 0x03
            if kind == 3:  # indeterminate: to the end
                size, pos = len(data) - pos, pos
            else:
                width = (1, 2, 4)[kind]
                size, pos = int.from_bytes(data[pos:pos + width], "big"), pos + width
            body = data[pos:pos + size]
            pos += size
    except IndexError:
        raise OpenPGPError("OpenPGP packet data ends early") from None
    if pos > len(data):
        raise OpenPGPError("OpenPGP packet data ends early")
    return tag, body, pos


def _literal(data: bytes, max_bytes: int, depth: int) -> bytearray:
    out = bytearray()
    pos = 0
    while pos < len(data):
        tag, body, pos = _packet(data, pos)
        if tag == COMPRESSED:
            if depth >= _MAX_NESTING:
                raise OpenPGPError("compressed data nested too deeply")
            out += _literal(_inflate(body, max_bytes), max_bytes, depth + 1)
        elif tag == LITERAL:
            if len(body) < 6:
                raise OpenPGPError("literal data packet too short")
            out += body[6 + body[1]:]
        elif tag in (SIG, OPS, MARKER, MDC):
            continue
        else:
            raise OpenPGPError(f"unexpected OpenPGP packet (tag {tag}) in the decrypted data")
        if len(out) > max_bytes:
            raise TooLarge(f"decrypted content larger than {max_bytes} bytes")
    return out


def _inflate(body: bytes, max_bytes: int) -> bytes:
    """Decompress at most ``max_bytes`` + 1 bytes: enough to know it is too large."""
    if not body:
        raise OpenPGPError("compressed data packet is empty")
    algorithm, data = body[0], body[1:]
    if algorithm == 0:
        out = data
    elif algorithm in (1, 2, 3):
        engine = (zlib.decompressobj(-15) if algorithm == 1 else zlib.decompressobj()
                  if algorithm == 2 else bz2.BZ2Decompressor())
        try:
            out = engine.decompress(data, max_bytes + 1)
        except (zlib.error, OSError, EOFError, ValueError) as exc:
            raise OpenPGPError(f"compressed data is damaged ({_why(exc)})") from None
    else:
        raise OpenPGPError(f"unknown compression algorithm {algorithm}")
    if len(out) > max_bytes:
        raise TooLarge(f"decompressed content larger than {max_bytes} bytes")
    return out
