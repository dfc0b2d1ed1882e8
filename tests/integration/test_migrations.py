"""Migrations build exactly the schema the models describe, and undo it cleanly."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from api import create_app
from api.extensions import db
from feedback.models import Base
from tests.conftest import make_settings


def test_migrations_match_the_models_and_downgrade_to_nothing(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == [], diff
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
