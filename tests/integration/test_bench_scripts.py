"""The benchmark scripts still drive the real code (they are not run by `make test` otherwise)."""

from pathlib import Path

from api.extensions import db
from bench import release


def test_the_release_benchmark_builds_and_releases_a_real_scope(tmp_path: Path) -> None:
    data = release.build(tmp_path, 12, keep=True, seed=3)
    _, _, released = release.release(data)
    assert released == 12
    assert release.raw_open(data) > 0
    with data.app.app_context():
        db.engine.dispose()
