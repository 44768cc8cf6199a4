"""uvicorn's HTTP protocol, answering a request it cannot parse with a problem like the rest.

A request the parser refuses (a control character in a header, a malformed request line)
never reaches the app: uvicorn answered it 400 with ``text/plain`` "Invalid HTTP request
received.", the one error a CRM's client could not read as RFC 9457. This is the same
protocol (httptools, which ``uvicorn[standard]`` installs) with that answer replaced.
"""

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.errors import PROBLEM_JSON, problem_type

UNPARSABLE = orjson.dumps(
    {
        "type": problem_type("bad-request"),
        "title": "Bad request",
        "status": 400,
        "detail": "the HTTP request could not be parsed (its request line or a header is "
        "malformed); nothing was recorded",
    }
)


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        """As uvicorn's own (its default headers, then close), with a problem body."""
        content = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: " + PROBLEM_JSON.encode() + b"\r\n",
                b"content-length: " + str(len(UNPARSABLE)).encode() + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                UNPARSABLE,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
