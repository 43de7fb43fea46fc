"""a person's region (duty station or regional directorate), as the platform sends it in the custom claim

Revision ID: 0019_user_region
Revises: 0018_tool_operators
Create Date: 2026-12-03 16:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_user_region'
down_revision = '0018_tool_operators'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('region')
