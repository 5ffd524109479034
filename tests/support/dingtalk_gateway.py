"""A local stand-in for DingTalk's custom-robot endpoint, for tests.

POST /robot/send?access_token=T[&timestamp=MS&sign=S] with a JSON message, checked the way
DingTalk checks it: the access token, the signature (Base64 of HMAC-SHA256 with the robot's
secret over "timestamp\\nsecret", within an hour), the keywords, and the message shape. DingTalk
answers errors with HTTP 200 and an errcode; so does this. Accepted messages are written to
DIR/<n>.json, refused ones to DIR/refused-<n>.json.

    python3 dingtalk_gateway.py --port 0 --dir DIR [--token T] [--secret S] [--keywords a,b]

Prints "listening on PORT" once ready. Standard library only.
"""

import argparse
import base64
import hashlib
import hmac
import itertools
import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

COUNTER = itertools.count(1)


def expected_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def message_text(body: dict) -> str:
    kind = body.get("msgtype")
    if kind == "markdown":
        markdown = body.get("markdown") or {}
        return f"{markdown.get('title', '')}\n{markdown.get('text', '')}"
    if kind == "text":
        return (body.get("text") or {}).get("content", "")
    return ""


def make_handler(args):
    keywords = [k for k in (args.keywords or "").split(",") if k]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def answer(self, errcode, errmsg, record):
            n = next(COUNTER)
            name = f"{n:04}.json" if errcode == 0 else f"refused-{n:04}.json"
            record["errcode"] = errcode
            with open(os.path.join(args.dir, name), "w") as f:
                json.dump(record, f)
            payload = json.dumps({"errcode": errcode, "errmsg": errmsg}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            record = {"path": url.path, "query": query, "body": None, "verified_sign": False}
            try:
                body = json.loads(raw)
                record["body"] = body
            except ValueError:
                return self.answer(43004, "invalid json", record)
            if url.path != "/robot/send":
                return self.answer(404, "not found", record)
            if args.token and query.get("access_token") != args.token:
                return self.answer(300001, "token is not exist", record)
            if args.secret:
                timestamp, sign = query.get("timestamp"), query.get("sign")
                if not timestamp or not sign:
                    return self.answer(310000, "sign not match, more: [missing timestamp or sign]", record)
                try:
                    age = abs(time.time() * 1000 - int(timestamp))
                except ValueError:
                    return self.answer(310000, "sign not match, more: [bad timestamp]", record)
                if age > 3600 * 1000:
                    return self.answer(310000, "sign not match, more: [timestamp is expired]", record)
                if not hmac.compare_digest(sign, expected_sign(args.secret, timestamp)):
                    return self.answer(310000, "sign not match", record)
                record["verified_sign"] = True
            text = message_text(body)
            if not text.strip():
                return self.answer(40035, "missing parameter: msgtype content", record)
            if keywords and not any(k in text for k in keywords):
                return self.answer(310000, "keywords not in content", record)
            return self.answer(0, "ok", record)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--token")
    parser.add_argument("--secret")
    parser.add_argument("--keywords")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
