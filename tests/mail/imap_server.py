"""A small IMAP4rev1 server on 127.0.0.1 for tests: LOGIN, SELECT, SEARCH UNSEEN, FETCH
RFC822 / BODY[] / BODY.PEEK[], STORE +FLAGS, LOGOUT (what `cvdesk mail fetch` uses), over
plain TCP.  Like a real server, FETCH RFC822 and BODY[] set \\Seen; BODY.PEEK[] does not."""

from __future__ import annotations

import socketserver
import threading


class Mailbox:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password
        self.messages: list[bytes] = []
        self.seen: set[int] = set()


class _Handler(socketserver.StreamRequestHandler):
    box: Mailbox

    def say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        box = self.server.box  # type: ignore[attr-defined]
        self.say("* OK IMAP4rev1 test server ready")
        while True:
            line = self.rfile.readline().decode(errors="replace").strip()
            if not line:
                return
            tag, _, rest = line.partition(" ")
            cmd, _, args = rest.partition(" ")
            cmd = cmd.upper()
            if cmd == "CAPABILITY":
                self.say("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                self.say(f"{tag} OK done")
            elif cmd == "LOGIN":
                user, password = (a.strip('"') for a in args.split(" ", 1))
                ok = (user, password) == (box.user, box.password)
                self.say(f"{tag} {'OK logged in' if ok else 'NO bad credentials'}")
            elif cmd == "SELECT":
                self.say(f"* {len(box.messages)} EXISTS")
                self.say("* FLAGS (\\Seen)")
                self.say(f"{tag} OK [READ-WRITE] selected")
            elif cmd == "SEARCH":
                unseen = [str(i) for i in range(1, len(box.messages) + 1) if i not in box.seen]
                self.say("* SEARCH " + " ".join(unseen) if unseen else "* SEARCH")
                self.say(f"{tag} OK search done")
            elif cmd == "FETCH":
                number, _, item = args.partition(" ")
                n = int(number)
                data = box.messages[n - 1]
                peek = "PEEK" in item.upper()
                if not peek:
                    box.seen.add(n)  # RFC 3501 6.4.5
                name = "BODY[]" if "BODY" in item.upper() else "RFC822"
                self.wfile.write(f"* {n} FETCH ({name} {{{len(data)}}}\r\n".encode() + data
                                 + b")\r\n")
                self.say(f"{tag} OK fetched")
            elif cmd == "STORE":
                n = int(args.split(" ", 1)[0])
                box.seen.add(n)
                self.say(f"* {n} FETCH (FLAGS (\\Seen))")
                self.say(f"{tag} OK stored")
            elif cmd == "LOGOUT":
                self.say("* BYE")
                self.say(f"{tag} OK bye")
                return
            else:
                self.say(f"{tag} BAD unknown command")


class ImapServer:
    def __init__(self, box: Mailbox) -> None:
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self.server.box = box  # type: ignore[attr-defined]
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ImapServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
