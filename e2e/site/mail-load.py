"""A steady mail sender and a mailbox counter for the fault tests (e2e/site/mail-load.ts runs them
in the outside namespace, from a zone's address). Python's smtplib and imaplib are real clients,
independent of the programs under test.

send: one message at a time, each unique (Subject "<prefix>-<n>", a body derived from n), until the
stop file exists. A 4xx reply (at any stage) or a failed connection before the final dot is retried
with the same n after a second, as a sending MTA retries; a 5xx is recorded and not retried; a
connection lost after the dot is "ambiguous" (maybe delivered, never acknowledged) and not
retried, so an acknowledged n is acknowledged once. One JSON line per event on stdout.

count: logs in over IMAP with STARTTLS (the site's CA, the published host name), and prints the
subjects and bodies of the INBOX messages whose subject contains the prefix, as JSON.
"""
import imaplib
import json
import os
import smtplib
import socket
import ssl
import sys
import time


def body_of(prefix: str, n: int) -> str:
    return f"message {n} of {prefix}\r\n" + "".join(f"line {i} of message {n}\r\n" for i in range(8))


def emit(event: dict) -> None:
    event["t"] = round(time.time(), 3)
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def send_one(args: dict, n: int) -> str:
    """One attempt; returns ack, 4xx, 5xx, conn, or ambiguous (and emits it)."""
    to = args["to"][n % len(args["to"])]
    prefix = args["prefix"]
    stage = "connect"
    try:
        with smtplib.SMTP(
            args["host"], args["port"], local_hostname="load.example.org", timeout=60,
            source_address=(args["source"], 0),
        ) as smtp:
            stage = "ehlo"
            code, reply = smtp.ehlo()
            if code != 250:
                return result(n, to, stage, code, reply)
            stage = "mail"
            code, reply = smtp.mail(args["sender"])
            if code != 250:
                return result(n, to, stage, code, reply)
            stage = "rcpt"
            code, reply = smtp.rcpt(to)
            if code not in (250, 251):
                return result(n, to, stage, code, reply)
            stage = "data"
            code, reply = smtp.docmd("DATA")
            if code != 354:
                return result(n, to, stage, code, reply)
            message = (
                f"From: {args['sender']}\r\nTo: {to}\r\nSubject: {prefix}-{n}\r\n"
                f"Message-ID: <{prefix}-{n}@load.example.org>\r\n\r\n{body_of(prefix, n)}"
            )
            stage = "dot"
            # The message ends with CRLF, which is the terminator's own first CRLF (RFC 5321 4.1.1.4).
            smtp.send(smtplib.quotedata(message).encode() + b".\r\n")
            code, reply = smtp.getreply()
            outcome = result(n, to, stage, code, reply)
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            return outcome
    except (smtplib.SMTPException, OSError) as error:
        kind = "ambiguous" if stage == "dot" else "conn"
        emit({"n": n, "to": to, "event": kind, "stage": stage, "error": str(error)})
        return kind


def result(n: int, to: str, stage: str, code: int, reply: bytes) -> str:
    kind = "ack" if stage == "dot" and code == 250 else "4xx" if 400 <= code < 500 else "5xx" if code >= 500 else "conn"
    emit({"n": n, "to": to, "event": kind, "stage": stage, "code": code, "reply": reply.decode(errors="replace")})
    return kind


def send(args: dict) -> None:
    n = 0
    stop_file = args["stop"]
    stopped_at = None
    while True:
        if stopped_at is None and os.path.exists(stop_file):
            stopped_at = time.time()
        # After the stop, finish the message in hand (a sender retries a 4xx) for up to drain seconds.
        outcome = send_one(args, n)
        if outcome in ("4xx", "conn"):
            if stopped_at is not None and time.time() - stopped_at > args["drain"]:
                emit({"n": n, "event": "gave-up"})
                break
            time.sleep(1)
            continue
        n += 1
        if stopped_at is not None:
            break
        time.sleep(args["interval"])
    emit({"event": "done", "next": n})


class SourcedIMAP(imaplib.IMAP4):
    def __init__(self, host: str, port: int, source: str):
        self._source = source
        super().__init__(host, port, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(self._source, 0))


def open_tls(args: dict) -> SourcedIMAP:
    """Connects from the zone's address and upgrades with STARTTLS, checking the certificate for the
    published client name (imaplib's starttls would check the balancer's address)."""
    context = ssl.create_default_context(cafile=args["ca"])
    imap = SourcedIMAP(args["host"], args["port"], args["source"])
    typ, _ = imap._simple_command("STARTTLS")
    if typ != "OK":
        raise SystemExit("STARTTLS refused")
    imap.sock = context.wrap_socket(imap.sock, server_hostname=args["hostname"])
    imap.file = imap.sock.makefile("rb")
    imap._tls_established = True
    imap._get_capabilities()
    return imap


def count(args: dict) -> None:
    imap = open_tls(args)
    typ, reply = imap.login(args["user"], args["password"])
    typ, _ = imap.select("INBOX", readonly=True)
    if typ != "OK":
        raise SystemExit(f"SELECT failed: {typ}")
    typ, data = imap.uid("SEARCH", None, "SUBJECT", f'"{args["prefix"]}"')
    uids = data[0].split() if data and data[0] else []
    found = []
    for uid in uids:
        typ, parts = imap.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])")
        literals = [p[1] for p in parts if isinstance(p, tuple)]
        subject = literals[0].decode(errors="replace").strip().removeprefix("Subject:").strip()
        found.append({"uid": int(uid), "subject": subject, "text": literals[1].decode(errors="replace")})
    imap.logout()
    print(json.dumps(found))


def login(args: dict) -> None:
    """One login attempt: prints the server's answer (OK, or the NO with its response code)."""
    imap = open_tls(args)
    try:
        typ, reply = imap.login(args["user"], args["password"])
        print(json.dumps({"ok": True, "reply": reply[0].decode(errors="replace")}))
        imap.logout()
    except imaplib.IMAP4.error as error:
        print(json.dumps({"ok": False, "reply": str(error)}))


if __name__ == "__main__":
    options = json.loads(sys.argv[2])
    {"send": send, "count": count, "login": login}[sys.argv[1]](options)
