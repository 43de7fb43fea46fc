"""Questionnaire answers: one per person, course and questionnaire (training impact, Kirkpatrick levels 1 and 3)

Revision ID: 0024_questionnaires
Revises: 0023_quiz_categories
Create Date: 2026-12-05 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_questionnaires'
down_revision = '0023_quiz_categories'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'questionnaire_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('course_slug', sa.String(length=64), nullable=False),
        sa.Column('questionnaire', sa.String(length=32), nullable=False),
        sa.Column('ratings', sa.JSON(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('answered_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'user_id', 'course_slug', 'questionnaire'),
    )
    op.create_index('ix_questionnaire_answers_tenant_id', 'questionnaire_answers', ['tenant_id'], unique=False)


def downgrade():
    op.drop_index('ix_questionnaire_answers_tenant_id', table_name='questionnaire_answers')
    op.drop_table('questionnaire_answers')
