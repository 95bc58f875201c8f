"""Answer repeated STAC API requests from prepared bytes.

The snapshot does not change while the mirror serves it, so an API answer depends only on the
request. In a workshop a whole room runs the same cell within seconds: the first request is
answered by pgstac, the others get its bytes. Identical requests that arrive while the first
is still being answered wait for it rather than all reaching the database at once.

Only successful JSON answers are kept (errors may depend on state, e.g. a database restart),
in a least-recently-used store bounded in bytes. Each is also kept gzip-compressed, sent to
clients that accept it (requests and so pystac-client do): a search of the eleven scenes is
250 kB of JSON but 9 kB on the room's Wi-Fi.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

import anyio
from cachetools import LRUCache
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Headers that cannot change an answer: left out of the key so that clients differing only
# in these share entries. Every other header (Host, Origin, Accept, Forwarded, ...) is keyed.
UNKEYED_HEADERS = frozenset({
    b"accept-encoding",  # picks the stored answer's plain or gzip form, not the answer
    b"connection", b"keep-alive", b"content-length", b"user-agent", b"cache-control",
    b"pragma", b"te",
})
MAX_BODY = 64 * 1024  # bigger search bodies bypass the cache
GZIP_LEVEL = 6  # compressed once per answer, in a worker thread
CACHE_HEADER = b"x-mirror-cache"  # "hit" or "miss", for people and tests checking the cache


@dataclass
class PreparedResponse:
    """A response as the cache keeps it: its start message, its body, and that body gzipped."""

    start: Message
    body: bytes
    gzipped: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


class Store:
    """Answers by request key, least recently used dropped first beyond ``max_bytes``
    (cachetools' LRU cache, sized by each answer's bytes)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024,
                 max_answer: int = 4 * 1024 * 1024) -> None:
        self.answers: LRUCache[bytes, PreparedResponse] = LRUCache(maxsize=max_bytes,
                                                         getsizeof=lambda a: a.size)
        self.max_answer = max_answer
        # Keys being answered now: identical requests wait on the event instead of recomputing.
        self.pending: dict[bytes, anyio.Event] = {}

    @property
    def size(self) -> int:
        return int(self.answers.currsize)

    def get(self, key: bytes) -> PreparedResponse | None:
        return self.answers.get(key)

    def put(self, key: bytes, answer: PreparedResponse) -> None:
        if answer.size <= min(self.max_answer, self.answers.maxsize) and key not in self.answers:
            self.answers[key] = answer


def request_key(scope: Scope, body: bytes) -> bytes:
    """Everything an answer can depend on: method, scheme, path, query, headers, body."""
    headers = sorted((k.lower(), v) for k, v in scope["headers"]
                     if k.lower() not in UNKEYED_HEADERS)
    digest = hashlib.blake2b(digest_size=32)
    for part in (scope["method"].encode(), scope.get("scheme", "http").encode(),
                 scope.get("root_path", "").encode(), scope["path"].encode(),
                 scope.get("query_string", b""), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    for name, value in headers:
        digest.update(len(name).to_bytes(8, "big") + name + len(value).to_bytes(8, "big") + value)
    return digest.digest()


async def _read_body(receive: Receive) -> tuple[bytes | None, list[Message]]:
    """The request body (None beyond MAX_BODY) and the messages read, to replay downstream."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        size += len(message.get("body", b""))
        if size > MAX_BODY:
            return None, messages
        if not message.get("more_body"):
            return b"".join(m.get("body", b"") for m in messages), messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    queue = list(messages)

    async def replay() -> Message:
        return queue.pop(0) if queue else await receive()

    return replay


class ResponseCache:
    """ASGI middleware in front of one STAC API app; ``store`` may be shared between apps."""

    def __init__(self, app: ASGIApp, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        body, read = await _read_body(receive) if scope["method"] == "POST" else (b"", [])
        receive = _replaying(read, receive)
        if body is None:
            await self.app(scope, receive, send)
            return
        key = request_key(scope, body)
        gzip_ok = _accepts_gzip(scope)
        answer = self.store.get(key)
        if answer is None and key in self.store.pending:
            await self.store.pending[key].wait()
            answer = self.store.get(key)
            if answer is None:  # the first one was not cacheable (an error): go on our own
                await self.app(scope, receive, send)
                return
        if answer is not None:
            await _send_answer(answer, gzip_ok, send)
            return
        await self._answer_and_keep(key, scope, receive, send)

    async def _answer_and_keep(self, key: bytes, scope: Scope, receive: Receive,
                               send: Send) -> None:
        done = self.store.pending[key] = anyio.Event()
        start: Message | None = None
        chunks: list[bytes] = []
        complete = False

        async def keep(message: Message) -> None:
            nonlocal start, complete
            if message["type"] == "http.response.start":
                start = message
                message = {**message, "headers": [*message["headers"], (CACHE_HEADER, b"miss")]}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, receive, keep)
            if complete and start is not None and _cacheable(start):
                body = b"".join(chunks)
                gzipped = await anyio.to_thread.run_sync(_gzip, body)
                self.store.put(key, PreparedResponse(start, body, gzipped))
        finally:
            del self.store.pending[key]
            done.set()


async def _send_answer(answer: PreparedResponse, gzip_ok: bool, send: Send) -> None:
    headers = [(k, v) for k, v in answer.start["headers"]
               if k.lower() not in (b"content-length", b"vary", CACHE_HEADER)]
    body = answer.body
    if gzip_ok and answer.gzipped is not None:
        body = answer.gzipped
        headers.append((b"content-encoding", b"gzip"))
    headers += [(b"content-length", str(len(body)).encode()), (b"vary", b"Accept-Encoding"),
                (CACHE_HEADER, b"hit")]
    await send({**answer.start, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _accepts_gzip(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name.lower() == b"accept-encoding":
            for coding in value.decode("latin-1").lower().split(","):
                token, _, params = coding.partition(";")
                if token.strip() == "gzip" and params.replace(" ", "") not in ("q=0", "q=0.0"):
                    return True
    return False


def _gzip(body: bytes) -> bytes | None:
    """The body gzip-compressed (reproducibly: no timestamp), or None when that saves little."""
    if len(body) < 1024:
        return None
    packed = gzip.compress(body, GZIP_LEVEL, mtime=0)
    return packed if len(packed) < len(body) * 0.9 else None


def _cacheable(start: Message) -> bool:
    headers = {k.lower(): v for k, v in start["headers"]}
    return (start["status"] == 200 and b"json" in headers.get(b"content-type", b"")
            and b"set-cookie" not in headers and b"content-encoding" not in headers)
