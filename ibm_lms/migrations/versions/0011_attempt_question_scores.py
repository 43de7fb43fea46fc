"""each finished attempt keeps its questions' scores by key, for item statistics

Revision ID: 0011_attempt_question_scores
Revises: 0010_quiz_images
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_attempt_question_scores'
down_revision = '0010_quiz_images'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('question_scores', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_column('question_scores')
