"""Slowloris: 500 connections that each trickle a request head and never finish it; and
a client that pipelines 2,000 requests for a 1 MiB file and never reads the answers.

The server keeps serving (``/ping`` p99 under 200 ms while they hang), and once they
go every descriptor they held is released. uvicorn has no deadline for a request head
(its keep-alive timeout starts only after a response); ``qake run`` adds one
(``--head-timeout``, qakeapi/_head_deadline.py): a head still unfinished then is
answered 408 and its connection closed.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import time

import pytest
from hostile.kit import HEAD_TIMEOUT, MIB, Target, connect, settled, watched

pytestmark = [pytest.mark.e2e, pytest.mark.hostile]

CONNECTIONS = 500


def _open(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for i in range(count):
        s = connect(port)
        s.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-%d: " % i)
        sockets.append(s)
    return sockets


@settled
def test_500_slowloris_connections_do_not_stall_the_server(target: Target) -> None:
    with watched(target, f"{CONNECTIONS} slowloris connections") as w:
        fds_before = len(target.fds())
        sockets = _open(target.port, CONNECTIONS)
        try:
            for _ in range(4):  # 2 s of trickling: one more byte per connection
                time.sleep(0.5)
                for s in sockets:
                    s.send(b"a")
            held = len(target.fds()) - fds_before
            w.notes["server_fds_held"] = held
            w.answer = f"all {CONNECTIONS} held open by the server ({held} fds)"
        finally:
            for s in sockets:
                s.close()
    assert held >= CONNECTIONS * 0.9  # the server did accept and hold them


def test_a_request_head_that_never_ends_is_cut_off(target: Target) -> None:
    """A head still unfinished at the deadline is answered 408 (problem+json) and its
    connection closed; so is the slowest slowloris, however steadily it trickles."""
    with connect(target.port) as s:
        s.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        s.settimeout(0.5)
        started = time.monotonic()
        answer = b""
        while time.monotonic() - started < HEAD_TIMEOUT + 3:
            try:
                chunk = s.recv(4096)
            except TimeoutError:
                with contextlib.suppress(OSError):
                    s.send(b"a")  # still trickling: a byte every half second
                continue
            if not chunk:
                break
            answer += chunk
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer[:200]
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body) == {
        "type": "about:blank",
        "title": "Request Timeout",
        "status": 408,
        "detail": f"the request head was not complete within {HEAD_TIMEOUT:g} s",
    }
    assert HEAD_TIMEOUT - 0.5 < waited < HEAD_TIMEOUT + 2


def test_a_connection_that_sends_nothing_is_closed_silently(target: Target) -> None:
    """An idle new connection (a browser's preconnect, or an attacker's) is closed at
    the deadline without an answer."""
    with connect(target.port) as s:
        s.settimeout(HEAD_TIMEOUT + 3)
        started = time.monotonic()
        answer = s.recv(1024)
        waited = time.monotonic() - started
    assert answer == b""
    assert HEAD_TIMEOUT - 0.5 < waited < HEAD_TIMEOUT + 2


@settled
def test_pipelined_requests_whose_answers_are_never_read_stay_bounded(target: Target) -> None:
    """2,000 pipelined ``GET /file`` (2 GB of answers) on one connection whose client
    reads nothing for 2 s: flow control holds the server's buffers (RSS bounded), the
    others are served, and the connection dropped with a RST leaves nothing behind."""
    pipeline = b"GET /file HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 2000
    with watched(target, "2,000 pipelined 1 MiB answers never read", rss_bound=32 * MIB) as w:
        s = connect(target.port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            s.sendall(pipeline)
            time.sleep(2)
            w.answer = "not read; connection reset by the client"
        finally:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
