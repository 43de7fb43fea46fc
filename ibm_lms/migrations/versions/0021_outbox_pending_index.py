"""the outboxes' pending rows indexed in id order, so a worker's claim does not walk the delivered history

Revision ID: 0021_outbox_pending_index
Revises: 0020_grade_overrides
Create Date: 2026-12-03 22:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_outbox_pending_index'
down_revision = '0020_grade_overrides'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade():
    op.create_index('ix_xapi_outbox_pending', 'xapi_statement_outbox', ['id'],
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index('ix_lti_grade_outbox_pending', 'lti_grade_outbox', ['id'],
                    postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade():
    op.drop_index('ix_lti_grade_outbox_pending', table_name='lti_grade_outbox')
    op.drop_index('ix_xapi_outbox_pending', table_name='xapi_statement_outbox')
