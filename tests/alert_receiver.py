"""A webhook on a loopback port that records the alerts apprise posts to it (json:// URLs)."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def closed_port() -> int:
    """A loopback port nothing listens on (yet): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AlertReceiver:
    def __init__(self, port: int = 0, refuse=lambda alert: False):
        """``refuse(alert)``: answer this alert with HTTP 500 (it is then not received)."""
        self.port, self.refuse = port, refuse
        self.received: list[dict] = []
        self.refused: list[dict] = []
        self._server = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/alerts"

    def start(self) -> "AlertReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                alert = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                refused = receiver.refuse(alert)
                (receiver.refused if refused else receiver.received).append(alert)
                self.send_response(500 if refused else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def about(self, text: str) -> list[dict]:
        return [a for a in self.received if text in a["title"] + a["message"]]
