"""Plan sessions (a plan run; its blocks are sets), block columns on sets, count corrections.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("plan_name", sa.String(length=64), nullable=False),
        sa.Column("plan_toml", sa.Text(), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'done', 'interrupted')", name=op.f("ck_plan_sessions_status")
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
            name=op.f("fk_plan_sessions_player_id_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_sessions")),
    )
    op.create_index(
        "ix_plan_sessions_player_id_started_at", "plan_sessions", ["player_id", "started_at"]
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("plan_session_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("block", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("round", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("target", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("correction", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key(
            op.f("fk_sessions_plan_session_id_plan_sessions"),
            "plan_sessions",
            ["plan_session_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_sessions_plan_session_id"), ["plan_session_id"])
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("delta IN (-1, 1)", name=op.f("ck_corrections_delta")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_corrections_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index(op.f("ix_corrections_session_id"), "corrections", ["session_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_corrections_session_id"), table_name="corrections")
    op.drop_table("corrections")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index(op.f("ix_sessions_plan_session_id"))
        batch.drop_constraint(op.f("fk_sessions_plan_session_id_plan_sessions"), type_="foreignkey")
        for column in ("correction", "target", "round", "block", "plan_session_id"):
            batch.drop_column(column)
    op.drop_index("ix_plan_sessions_player_id_started_at", table_name="plan_sessions")
    op.drop_table("plan_sessions")
