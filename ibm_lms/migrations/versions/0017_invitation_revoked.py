"""registration invitations can be revoked before they are used

Revision ID: 0017_invitation_revoked
Revises: 0016_platform_disabled
Create Date: 2026-12-03 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_invitation_revoked'
down_revision = '0016_platform_disabled'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lti_registration_invites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('lti_registration_invites', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
