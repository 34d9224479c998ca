"""SMTP sink for the nopassword-rs integration suites, started by `cargo xtask test`.

Listens on HOST:PORT (plain SMTP, no TLS) and keeps every message it accepts in MAILDIR:
N.json is the envelope ({"mail_from": ..., "rcpt_tos": [...]}), N.eml the raw bytes of DATA.
The .json is written before the .eml, and each appears whole (written under a temporary name,
then renamed), so a test that sees N.eml can read both. RCPT TO an address whose local part
starts with "reject" (any case) is refused with 550 5.1.1; a message to an address whose local
part starts with "slow" is answered after 50 ms, as a busy mail server would (the timing tests).
AUTH is offered without TLS and any credentials are accepted, so a client configured with
credentials works too.

Usage: python smtp_sink.py --host 127.0.0.1 --port PORT --maildir DIR
"""

import argparse
import asyncio
import itertools
import json
import os
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult


class Sink:
    def __init__(self, maildir: Path):
        self.maildir = maildir
        self.numbers = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local_part = address.rsplit("@", 1)[0]
        if local_part.lower().startswith("reject"):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(a.rsplit("@", 1)[0].lower().startswith("slow") for a in envelope.rcpt_tos):
            await asyncio.sleep(0.05)
        name = f"{next(self.numbers):06d}"
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
        self.write(f"{name}.json", json.dumps(meta, indent=2).encode())
        self.write(f"{name}.eml", envelope.original_content)
        print(f"accepted {name}.eml from {envelope.mail_from} to {envelope.rcpt_tos}", flush=True)
        return "250 Message accepted for delivery"

    def write(self, name: str, data: bytes):
        partial = self.maildir / f".{name}.partial"
        partial.write_bytes(data)
        os.replace(partial, self.maildir / name)


def accept_any_credentials(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    args = parser.parse_args()
    args.maildir.mkdir(parents=True, exist_ok=True)
    sink = Sink(args.maildir)

    def smtp():
        return SMTP(
            sink,
            enable_SMTPUTF8=True,
            authenticator=accept_any_credentials,
            auth_require_tls=False,
        )

    server = await asyncio.get_running_loop().create_server(smtp, args.host, args.port)
    print(f"smtp sink on {args.host}:{args.port}, mail in {args.maildir}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
