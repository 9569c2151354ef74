"""The time a timed hold (plank) was held with good form, per set.

A hold counts no reps: before this revision a plank set stored nothing but its times, and, with
no rep and no no-rep, was discarded as empty when it ended. Its ``hold_s`` is what its history,
boards and export show. Rows from before this revision read 0.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("hold_s", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("hold_s")
