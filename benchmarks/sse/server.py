"""The Python side of benchmarks/sse/run.mjs: the same server as server.mjs, written as a Python
user of rill would write it: http.server's ThreadingHTTPServer (a thread per connection), each
token one tiny op (`state + 1` on a scalar) evaluated with `mx.eval` (which releases the GIL while
it waits) and read back with `item()`, sent as a server-sent event. Prints `listening <port>`."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import rill.core as mx


class Tokens(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        n = int(parse_qs(urlparse(self.path).query).get("n", ["100"])[0])
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        state = mx.array(0.0)
        for i in range(n):
            state = state + 1
            mx.eval(state)
            event = json.dumps({"i": i, "value": state.item()}, separators=(",", ":"))
            self.wfile.write(f"data: {event}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


server = Server(("127.0.0.1", 0), Tokens)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
