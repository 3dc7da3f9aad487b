"""The containers-101 lab's web app: answers every GET with a greeting and the container's host name.

It listens on port 8080 (or $PORT) on all of the container's interfaces: inside a container,
0.0.0.0 is what lets `docker run -p 127.0.0.1:8080:8080` reach it; the lab never runs it on the host.
"""

import http.server
import os
import socket

PORT = int(os.environ.get("PORT", "8080"))


class Hello(http.server.BaseHTTPRequestHandler):
    """Answers `Hello from <hostname>` on every path."""

    def do_GET(self) -> None:
        body = f"Hello from {socket.gethostname()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Hello).serve_forever()
