"""images authors upload for their questions

Revision ID: 0010_quiz_images
Revises: 0009_question_definitions
Create Date: 2026-12-03 08:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_quiz_images'
down_revision = '0009_question_definitions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quiz_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=32), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_quiz_images_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_quiz_images_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_images')),
    sa.UniqueConstraint('tenant_id', 'digest', name=op.f('uq_quiz_images_tenant_id_digest'))
    )
    with op.batch_alter_table('quiz_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_images_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('quiz_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_images_tenant_id'))
    op.drop_table('quiz_images')
