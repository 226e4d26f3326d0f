"""A provider's HTTP server on loopback for the tests (``http.server`` in a thread), not a
mock: it checks the signature of every request with the account's secret, keeps what it
received, and answers with the status the test sets."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from guanxi.integrations import signatures


class ProviderServer:
    """``url`` to POST to; ``requests`` holds ``(headers, payload, signature_ok)`` of each;
    ``status`` is the answer (200 unless a test changes it); ``secret`` the shared one."""

    def __init__(self, secret: str = ""):
        self.secret = secret
        self.status = 200
        self.answer: dict = {"id": "gw-1"}
        self.requests: list[tuple[dict, dict, bool]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                ok = signatures.signature_valid(
                    server.secret, body, self.headers.get(signatures.SIGNATURE_HEADER)
                ) and signatures.timestamp_fresh(self.headers.get(signatures.TIMESTAMP_HEADER))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {}
                server.requests.append((dict(self.headers), payload, ok))
                status = server.status if ok else 401
                answer = json.dumps(server.answer if ok else {"error": "signature"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/send"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> ProviderServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
