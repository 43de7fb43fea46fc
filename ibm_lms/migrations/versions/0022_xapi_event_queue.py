"""xAPI event queue: events whose statements the worker writes (a submitted quiz makes one per question)

Revision ID: 0022_xapi_event_queue
Revises: 0021_outbox_pending_index
Create Date: 2026-12-04 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_xapi_event_queue'
down_revision = '0021_outbox_pending_index'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade():
    op.create_table(
        'xapi_event_queue',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('event', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_problem', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id'),
    )
    op.create_index('ix_xapi_event_queue_tenant_id', 'xapi_event_queue', ['tenant_id'], unique=False)
    op.create_index('ix_xapi_event_queue_pending', 'xapi_event_queue', ['id'],
                    postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade():
    op.drop_index('ix_xapi_event_queue_pending', table_name='xapi_event_queue')
    op.drop_index('ix_xapi_event_queue_tenant_id', table_name='xapi_event_queue')
    op.drop_table('xapi_event_queue')
