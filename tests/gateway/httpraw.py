"""httpraw.py: one HTTP/1.1 response read off a raw socket's file.

The gateway suites speak raw HTTP where http.client cannot: pipelined
requests, half-sent heads, answers read after a second write. They all read
a response the same way, here.
"""


def read_response(f, head_only=False):
    """Reads one response from a socket file (socket.makefile("rb")):
    (status, headers with lower-case names, body bytes), or None when the
    connection closed before a status line. head_only (the answer to a
    HEAD) and 204/304 carry no body whatever their Content-Length."""
    line = f.readline()
    if not line:
        return None
    status = int(line.split()[1])
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        k, v = h.decode().split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    body = b"" if head_only or status in (204, 304) else f.read(n)
    return status, headers, body
