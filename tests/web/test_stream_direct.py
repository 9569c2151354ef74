"""The hub writing frames to viewers' sockets itself (``hiitpi.web.stream.Direct``), over a
socket pair: whole frames, a full socket handed back with what it still owes, a gone client."""

from __future__ import annotations

import socket
import threading

import pytest

from hiitpi.web.stream import Direct, FrameHub, Seat


class _NoStore:  # a local hub never touches its store
    pass


def _hub() -> FrameHub:
    return FrameHub(_NoStore(), local=True)  # type: ignore[arg-type]


def _pair() -> tuple[socket.socket, socket.socket, Direct]:
    app_side, client = socket.socketpair()
    app_side.settimeout(2.0)  # as the server's sockets: a timeout, so non-blocking underneath
    dup = app_side.dup()
    dup.setblocking(False)
    return app_side, client, Direct(dup, chunked=True, send=app_side.sendall)


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        assert chunk
        out += chunk
    return out


def test_the_hub_writes_each_offered_frame_as_one_http_chunk() -> None:
    hub = _hub()
    app_side, client, direct = _pair()
    assert hub.attach(direct, None)
    for i in range(3):
        hub.offer(bytes([i]) * 1000)
    client.settimeout(2.0)
    stream = client.makefile("rb")
    for i in range(3):  # each frame one HTTP/1.1 chunk: size line, one whole part, CRLF
        size = int(stream.readline().strip(), 16)
        part = stream.read(size)
        assert stream.read(2) == b"\r\n"
        head, body = part.split(b"\r\n\r\n", 1)
        assert head.startswith(b"--frame\r\n") and b"Content-Length: 1000" in head
        assert body == bytes([i]) * 1000 + b"\r\n"
    stream.close()
    assert hub.direct_frames == 3 and direct.seat is Seat.HUB
    assert hub.detach(direct) is Seat.HUB and direct.seat is Seat.OFF
    hub.offer(b"late")  # detached: the hub writes nothing more for it
    client.setblocking(False)
    with pytest.raises(BlockingIOError):
        client.recv(1)
    assert hub.direct_frames == 3
    for s in (app_side, client):
        s.close()
    direct.close()


def test_a_full_socket_goes_back_to_its_thread_with_the_rest_of_the_frame() -> None:
    hub = _hub()
    app_side, client, direct = _pair()
    app_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    assert hub.attach(direct, None)
    jpeg = b"\xff" * 200_000  # more than both buffers hold
    hub.offer(jpeg)
    assert direct.seat is Seat.BACK and direct.changed.is_set()
    assert 0 < len(direct.owed) <= len(jpeg) + 200
    assert hub.handed_back == 1 and hub.direct_frames == 0
    hub.offer(b"next")  # not written: the socket belongs to the viewer's thread now
    seat = hub.detach(direct)
    assert seat is Seat.BACK
    part = direct.last.part
    whole = b"%x\r\n%b\r\n" % (len(part), part)  # the frame as one HTTP/1.1 chunk
    received: list[bytes] = []
    client.settimeout(2.0)
    reader = threading.Thread(target=lambda: received.append(_read_exactly(client, len(whole))))
    reader.start()
    direct.send(direct.owed)  # what the viewer's thread does: the rest, with the timeout
    reader.join(5)
    assert received == [whole]  # exactly one whole frame: the hub's start and the thread's rest
    client.setblocking(False)
    with pytest.raises(BlockingIOError):  # and nothing of the frame offered meanwhile
        client.recv(1)
    for s in (app_side, client):
        s.close()
    direct.close()


def test_a_client_that_left_ends_its_stream() -> None:
    hub = _hub()
    app_side, client, direct = _pair()
    assert hub.attach(direct, None)
    client.close()
    hub.offer(b"frame")
    hub.offer(b"frame")  # the first send may still succeed into the dead socket's buffer
    assert direct.seat is Seat.DEAD and direct.changed.is_set()
    assert hub.detach(direct) is Seat.DEAD
    app_side.close()
    direct.close()


def test_attach_waits_for_the_thread_to_send_a_newer_frame_first() -> None:
    hub = _hub()
    hub.offer(b"one")
    _, _, direct = _pair()
    assert not hub.attach(direct, None)  # a frame is here that this viewer has not had
    first = hub.wait(None, 0.1)
    assert first is not None and hub.attach(direct, first)
    direct.close()
