"""tool operators and regional coordinators: people named from the command line who act beyond their academy

Revision ID: 0018_tool_operators
Revises: 0017_invitation_revoked
Create Date: 2026-12-03 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_tool_operators'
down_revision = '0017_invitation_revoked'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tool_operator', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('regional_coordinator', sa.Boolean(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('regional_coordinator')
        batch_op.drop_column('tool_operator')
