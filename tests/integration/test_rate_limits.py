"""With REDIS_URL, every web process counts the rate limits in the same Redis."""

from pathlib import Path

from redis import Redis

from api.extensions import db
from tests import servers
from tests.conftest import build_app


def test_rate_limits_are_counted_in_a_redis_reached_by_a_unix_socket(tmp_path: Path) -> None:
    server = servers.Redis(tmp_path)
    server.start()
    try:
        app = build_app(tmp_path, redis_url=server.socket_url)
        client = app.test_client()
        attempts = {"email": "nobody@example.org", "password": "not the password"}
        statuses = [client.post("/api/v1/tokens", json=attempts).status_code for _ in range(11)]
        assert statuses[:10] == [401] * 10 and statuses[10] == 429
        with Redis.from_url(server.socket_url) as redis:
            assert redis.keys("LIMITS*"), "the counts are in Redis, where every web process sees them"
        with app.app_context():
            db.engine.dispose()
    finally:
        server.stop()
