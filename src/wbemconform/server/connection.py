"""One client connection of the front end (:class:`Connection`, an asyncio
protocol): a buffer the front end's conversation coroutine reads requests
from, with flow control both ways (reading from a client pauses beyond
``_HIGH_WATER`` buffered bytes), lingering after a refusal, and eviction
(see :data:`wbemconform.server.frontend.MAX_CONNECTIONS`)."""

from __future__ import annotations

import asyncio
import http.client
import time

_HIGH_WATER = 256 * 1024  # bytes buffered before reading from a client pauses
_LOW_WATER = 64 * 1024
_LINGER = 2.0  # seconds spent draining a refused client's input before closing


class Closed(Exception):
    """The client closed the connection (or it broke)."""


#: the WSGI environ key naming the client connection (a :class:`ConnectionKey`)
CONNECTION_KEY = "wbemconform.connection"


class ConnectionKey:
    """Names one client connection to the applications (the WSGI environ's
    ``wbemconform.connection``): an object that lives as long as the
    connection, so an application may keep per-connection state (an NTLM
    security context) in a ``weakref.WeakKeyDictionary``."""

    __slots__ = ("__weakref__",)


def _release(waiter):
    """Let whoever awaits ``waiter`` (a future, or None) go on."""
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class Connection(asyncio.Protocol):
    """One client connection: a buffer the conversation coroutine reads from."""

    def __init__(self, frontend):
        self.frontend = frontend
        self.transport = None
        self.task = None
        self.peer = ("", 0)
        self._buffer = bytearray()
        self._eof = False
        self._lost = False
        self._discard = False
        self._reading_paused = False
        self._writing_paused = False
        self._waiter = None
        self._write_waiter = None
        #: what names this connection to the applications (see ConnectionKey)
        self.key = ConnectionKey()
        #: what the conversation is doing: "waiting" (for a request), "reading"
        #: (one), "answering" (the application runs, or the answer is written),
        #: "refusing" (an error answer was sent, the connection closes)
        self.state = "waiting"
        #: when a byte last came from the client (or its last answer went out)
        self.active = time.monotonic()

    # -- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.peer = peer[:2]
        self.task = asyncio.get_running_loop().create_task(self.frontend.converse(self))

    def data_received(self, data):
        if self._discard:
            return
        self.active = time.monotonic()
        self._buffer += data
        if len(self._buffer) > _HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self):
        self._eof = True
        self._wake()
        # plain TCP: stay half-open, so a complete request can still be
        # answered (TLS ignores this and closes)
        return self.transport.get_extra_info("sslcontext") is None

    def connection_lost(self, exc):
        self._eof = self._lost = True
        self._wake()
        _release(self._write_waiter)

    def pause_writing(self):
        self._writing_paused = True

    def resume_writing(self):
        self._writing_paused = False
        _release(self._write_waiter)

    # -- reading ----------------------------------------------------------------

    def _wake(self):
        _release(self._waiter)

    async def _more(self):
        """Wait for more bytes; Closed if none can come."""
        if self._eof:
            raise Closed()
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _consumed(self):
        if self._reading_paused and len(self._buffer) < _LOW_WATER and not self._lost:
            self._reading_paused = False
            self.transport.resume_reading()

    def buffered(self):
        """The bytes received and not read yet (at most 64 of them)."""
        return bytes(self._buffer[:64])

    async def wait_for_data(self):
        while not self._buffer:
            await self._more()

    async def read_line(self, limit, too_long, check=None):
        """One line, up to and including LF; ``too_long`` (a Reject) beyond
        ``limit`` bytes; ``check(partial)`` may refuse a line as it arrives."""
        searched = 0
        while True:
            end = self._buffer.find(b"\n", searched)
            if end >= 0:
                if end + 1 > limit:
                    raise too_long
                line = bytes(self._buffer[:end + 1])
                del self._buffer[:end + 1]
                self._consumed()
                return line
            if len(self._buffer) >= limit:
                raise too_long
            if check is not None and searched < 256:
                check(bytes(self._buffer[:256]))
            searched = len(self._buffer)
            await self._more()

    async def read_exactly(self, size):
        out = bytearray()
        while len(out) < size:
            if self._buffer:
                take = min(size - len(out), len(self._buffer))
                out += self._buffer[:take]
                del self._buffer[:take]
                self._consumed()
            else:
                await self._more()
        return bytes(out)

    # -- writing ----------------------------------------------------------------

    def write(self, data):
        if not self._lost:
            self.transport.write(data)

    async def drain(self):
        while self._writing_paused and not self._lost:
            self._write_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._write_waiter
            finally:
                self._write_waiter = None

    async def linger(self):
        """After a refusal: send EOF, drop what the client still sends, until
        it closes or _LINGER seconds pass (so that it reads the answer rather
        than a connection reset)."""
        self._discard = True
        self._buffer.clear()
        self._consumed()
        if self._reading_paused and not self._lost:
            self._reading_paused = False
            self.transport.resume_reading()
        if self._lost:
            return
        try:
            if self.transport.can_write_eof():
                self.transport.write_eof()
        except OSError:  # the client is gone already
            return
        try:
            async with asyncio.timeout(_LINGER):
                while not self._eof:
                    await self._more()
        except (TimeoutError, Closed):
            pass

    def close(self):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def evict(self, max_connections):
        """Closed to make room for a new connection (see MAX_CONNECTIONS): a
        client with a request half sent is told so (503); one waiting for its
        next request is simply closed, as by the idle timeout."""
        if self.state == "reading" and not self._lost:
            body = (f"connection closed to make room for others: the request did not "
                    f"arrive while the server was at its limit of {max_connections} "
                    f"connections\n").encode("utf-8")
            self.write(f"HTTP/1.1 {status_line(503)}\r\n"
                       f"Content-Type: text/plain; charset=utf-8\r\n"
                       f"Content-Length: {len(body)}\r\nConnection: close\r\n"
                       f"Server: wbemconform\r\n\r\n".encode("latin-1") + body)
        if self.state == "refusing":
            self.abort()
        else:
            self.close()

    def abort(self):
        if self.transport is not None:
            self.transport.abort()


def status_line(code):
    return f"{code} {http.client.responses.get(code, 'Error')}"
