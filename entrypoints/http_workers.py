"""The HTTP server's sockets and processes: bind the port first, then serve it with one process
or with `--workers N`, where a dispatcher hands each new connection to the next worker in turn.

Why a dispatcher rather than workers accepting from one shared socket, or each on its own
`SO_REUSEPORT` socket: with a shared socket, whichever worker is awake takes the whole backlog
(a burst of 8 new connections split 2/6 every time), and a keep-alive connection stays where it
landed, so one worker served most of a few clients while the other idled. `SO_REUSEPORT` spreads
by a hash of the connection's addresses: in 200 bursts of 8 on this kernel only a quarter split
4/4 and 28 % split 2/6 or worse. Handing connections out in turn splits every burst evenly; it
costs the parent an `accept` and a `sendmsg` per *connection* (not per request), and the workers
stay plain uvicorn servers with their graceful shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import multiprocessing
import os
import selectors
import signal
import socket
import sys
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from domain.errors import ConfigurationError

log = logging.getLogger("zava.http")

READY = b"R"  # worker -> supervisor: started, send connections
CONNECTION = b"C"  # supervisor -> worker: one accepted connection (its fd travels alongside)
BACKLOG = 2048
STOP_GRACE_S = 30.0  # after SIGTERM a worker drains for up to 10 s, then shuts its pool down


def bind_listeners(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for `host:port` (one per address the host resolves to, as asyncio's
    `create_server` binds them), or one line naming what is wrong: the first thing `serve`
    does, so a port in use costs no banner, no tokens and no model load."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise ConfigurationError(
            f"--host {host!r} is not an address of this machine ({e.strerror})")
    listeners: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):  # no duplicate addresses
            sock = socket.socket(family, kind, proto)
            listeners.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT only
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
    except OSError as e:
        for sock in listeners:
            sock.close()
        raise ConfigurationError(_bind_error(host, port, e))
    return listeners


def _bind_error(host: str, port: int, error: OSError) -> str:
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    if error.errno == errno.EADDRINUSE:
        return (f"port {port} is already in use on {host or 'all interfaces'}: stop the server"
                " using it or pass another --port")
    if error.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"--host {host!r} is not an address of this machine"
    return f"cannot listen on {where}: {error.strerror}"


def serve(config: uvicorn.Config, listeners: list[socket.socket], workers: int) -> None:
    """Serve until SIGINT/SIGTERM. One worker: uvicorn in this process on `listeners`. More:
    this process accepts and dispatches, each worker serves what it is handed (its own app,
    built by `config`'s factory in the new process). Exits 3 if the server never started."""
    if workers == 1:
        server = uvicorn.Server(config)
        server.run(sockets=listeners)
        if not server.started:
            sys.exit(STARTUP_FAILURE)
        return
    Supervisor(config, listeners, workers).run()


class WorkerServer(uvicorn.Server):
    """A worker's uvicorn server: no listening socket of its own; it serves the connections the
    supervisor passes over `channel` (SCM_RIGHTS), and says READY once its app has started."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self._channel = channel
        self._handovers: set[asyncio.Task[Any]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # runs the lifespan (pool, model); no listener
        loop = asyncio.get_running_loop()
        loop.add_reader(self._channel.fileno(), self._receive, loop)
        self._channel.send(READY)

    def _receive(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            message, fds, _, _ = socket.recv_fds(self._channel, 64, 64)
        except BlockingIOError:
            return
        if not message:  # the supervisor is gone: stop like on SIGTERM
            loop.remove_reader(self._channel.fileno())
            self.should_exit = True
            return
        for fd in fds:
            task = loop.create_task(self._serve_connection(loop, socket.socket(fileno=fd)))
            self._handovers.add(task)
            task.add_done_callback(self._handovers.discard)

    async def _serve_connection(self, loop: asyncio.AbstractEventLoop,
                                sock: socket.socket) -> None:
        try:
            await loop.connect_accepted_socket(self._protocol, sock)
        except OSError:  # the client left while it was being handed over
            sock.close()

    def _protocol(self) -> asyncio.Protocol:
        # what uvicorn's own startup gives `create_server`
        return self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        with contextlib.suppress(ValueError, OSError):  # already removed, or closed
            asyncio.get_running_loop().remove_reader(self._channel.fileno())
        self._channel.close()  # connections still in flight to us are closed with it
        await super().shutdown(sockets)


def _worker_main(config: uvicorn.Config, channel: socket.socket) -> None:
    """A worker process (spawned: a fresh interpreter, nothing inherited but the environment)."""
    channel.setblocking(False)
    config.configure_logging()
    server = WorkerServer(config, channel)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


@dataclass(eq=False)
class Worker:
    index: int
    process: SpawnProcess
    channel: socket.socket  # the supervisor's end
    ready: bool = False


@dataclass
class Supervisor:
    """Starts `workers` processes, accepts on `listeners` once they are ready and hands each
    connection to the next ready worker in turn; restarts a worker that dies while serving,
    stops everything if one fails to start; on SIGINT/SIGTERM stops accepting, lets every
    worker drain and shut down, and waits for them."""

    config: uvicorn.Config
    listeners: list[socket.socket]
    workers: int
    _selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    _running: list[Worker] = field(default_factory=list)
    _retired: list[SpawnProcess] = field(default_factory=list)
    _next: int = 0
    _accepting: bool = False
    _stop_requested: bool = False
    _failed: bool = False

    def run(self) -> None:
        wakeup_read, wakeup_write = socket.socketpair()
        wakeup_write.setblocking(False)
        previous_wakeup = signal.set_wakeup_fd(wakeup_write.fileno(), warn_on_full_buffer=False)
        previous = {sig: signal.signal(sig, self._request_stop)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        self._selector.register(wakeup_read, selectors.EVENT_READ, "wakeup")
        try:
            for index in range(self.workers):
                self._running.append(self._start(index))
            while not self._stop_requested and not self._failed:
                for key, _ in self._selector.select():
                    self._handle(key)
                    if self._stop_requested or self._failed:
                        break
        finally:
            self._stop_all()
            signal.set_wakeup_fd(previous_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for sock in (wakeup_read, wakeup_write):
                sock.close()
            self._selector.close()
        if self._failed:
            sys.exit(STARTUP_FAILURE)

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop_requested = True

    def _start(self, index: int) -> Worker:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = multiprocessing.get_context("spawn").Process(
            target=_worker_main, args=(self.config, theirs), name=f"zava-worker-{index}")
        process.start()
        theirs.close()  # the child has its copy
        worker = Worker(index, process, ours)
        self._selector.register(ours, selectors.EVENT_READ, worker)
        return worker

    def _handle(self, key: selectors.SelectorKey) -> None:
        if key.data == "wakeup":
            with contextlib.suppress(BlockingIOError):
                key.fileobj.recv(512)  # type: ignore[union-attr]
        elif key.data == "listener":
            self._dispatch(key.fileobj)  # type: ignore[arg-type]
        else:
            self._from_worker(key.data)

    def _from_worker(self, worker: Worker) -> None:
        try:
            message = worker.channel.recv(16)
        except OSError:
            message = b""
        if message == READY:
            worker.ready = True
            log.info("worker %d (pid %s) is serving", worker.index, worker.process.pid)
            self._accept(True)
            return
        self._lost(worker)

    def _accept(self, accepting: bool) -> None:
        """Watch the listeners while some worker is ready; until then, connections wait in
        the kernel's backlog."""
        if accepting == self._accepting:
            return
        for sock in self.listeners:
            if accepting:
                sock.setblocking(False)
                self._selector.register(sock, selectors.EVENT_READ, "listener")
            else:
                self._selector.unregister(sock)
        self._accepting = accepting

    def _lost(self, worker: Worker) -> None:
        """A worker ended (its channel closed) without being asked to: replace it, unless it
        never started, which would fail the same way again."""
        self._selector.unregister(worker.channel)
        worker.channel.close()
        if not worker.ready:
            worker.process.join(timeout=STOP_GRACE_S)
            log.error("worker %d (pid %s) failed to start (exit %s): stopping", worker.index,
                      worker.process.pid, worker.process.exitcode)
            self._running.remove(worker)
            self._failed = True
            return
        log.error("worker %d (pid %s) died (exit %s): starting another", worker.index,
                  worker.process.pid, worker.process.exitcode)
        self._retired.append(worker.process)  # may still be draining: reaped at the stop
        self._running[self._running.index(worker)] = self._start(worker.index)
        self._accept(any(w.ready for w in self._running))

    def _dispatch(self, listener: socket.socket) -> None:
        """Accept what is waiting and hand each connection to the next ready worker."""
        while True:
            try:
                connection, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # e.g. EMFILE, ECONNABORTED: drop this one, keep serving
                log.warning("accept failed: %s", e)
                return
            with connection:
                self._hand_over(connection)

    def _hand_over(self, connection: socket.socket) -> None:
        for _ in range(len(self._running)):
            worker = self._running[self._next % len(self._running)]
            self._next += 1
            if not worker.ready:
                continue
            try:
                socket.send_fds(worker.channel, [CONNECTION], [connection.fileno()])
                return
            except OSError:  # it just died; its channel's EOF will replace it
                continue
        log.warning("no worker ready: dropped a connection")

    def _stop_all(self) -> None:
        """Stop accepting (connections still queued are refused), then SIGTERM every worker:
        each finishes its requests in flight and closes its pool; wait for them all."""
        self._accept(False)
        for sock in self.listeners:
            sock.close()
        for worker in self._running:
            if worker.process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.process.pid, signal.SIGTERM)  # type: ignore[arg-type]
        for worker in self._running:
            worker.process.join(timeout=STOP_GRACE_S)
            if worker.process.is_alive():
                log.error("worker %d (pid %s) did not stop in %.0f s: killing it",
                          worker.index, worker.process.pid, STOP_GRACE_S)
                worker.process.kill()
                worker.process.join()
            worker.channel.close()
        for process in self._retired:
            process.join(timeout=STOP_GRACE_S)

