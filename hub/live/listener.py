"""On PostgreSQL, one connection per process LISTENs for announcements and feeds the broker.

The connection is its own (not one of the pool's): it is held for the life of the process.
When it is lost (the server restarted, a network fault, an administrator ended it) it is
opened again with backoff, and every subscriber is told it may have missed announcements in
between, so that each catches up from the database.
"""

from __future__ import annotations

import asyncio
import random

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from hub.live.announcements import CHANNEL, Announcement
from hub.live.broker import Broker

log = structlog.get_logger("hub.live")

APPLICATION_NAME = "p2c-hub live"
"""How the listening connection shows in pg_stat_activity."""

FIRST_DELAY, MAX_DELAY = 0.2, 10.0
"""Seconds before reconnecting: doubling from the first to the most."""


def asyncpg_dsn(database_url: str) -> str:
    """asyncpg's DSN for the hub's SQLAlchemy URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Listener:
    """LISTEN on ``CHANNEL`` for ``broker``, checking the connection every ``keepalive``
    seconds; ``run`` until cancelled."""

    def __init__(self, database_url: str, broker: Broker, *, keepalive: float = 10.0) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.broker = broker
        self.keepalive = keepalive
        self.listening = asyncio.Event()
        self.connections = 0

    async def started(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the first LISTEN; whether it is in place."""
        try:
            async with asyncio.timeout(seconds):
                await self.listening.wait()
        except TimeoutError:
            log.warning("live.not_listening_yet", waited=seconds)
            return False
        return True

    async def run(self) -> None:
        delay = FIRST_DELAY
        while True:
            try:
                connection = await asyncpg.connect(
                    self.dsn,
                    timeout=self.keepalive,
                    server_settings={"application_name": APPLICATION_NAME},
                )
            except (OSError, TimeoutError, asyncpg.PostgresError) as error:
                log.warning("live.connect_failed", error=str(error), retry_in=delay)
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, MAX_DELAY)
                continue
            delay = FIRST_DELAY
            try:
                await self._listen(connection)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("live.connection_lost", error=str(error))
            finally:
                self.listening.clear()
                connection.terminate()

    async def _listen(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(CHANNEL, self._received)
        self.connections += 1
        self.listening.set()
        # whatever was announced while nobody listened must be caught up
        self.broker.interrupt()
        log.info("live.listening", connections=self.connections)
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), self.keepalive)
            except TimeoutError:
                await connection.fetchval("SELECT 1", timeout=self.keepalive)
        log.warning("live.connection_closed")

    def _received(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        announcement = Announcement.decode(payload)
        if announcement is not None:
            self.broker.publish(announcement)
