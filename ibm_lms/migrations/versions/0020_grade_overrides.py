"""instructors' grade overrides on quizzes, and which certification results come from one

Revision ID: 0020_grade_overrides
Revises: 0019_user_region
Create Date: 2026-12-03 19:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_grade_overrides'
down_revision = '0019_user_region'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'quiz_grade_overrides',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('quiz_id', sa.Integer(), nullable=False),
        sa.Column('grade', sa.Float(), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('overridden_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id']),
        sa.ForeignKeyConstraint(['overridden_by'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_quiz_grade_overrides_trainee', 'quiz_grade_overrides', ['tenant_id', 'quiz_id', 'user_id'])
    with op.batch_alter_table('cert_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default='attempt'))


def downgrade():
    with op.batch_alter_table('cert_results', schema=None) as batch_op:
        batch_op.drop_column('source')
    op.drop_index('ix_quiz_grade_overrides_trainee', table_name='quiz_grade_overrides')
    op.drop_table('quiz_grade_overrides')
