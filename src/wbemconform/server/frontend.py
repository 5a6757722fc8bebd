"""The HTTP front end of :func:`wbemconform.server.serve`: an asyncio
HTTP/1.1 server in one thread, handing each request to a WSGI application
(chosen by URL path, see :class:`wbemconform.server.routes.Routes`) in a pool
of ``numthreads`` worker threads.

The front end reads each request completely -- request line, headers, body
(strictly: :mod:`wbemconform.server.framing`) -- before a worker sees it, so
slow or idle clients cost a coroutine and a socket, never a worker; the head
and body must arrive within ``request_timeout`` (:data:`REQUEST_TIMEOUT`)
seconds of the request's first byte (else 408), TLS handshakes within
:data:`TLS_HANDSHAKE_TIMEOUT` seconds, and an idle kept-alive connection is
closed after ``idle_timeout`` (:data:`IDLE_TIMEOUT`) seconds; a client has
:data:`WRITE_TIMEOUT` seconds to take its answer. At most
``max_connections`` (:data:`MAX_CONNECTIONS`) connections are kept: one more
closes the connection that has been quiet longest (no byte for at least
:data:`EVICT_QUIET_SECONDS`, and no answer being made for it: a client
holding half a request, or an idle one) or, if none has, is answered 503, so
that clients holding connections open cannot lock the others out. A request
that is not acceptable is a one-line 4xx and the connection is closed;
nothing a client sends produces a traceback in the log. The standard
library's asyncio is used (not a threaded HTTP server such as cheroot,
whose workers read the request themselves and are held by a client that
trickles it, and whose TLS handshake blocks its accept loop): it handles
thousands of waiting sockets in one thread, TLS included.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import io
import time
import urllib.parse

from .common import LOG, one_line
from .connection import CONNECTION_KEY, Closed, Connection, status_line
from .faults import InjectedClose
from .framing import Reject, read_request

#: Seconds a request's head and body may take to arrive, from its first byte.
REQUEST_TIMEOUT = 30.0
#: Seconds a kept-alive connection may wait for its next request.
IDLE_TIMEOUT = 15.0
#: Seconds a TLS handshake may take.
TLS_HANDSHAKE_TIMEOUT = 10.0
#: Seconds a client may take to receive a response.
WRITE_TIMEOUT = 30.0
#: Most simultaneous connections. A connection beyond them closes the one
#: that has been quiet longest -- waiting for its (next) request, or with a
#: request half sent -- if that one has been quiet at least
#: :data:`EVICT_QUIET_SECONDS`; otherwise it is answered 503 and closed. So
#: clients that open connections and hold them (with half a request, say)
#: cannot lock the others out, while a burst of new connections is still 503.
MAX_CONNECTIONS = 512
#: Seconds without a byte from a connection (and no request of it being
#: answered) after which a new connection beyond :data:`MAX_CONNECTIONS` may
#: close it to make room.
EVICT_QUIET_SECONDS = 1.0


class Frontend:
    """The asyncio HTTP/1.1 front end of :func:`~wbemconform.server.serve`:
    reads requests whole and strictly, hands each to the WSGI application
    ``routes`` chooses for its path, in a worker thread."""

    def __init__(self, routes, sock, ssl_context, numthreads, request_timeout, idle_timeout,
                 max_connections):
        self.routes = routes
        self.sock = sock
        self.ssl_context = ssl_context
        self.request_timeout = request_timeout
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.scheme = "https" if ssl_context is not None else "http"
        address = sock.getsockname()
        self.server_name, self.server_port = str(address[0]), str(address[1])
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=numthreads, thread_name_prefix=f"wbemconform-worker-{address[1]}")
        self.connections = set()
        self.stopping = False
        self.loop = None
        self.server = None

    @property
    def app(self):
        """The default application (CIM-XML), answering every path no other
        application is mounted at."""
        return self.routes.default

    # -- the conversation on one connection -----------------------------------

    async def converse(self, conn):
        self.connections.add(conn)
        try:
            if len(self.connections) > self.max_connections and not self._make_room(conn):
                await self._refuse(conn, 503, f"more than {self.max_connections} connections")
                return
            while not self.stopping:
                conn.state = "waiting"
                try:
                    async with asyncio.timeout(self.idle_timeout):
                        await conn.wait_for_data()
                except (TimeoutError, Closed):
                    return  # idle, or closed between requests: nothing to answer
                conn.state = "reading"
                try:
                    async with asyncio.timeout(self.request_timeout):
                        request = await read_request(conn)
                except TimeoutError:
                    await self._refuse(conn, 408, f"the request did not arrive within "
                                                  f"{self.request_timeout:g} s")
                    return
                except Reject as exc:
                    await self._refuse(conn, exc.status, exc.detail)
                    return
                except Closed:
                    return  # the client gave up mid-request
                if self.stopping:
                    return
                conn.state = "answering"
                try:
                    answer = await self.loop.run_in_executor(self.executor, self._call_app,
                                                             request, conn.peer, conn.key)
                except RuntimeError:  # the executor is shut down: the server stops
                    return
                if not await self._respond(conn, request, *answer):
                    return
                conn.active = time.monotonic()
        except asyncio.CancelledError:
            conn.abort()
            raise
        except Exception:  # a bug in the front end: log it, drop the connection
            LOG.exception("internal error in the HTTP front end")
            conn.abort()
        finally:
            self.connections.discard(conn)
            conn.close()

    def _make_room(self, newcomer):
        """Close the connection quiet longest (not one being answered) if it
        has been quiet EVICT_QUIET_SECONDS or more; whether one was closed."""
        victim = None
        for conn in self.connections:
            if conn is newcomer or conn.state == "answering":
                continue
            if victim is None or conn.active < victim.active:
                victim = conn
        if victim is None:
            return False
        quiet = time.monotonic() - victim.active
        if quiet < EVICT_QUIET_SECONDS:
            return False
        self.connections.discard(victim)
        LOG.info("at the limit of %s connections: closing %s:%s (%s, quiet for %.1f s) "
                 "for a new one", self.max_connections, *victim.peer, victim.state, quiet)
        victim.evict(self.max_connections)
        return True

    async def _refuse(self, conn, status, detail):
        conn.state = "refusing"
        host, port = conn.peer
        LOG.info("HTTP %s to %s:%s: %s", status, host, port, detail)
        body = (detail + "\n").encode("utf-8")
        conn.write(f"HTTP/1.1 {status_line(status)}\r\n"
                   f"Content-Type: text/plain; charset=utf-8\r\n"
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n"
                   f"Server: wbemconform\r\n\r\n".encode("latin-1") + body)
        await conn.linger()

    # -- the application ---------------------------------------------------------

    def _environ(self, request, peer, conn_key=None):
        target = request.target
        if target.startswith(("http://", "https://")):  # absolute-form
            split = urllib.parse.urlsplit(target)
            path, query = split.path or "/", split.query
        else:
            path, _, query = target.partition("?")
        environ = {
            "REQUEST_METHOD": request.method, "SCRIPT_NAME": "",
            "PATH_INFO": urllib.parse.unquote(path, encoding="latin-1"),
            "QUERY_STRING": query, "SERVER_NAME": self.server_name,
            "SERVER_PORT": self.server_port, "SERVER_PROTOCOL": request.version,
            "REMOTE_ADDR": str(peer[0]), "REMOTE_PORT": str(peer[1]),
            "CONTENT_LENGTH": str(len(request.body)),
            "wsgi.version": (1, 0), "wsgi.url_scheme": self.scheme,
            "wsgi.input": io.BytesIO(request.body), "wsgi.errors": LogStream(),
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            CONNECTION_KEY: conn_key,  # the connection (see ConnectionKey)
        }
        for name, value in request.headers:
            if name in ("content-length", "transfer-encoding"):
                continue  # the body is whole: CONTENT_LENGTH says how long
            key = "CONTENT_TYPE" if name == "content-type" else \
                "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
        return environ

    def _call_app(self, request, peer, conn_key=None):
        """(status, headers, chunks, broken) from the WSGI application, in a worker."""
        state = {}
        chunks = []

        def start_response(status, headers, exc_info=None):
            state["status"], state["headers"] = status, list(headers)
            return chunks.append

        broken = False
        try:
            environ = self._environ(request, peer, conn_key)
            app = self.routes.dispatch(environ)
            result = app(environ, start_response)
            try:
                for chunk in result:
                    if chunk:
                        chunks.append(bytes(chunk))
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except InjectedClose as exc:  # the 'close' fault, as meant: no traceback
            LOG.info("%s", exc)
            broken = True
        except Exception:
            LOG.exception("the WSGI application failed on %s %s", request.method,
                          request.target[:100])
            if "status" not in state:
                state["status"] = status_line(500)
                state["headers"] = [("Content-Type", "text/plain; charset=utf-8")]
                chunks[:] = [b"internal server error\n"]
            broken = True
        return state.get("status") or status_line(500), state.get("headers") or [], \
            chunks, broken

    async def _respond(self, conn, request, status, headers, chunks, broken):
        """Write the answer; whether the connection stays open."""
        keep = request.keep_alive and not broken and not self.stopping
        names = {name.lower() for name, _ in headers}
        body = b"".join(chunks)
        lines = [f"HTTP/1.1 {status}\r\n"]
        lines.extend(f"{name}: {value}\r\n" for name, value in headers)
        if "content-length" not in names:
            lines.append(f"Content-Length: {len(body)}\r\n")
        if "date" not in names:
            lines.append(f"Date: {email.utils.formatdate(usegmt=True)}\r\n")
        if "server" not in names:
            lines.append("Server: wbemconform\r\n")
        if not keep:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        conn.write(head if request.method == "HEAD" else head + body)
        try:
            async with asyncio.timeout(WRITE_TIMEOUT):
                await conn.drain()
        except TimeoutError:
            LOG.info("%s:%s did not read its answer within %g s", *conn.peer, WRITE_TIMEOUT)
            conn.abort()
            return False
        return keep

    # -- running -----------------------------------------------------------------

    def _loop_exception(self, loop, context):
        exc = context.get("exception")
        if exc is None or isinstance(exc, (OSError, EOFError)):  # a client's failure
            LOG.info("%s%s", context.get("message", "connection error"),
                     f": {one_line(exc)}" if exc is not None else "")
        else:
            loop.default_exception_handler(context)

    def run(self, ready):
        """The front end's thread: its own event loop until stopped."""
        loop = self.loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._loop_exception)
        try:
            self.server = loop.run_until_complete(loop.create_server(
                lambda: Connection(self), sock=self.sock, ssl=self.ssl_context,
                ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT if self.ssl_context else None))
        except BaseException as exc:
            ready.append(exc)
            loop.close()
            return
        ready.append(None)
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(self._cancel_all())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _cancel_all(self):
        tasks = [c.task for c in list(self.connections) if c.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)

    async def _shutdown(self):
        self.stopping = True
        self.server.close()
        for conn in list(self.connections):
            conn.abort()
        await self._cancel_all()


class LogStream:
    """``wsgi.errors``: what the application writes there goes to the log."""

    def write(self, text):
        if text.strip():
            LOG.warning("%s", text.rstrip())

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass
