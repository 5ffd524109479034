"""A real SMTP server for Bulwark's tests (aiosmtpd).

Every accepted message is written once per envelope recipient as <dir>/<n>-<recipient>.eml, with
an X-Envelope-To header, so tests can check that each recipient got the whole message.
Recipients whose local part starts with "tempfail" get 451 (try again later), "permfail" 550.

    python smtp_sink.py --port 0 --dir DIR    # prints "listening on PORT" once ready
"""

import argparse
import itertools
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

counter = itertools.count(1)
lock = threading.Lock()


class Sink:
    def __init__(self, directory):
        self.directory = directory

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 Mailbox temporarily unavailable"
        if local.startswith("permfail"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode()
        with lock:
            n = next(counter)
        for rcpt in envelope.rcpt_tos:
            path = os.path.join(self.directory, f"{n:04d}-{rcpt}.eml")
            with open(path + ".part", "wb") as f:
                f.write(f"X-Envelope-To: {rcpt}\r\nX-Envelope-From: {envelope.mail_from}\r\n".encode())
                f.write(data)
            os.rename(path + ".part", path)
        return f"250 2.0.0 Ok: queued as sink-{n}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = args.port
    if port == 0:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=port, server_kwargs={"data_size_limit": 64 * 1024 * 1024})
    controller.start()
    print(f"listening on {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Also stop when the test process that started us goes away (stdin closes).
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
