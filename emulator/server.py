"""Serving an Org over HTTP with waitress (threaded), in the foreground or a background thread;
over HTTPS (`cert_file=`) with werkzeug's threaded server, since waitress speaks no TLS."""

from __future__ import annotations

import contextlib
import logging
import threading

from waitress.server import create_server
from werkzeug.serving import WSGIRequestHandler, make_server

from emulator.web.app import make_wsgi_app

THREADS = 8


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (waitress writes none either); errors still logged."""

    def log(self, type: str, message: str, *args) -> None:
        if type == "error":
            super().log(type, message, *args)


class _TlsServer:
    """werkzeug's threaded WSGI server with TLS, shaped like the bits of waitress used here."""

    def __init__(self, app, host: str, port: int, cert_file: str):
        from emulator.tls import make_tls

        self.server = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=make_tls(cert_file),
        )
        self.effective_host = host
        self.effective_port = self.server.server_address[1]

    def run(self) -> None:
        self.server.serve_forever()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class EmulatorServer:
    """An Org behind a waitress server: `EmulatorServer(org, port=0).start()` … `.stop()`."""

    def __init__(
        self,
        org,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = THREADS,
        cert_file: str | None = None,
    ):
        self.org = org
        self.cert_file = cert_file
        self.host = host
        self.port = port
        self.threads = threads
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.cert_file else "http"

    def _create(self):
        if self.cert_file:
            self._server = _TlsServer(make_wsgi_app(self.org), self.host, self.port, self.cert_file)
            self.org.base_url = self.base_url
            return self._server
        # log_socket_errors=False: a result stream cut on purpose (cut_stream fault) or a client
        # hanging up mid-download is not a server error worth a traceback.
        self._server = create_server(
            make_wsgi_app(self.org),
            host=self.host,
            port=self.port,
            threads=self.threads,
            ident="emulator",
            log_socket_errors=False,
            channel_timeout=300,
            connection_limit=200,
            # Result pages are generated in ~1 MB chunks: keep them in memory instead of
            # waitress's default spill-to-temp-file beyond 1 MB.
            outbuf_overflow=4 * 1024 * 1024,
            outbuf_high_watermark=16 * 1024 * 1024,
        )
        self.org.base_url = self.base_url
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        return self._server

    @property
    def base_url(self) -> str:
        server = self._server
        if server is None:
            raise RuntimeError("server not started")
        host = server.effective_host
        if ":" in host:
            host = f"[{host}]"
        return f"{self.scheme}://{host}:{server.effective_port}"

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread; returns self once the socket is listening."""
        server = self._create()
        self._thread = threading.Thread(target=server.run, name="emulator-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until KeyboardInterrupt / SystemExit."""
        server = self._server or self._create()
        try:
            server.run()
        finally:
            self._shutdown()

    def stop(self) -> None:
        """Stop serving, close open connections, and wait for the server thread."""
        server = self._server
        if server is None:
            return
        if isinstance(server, _TlsServer):
            server.close()
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._thread = None
            self._server = None
            return
        if self._thread is None:
            self._shutdown()
            return
        done = threading.Event()

        def close_all():
            # Runs inside the server's event loop (waitress trigger), where closing sockets is
            # safe; with nothing left in its socket map, the loop returns.
            try:
                self._close_sockets(server)
            finally:
                done.set()

        try:
            server.trigger.pull_trigger(close_all)
        except OSError:
            # The event loop is already gone (its trigger closed): close from here.
            close_all()
        done.wait(timeout=10)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        self._thread.join(timeout=10)
        self._thread = None
        self._server = None

    @staticmethod
    def _close_sockets(server) -> None:
        for channel in list(server._map.values()):
            if channel is not server and channel is not server.trigger:
                with contextlib.suppress(OSError):
                    channel.close()
        server.close()

    def _shutdown(self) -> None:
        server = self._server
        if server is None:
            return
        if isinstance(server, _TlsServer):
            server.server.server_close()
            self._server = None
            return
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        self._close_sockets(server)
        self._server = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
