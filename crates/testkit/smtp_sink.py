#!/usr/bin/env python3
"""A real SMTP server for Vigie's tests (aiosmtpd), driven by `vigie_testkit::SmtpServer`.

    python3 smtp_sink.py --port PORT --dir DIR [--tls-cert PEM --tls-key PEM [--implicit-tls]]
                         [--auth-user USER --auth-password PASSWORD] [--without-smtputf8]

Listens on 127.0.0.1:PORT. With a certificate it offers STARTTLS and requires
it before MAIL, or, with --implicit-tls, speaks TLS from the first byte (SMTPS,
port 465 style). With --auth-user it requires AUTH (PLAIN or LOGIN, only over
TLS) with those credentials. With --without-smtputf8 it does not offer
SMTPUTF8 (a relay that cannot take a non-ASCII address). Once listening it creates DIR/ready (how the
harness knows an implicit-TLS server is up without a TLS client). Every accepted message is stored in DIR/mail as
NAME.eml (the raw RFC 5322 bytes as received) and NAME.json (the envelope and
the message parsed by Python's `email` package: decoded subject and headers,
decoded text parts). Both files are written atomically, the .json last, before
the server answers 250: a client that got 250 finds the message on disk.

Every connection the server accepts adds one to DIR/connections (an integer,
written atomically, kept across restarts): how tests see that a client reuses
its connections. Every NOOP adds one to DIR/noops likewise (a round trip a
client spends checking a connection).

Faults are controlled through files the test writes in DIR/control:
- `refuse_next`: an integer N; the next N DATA transactions are answered
  `451 4.3.0 try again later` (and not stored), the count going down by one each;
- `reject`: one address per line; RCPT TO one of them is answered `550 5.1.1`;
- `delay_ms`: an integer; every DATA transaction waits that many milliseconds
  before it is stored and answered (a slow server, for concurrent senders).
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import sys
import time
from email import policy
from email.parser import BytesParser

try:
    from aiosmtpd.smtp import SMTP, AuthResult
except ImportError:  # pragma: no cover - reported to the test through the log
    sys.stderr.write("aiosmtpd is missing: python3 -m pip install --user aiosmtpd (scripts/test.sh does it)\n")
    sys.exit(3)


def write_atomically(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def parse(raw):
    """The message as the test sees it: decoded headers and leaf parts."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    headers = []
    for name, value in message.items():
        try:
            headers.append([name, str(value)])
        except Exception:  # a malformed header is kept undecoded
            headers.append([name, message.get(name, failobj="")])
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        entry = {"content_type": part.get_content_type(), "charset": part.get_content_charset() or ""}
        try:
            entry["text"] = part.get_content() if part.get_content_maintype() == "text" else ""
        except Exception as error:  # undecodable part: reported, not fatal
            entry["text"] = ""
            entry["error"] = str(error)
        parts.append(entry)
    return {
        "subject": str(message["subject"]) if message["subject"] is not None else None,
        "message_id": str(message["message-id"]) if message["message-id"] is not None else None,
        "headers": headers,
        "parts": parts,
    }


def write_count(path, count):
    """Replaces the integer in `path` (not fsynced: a count, not a message)."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(str(count))
    os.replace(tmp, path)


def read_count(path):
    """The integer in `path`, 0 when there is none."""
    try:
        with open(path, encoding="utf-8") as text:
            return int(text.read().strip() or "0")
    except (FileNotFoundError, ValueError):
        return 0


class Sink:
    def __init__(self, directory):
        self.mail = os.path.join(directory, "mail")
        self.control = os.path.join(directory, "control")
        os.makedirs(self.mail, exist_ok=True)
        os.makedirs(self.control, exist_ok=True)
        self.counter = 0
        self.connections_file = os.path.join(directory, "connections")
        self.connections = read_count(self.connections_file)
        self.noops_file = os.path.join(directory, "noops")
        self.noops = read_count(self.noops_file)

    def connected(self):
        """Counts one more accepted connection."""
        self.connections += 1
        write_count(self.connections_file, self.connections)

    async def handle_NOOP(self, server, session, envelope, arg):
        self.noops += 1
        write_count(self.noops_file, self.noops)
        return "250 OK"

    def rejected(self):
        try:
            with open(os.path.join(self.control, "reject"), encoding="utf-8") as lines:
                return {line.strip().lower() for line in lines if line.strip()}
        except FileNotFoundError:
            return set()

    def take_refusal(self):
        """Consumes one pending refusal; True when this transaction must be refused."""
        path = os.path.join(self.control, "refuse_next")
        try:
            with open(path, encoding="utf-8") as text:
                left = int(text.read().strip() or "0")
        except (FileNotFoundError, ValueError):
            return False
        if left <= 0:
            return False
        write_atomically(path, str(left - 1).encode())
        return True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.strip().lower() in self.rejected():
            return "550 5.1.1 <%s>: recipient rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def delay(self):
        """Seconds each DATA transaction waits (0 when not set)."""
        try:
            with open(os.path.join(self.control, "delay_ms"), encoding="utf-8") as text:
                return max(0, int(text.read().strip() or "0")) / 1000.0
        except (FileNotFoundError, ValueError):
            return 0.0

    async def handle_DATA(self, server, session, envelope):
        delay = self.delay()
        if delay > 0:
            await asyncio.sleep(delay)
        if self.take_refusal():
            return "451 4.3.0 try again later"
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        self.counter += 1
        name = "%020d-%d-%06d" % (time.time_ns(), os.getpid(), self.counter)
        base = os.path.join(self.mail, name)
        record = parse(raw)
        record["mail_from"] = envelope.mail_from
        record["rcpt_tos"] = list(envelope.rcpt_tos)
        write_atomically(base + ".eml", raw)
        write_atomically(base + ".json", json.dumps(record, ensure_ascii=False).encode("utf-8"))
        return "250 2.0.0 OK queued as " + name


def tls_context(cert, key):
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        login = getattr(auth_data, "login", b"") or b""
        given = getattr(auth_data, "password", b"") or b""
        ok = login.decode("utf-8", "replace") == user and given.decode("utf-8", "replace") == password
        return AuthResult(success=ok)

    return authenticate


class CountingSMTP(SMTP):
    """aiosmtpd's server, counting the connections it accepts."""

    def __init__(self, sink, **options):
        super().__init__(sink, **options)
        self.sink = sink

    def connection_made(self, transport):
        self.sink.connected()
        super().connection_made(transport)


async def serve(args):
    loop = asyncio.get_running_loop()
    sink = Sink(args.dir)
    context = tls_context(args.tls_cert, args.tls_key)
    options = {}
    if context is not None and not args.implicit_tls:
        options.update(tls_context=context, require_starttls=True)
    if args.auth_user:
        options.update(auth_required=True, authenticator=authenticator_for(args.auth_user, args.auth_password or ""))
        if args.implicit_tls:
            # aiosmtpd only knows about STARTTLS; here every byte is already TLS.
            options.update(auth_require_tls=False)
    server = await loop.create_server(
        lambda: CountingSMTP(sink, hostname="vigie-test-smtp", decode_data=False,
                             enable_SMTPUTF8=not args.without_smtputf8, **options),
        host="127.0.0.1",
        port=args.port,
        reuse_address=True,
        ssl=context if args.implicit_tls else None,
    )
    write_atomically(os.path.join(args.dir, "ready"), b"ready\n")
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth-user")
    parser.add_argument("--auth-password")
    parser.add_argument("--without-smtputf8", action="store_true",
                        help="do not offer SMTPUTF8 (a relay that refuses non-ASCII addresses)")
    args = parser.parse_args()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
