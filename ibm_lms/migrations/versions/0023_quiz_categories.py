"""Question categories' names by locale, from each course folder's question-categories.toml

Revision ID: 0023_quiz_categories
Revises: 0022_xapi_event_queue
Create Date: 2026-12-05 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_quiz_categories'
down_revision = '0022_xapi_event_queue'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'quiz_categories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bank', sa.Integer(), nullable=False),
        sa.Column('course_slug', sa.String(length=64), nullable=False),
        sa.Column('category', sa.String(length=64), nullable=False),
        sa.Column('names', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_categories')),
        sa.UniqueConstraint('bank', 'course_slug', 'category',
                            name=op.f('uq_quiz_categories_bank_course_slug_category')),
    )


def downgrade():
    op.drop_table('quiz_categories')
