"""A uuid on sets, plan sessions and corrections: the key the station's journal replays by.

The journal (``hiitpi.engine.journal``) names every set, plan run and fix with a uuid so that
replaying it into the database after an outage or a crash is idempotent: a row that is already
there is found by its uuid, never written twice. Rows from before this revision have none.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("sessions", "plan_sessions", "corrections")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("uuid", sa.String(length=36), nullable=True))
            batch.create_index(f"ix_{table}_uuid", ["uuid"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_uuid")
            batch.drop_column("uuid")
