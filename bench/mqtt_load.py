"""A load generator for the benchmarks: pre-encoded MQTT 3.1.1 QoS 1 PUBLISH packets on a socket.

paho-mqtt publishes about 5,000 messages/s from Python, less than ingest takes, so it cannot
show ingest's ceiling. This writes packets that were encoded in advance, in large writes, and
counts PUBACKs on a reader thread: a publisher that costs little CPU. It is benchmark tooling,
not product code (the product receives with paho-mqtt).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _str(s: bytes) -> bytes:
    return struct.pack("!H", len(s)) + s


def connect_packet(client_id: str, keepalive: int = 60) -> bytes:
    var = _str(b"MQTT") + bytes([4, 0x02]) + struct.pack("!H", keepalive)
    body = var + _str(client_id.encode())
    return b"\x10" + _varint(len(body)) + body


def publish_packet(topic: str, payload: bytes, pid: int) -> bytes:
    body = _str(topic.encode()) + struct.pack("!H", pid) + payload
    return b"\x32" + _varint(len(body)) + body


class RawPublisher:
    def __init__(self, host: str, port: int, client_id: str = "bench-pub") -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(connect_packet(client_id))
        ack = self._read_exact(4)
        if ack[0] != 0x20 or ack[3] != 0:
            raise RuntimeError(f"broker refused the connection: {ack!r}")
        self.acked = 0
        self._stop = False
        self._reader = threading.Thread(target=self._read_acks, daemon=True)
        self._reader.start()

    def _read_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            buf += chunk
        return buf

    def _read_acks(self) -> None:
        pending = b""
        while not self._stop:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            pending += data
            # PUBACK = 0x40 0x02 pid(2): four bytes each.
            n = len(pending) // 4
            self.acked += n
            pending = pending[n * 4 :]

    def send(
        self,
        packets: list[bytes],
        rate_per_s: float | None = None,
        on_sent: Callable[[int], None] | None = None,
        chunk: int = 500,
    ) -> float:
        """Send packets (paced when rate_per_s is given); returns the seconds it took to send."""
        t0 = time.perf_counter()
        for i in range(0, len(packets), chunk):
            if rate_per_s:
                due = t0 + i / rate_per_s
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            self.sock.sendall(b"".join(packets[i : i + chunk]))
            if on_sent is not None:
                on_sent(min(i + chunk, len(packets)))
        return time.perf_counter() - t0

    def wait_acked(self, n: int, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.acked < n and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self.sock.sendall(b"\xe0\x00")  # DISCONNECT
        self.sock.close()
