"""A Modbus TCP server that serves simulated motor currents: the gateway's test bench.

Each unit (device id) is one meter; holding register ``REGISTER`` holds the RMS current in
hundredths of an ampere (a common meter scaling), taken from the unit's trace at the moment of the
read: trace sample ``floor((now - t0) * hz)``, the last sample after the end. pymodbus serves it
(a real Modbus server, not a mock of the gateway): the gateway reads it over TCP like a meter.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

REGISTER = 0
SCALE_A = 0.01


class TraceServer:
    """Serve ``traces[unit]`` (amps sampled at ``hz``) from ``t0`` on; runs in its own thread."""

    def __init__(
        self, traces: dict[int, np.ndarray], hz: float, port: int, host: str = "127.0.0.1", serial: str | None = None
    ) -> None:
        """``serial``: serve Modbus RTU on this serial device instead of TCP on ``host:port``."""
        self.traces = {
            u: np.round(np.asarray(tr) / SCALE_A).clip(0, 65535).astype(np.int64) for u, tr in traces.items()
        }
        self.hz = hz
        self.host, self.port = host, port
        self.serial = serial
        self.t0 = time.monotonic()
        self.clock: Callable[[], float] = time.monotonic
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="trace-server")
        self._ready = threading.Event()

    def value(self, unit: int) -> int:
        tr = self.traces[unit]
        i = int((self.clock() - self.t0) * self.hz)
        return int(tr[min(max(i, 0), len(tr) - 1)])

    async def _action(
        self,
        unit: int,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> None:
        current_registers[REGISTER - start_address] = self.value(unit)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        devices = [
            SimDevice(
                id=u,
                simdata=[SimData(address=REGISTER, count=1, values=0, datatype=DataType.REGISTERS)],
                action=partial(self._action, u),
            )
            for u in sorted(self.traces)
        ]

        async def main() -> None:
            if self.serial is not None:
                self._server = ModbusSerialServer(devices, port=self.serial, baudrate=9600)
            else:
                self._server = ModbusTcpServer(devices, address=(self.host, self.port))
            self._ready.set()
            await self._server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError, RuntimeError):
            self._loop.run_until_complete(main())

    def start(self, t0: float | None = None) -> TraceServer:
        self._thread.start()
        self._ready.wait(10)
        deadline = time.monotonic() + 10
        import socket

        while self.serial is None and time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        self.t0 = time.monotonic() if t0 is None else t0
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            fut = asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop)
            with contextlib.suppress(Exception):
                fut.result(5)
        self._thread.join(5)
