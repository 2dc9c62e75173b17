"""Running the security.txt checks where they can be stopped.

``sectxt`` hands every signed file to PGPy's armour regular expression, once per
"BEGIN PGP SIGNED MESSAGE" line.  That expression backtracks exponentially when it
does not match: an empty line inside the signed text can be read two ways, so a
signed file whose signature block is broken and which holds 20 blank lines took 6 s,
each further blank line about doubled that, and the regex engine holds the
interpreter lock all along.
Two defences, so that neither alone has to be perfect:

* in the checker, PGPy is only shown a signed message that a linear expression has
  already found well formed (possessive quantifiers cannot backtrack); anything else
  is reported as sectxt reports an unreadable signature, ``pgp_data_error``;
* the checker runs in its own process, and a check still running at its time limit
  is stopped by killing that process (a thread cannot be stopped).  A fresh process
  is started for the next check.

The process is reused between checks, so a check costs a message round trip, not an
interpreter start.  Its start-up (about half a second) is not counted in the limit; start
it early with :func:`warm_up`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

TIME_LIMIT = 5.0  # seconds for one check; a real file takes milliseconds
_STARTUP_LIMIT = 60.0

# A cleartext-signed message (RFC 4880 section 7) as PGPy's armour expression reads it, but
# written so that it cannot backtrack: every repetition is possessive and every line
# can be read only one way.
_SIGNED = re.compile(r"""
    -----BEGIN\ PGP\ SIGNED\ MESSAGE-----\r?\n
    (?:(?:Hash:\ [A-Za-z0-9\-,]+\r?\n)++\r?\n)?+
    (?:(?:(?:-\ |[^-\r\n])[^\r\n]*+)?+\r?\n)*+
    -----BEGIN\ PGP\ SIGNATURE-----\r?\n
    (?:[A-Za-z0-9]+:\ [^\r\n]+\r?\n)*+
    (?:\r?\n)?+
    (?:[A-Za-z0-9+/]{1,76}={0,2}\r?\n)++
    =[A-Za-z0-9+/]{4}\r?\n
    -----END\ PGP\ SIGNATURE-----
    """, re.VERBOSE)
_FIRST_SIGNED = re.compile(r"^-----BEGIN PGP SIGNED MESSAGE-----\r?$", re.MULTILINE)


def check(content: bytes, urls: list[str], keys: list[str], *,
          time_limit: float = TIME_LIMIT, guard: bool = True) -> dict[str, Any] | None:
    """What sectxt and the signature check find, or None when the check ran out of time.

    ``guard=False`` lets the unguarded parser run; only tests use it, to show that the
    time limit alone stops the worst input."""
    return _checker.run({"content": content.decode("latin-1"), "urls": urls, "keys": keys,
                         "guard": guard, "limit": time_limit}, time_limit)


def warm_up() -> None:
    """Start the checker process now, so that its start-up overlaps other work."""
    _checker.warm_up()


class _Checker:
    """One checker process, reused; killed and replaced when a check overruns.

    A plain child interpreter (``python -m``) talking JSON lines over its standard
    input and output: unlike multiprocessing's spawn, it never re-imports the
    caller's main script.  A reader thread lets the wait end at the time limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._ready = False

    def warm_up(self) -> None:
        with self._lock:
            self._ensure()

    def _ensure(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._stop()
            root = str(Path(__file__).resolve().parents[2])
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                encoding="utf-8", env=env)
            self._ready = False
        return self._process

    def run(self, job: dict[str, Any], time_limit: float) -> dict[str, Any] | None:
        with self._lock:
            process = self._ensure()
            if not self._ready:
                if _read(process, _STARTUP_LIMIT) != {"ready": True}:
                    self._stop()
                    return {"crash": "the checker process did not start"}
                self._ready = True
            try:
                assert process.stdin is not None
                process.stdin.write(json.dumps(job) + "\n")
                process.stdin.flush()
            except OSError:
                self._stop()
                return {"crash": "the checker process stopped"}
            answer = _read(process, max(time_limit, 0.0))
            if answer is None:  # still busy at the limit: kill it; the next starts afresh
                self._stop()
                return None
            if "eof" in answer:
                self._stop()
                return {"crash": "the checker process stopped"}
            return answer

    def _stop(self) -> None:
        process, self._process, self._ready = self._process, None, False
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait(10)
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()


