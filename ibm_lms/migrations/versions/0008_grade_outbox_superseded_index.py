"""an index for the grade outbox's superseded check

Revision ID: 0008_outbox_superseded_index
Revises: 0007_quizzes
Create Date: 2026-12-03 07:50:00

"""
from alembic import op


revision = '0008_outbox_superseded_index'
down_revision = '0007_quizzes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lti_grade_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_lti_grade_outbox_link_user_scored', ['resource_link_id', 'user_id', 'scored_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('lti_grade_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_lti_grade_outbox_link_user_scored')
