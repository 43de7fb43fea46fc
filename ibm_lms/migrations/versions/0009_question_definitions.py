"""question versions keep their definition as written, to edit and translate

Revision ID: 0009_question_definitions
Revises: 0008_outbox_superseded_index
Create Date: 2026-12-03 08:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_question_definitions'
down_revision = '0008_outbox_superseded_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_question_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('definition', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('quiz_question_versions', schema=None) as batch_op:
        batch_op.drop_column('definition')