def _read(process: subprocess.Popen[str], limit: float) -> dict[str, Any] | None:
    """The next answer, ``{"eof": True}`` when the process ended, None at the limit."""
    box: dict[str, Any] = {}

    def reader() -> None:
        assert process.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            line = process.stdout.readline()
            box["answer"] = json.loads(line) if line else {"eof": True}

    thread = threading.Thread(target=reader, name="security.txt checker", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        return None
    return box.get("answer", {"eof": True})


_checker = _Checker()


# --- inside the checker process ----------------------------------------------------

def _serve() -> None:
    import sectxt

    real = sectxt.PGPMessage
    state: dict[str, Any] = {"guard": True, "seen": {}}

    class Guarded:
        """Stands in for PGPMessage in sectxt: reads only a well-formed signed message,
        and each text once (sectxt asks again for every signed-message header line)."""

        @staticmethod
        def from_blob(blob: Any) -> Any:
            text = blob if isinstance(blob, str) else bytes(blob).decode("latin-1")
            seen = state["seen"]
            if text not in seen:
                try:
                    if state["guard"]:
                        _well_formed(text)
                    seen[text] = (real.from_blob(blob), None)
                except Exception as exc:  # replayed to the caller below
                    seen[text] = (None, exc)
            value, error = seen[text]
            if error is not None:
                raise error
            return value

    sectxt.PGPMessage = Guarded
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing the libraries print can corrupt the answers
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        job = json.loads(line)
        state["guard"], state["seen"] = job["guard"], {}
        # Should the desk die mid-check, nobody kills this process: the timer's default
        # action ends it instead (a Python signal handler would wait for the regex).
        _alarm(2 * float(job["limit"]) + 5)
        try:
            answer = _run(sectxt, Guarded, job)
        except Exception as exc:  # any parser failure becomes a report
            answer = {"crash": f"{type(exc).__name__}: {exc}"[:300]}
        _alarm(0)
        out.write(json.dumps(answer) + "\n")
        out.flush()


def _alarm(seconds: float) -> None:
    if hasattr(signal, "setitimer"):  # POSIX
        signal.setitimer(signal.ITIMER_REAL, seconds)


def _well_formed(text: str) -> None:
    first = _FIRST_SIGNED.search(text)  # where PGPy's search would start reading
    if first is None or not _SIGNED.match(text, first.start()):
        raise ValueError("not a well-formed cleartext-signed message")


def _run(sectxt: Any, message: Any, job: dict[str, Any]) -> dict[str, Any]:
    content = str(job["content"]).encode("latin-1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parser = sectxt.Parser(content, urls=job["urls"] or None,
                               recommend_unknown_fields=False)
        signature = _signature(message, content, job["keys"])
    problems = {kind: [(str(i["code"]), str(i["message"]), i.get("line")) for i in items]
                for kind, items in (("error", parser.errors),
                                    ("recommendation", parser.recommendations),
                                    ("notice", parser.notifications))}
    fields = [(n, str(line["field_name"]), str(line["value"]))
              for n, line in enumerate(parser.lines, start=1)
              if line.get("type") == "field" and line.get("field_name")]
    return {"problems": problems, "fields": fields, "signature": signature}


def _signature(message: Any, content: bytes, keys: list[str]) -> tuple[bool, bool | None, str]:
    text = content.decode("utf-8", errors="replace")
    if "-----BEGIN PGP SIGNED MESSAGE-----" not in text:
        return False, None, "not signed"
    if not keys:
        return True, None, ("signed, but no public key to check it against (give one, or "
                            "publish it at the Encryption URL)")
    from pgpy_dtc import PGPKey
    from pgpy_dtc.errors import PGPError

    try:
        signed = message.from_blob(text)
    except (PGPError, ValueError, IndexError, NotImplementedError) as exc:
        return True, False, f"the signed message cannot be read: {exc}"
    for armoured in keys:
        try:
            key, _ = PGPKey.from_blob(armoured)
        except (PGPError, ValueError, IndexError, NotImplementedError):
            continue
        try:
            if key.pubkey.verify(signed):
                return True, True, f"good signature by key {key.fingerprint}"
            return True, False, (f"bad signature: the text does not match the signature of "
                                 f"key {key.fingerprint}")
        except PGPError:
            continue  # signed by another key
    return True, False, "signed by none of the given public keys"


if __name__ == "__main__":
    _serve()
