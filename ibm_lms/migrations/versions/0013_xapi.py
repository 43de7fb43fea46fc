"""xAPI: the statement outbox and each academy's LRS settings

Revision ID: 0013_xapi
Revises: 0012_api_tokens
Create Date: 2026-12-03 10:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_xapi'
down_revision = '0012_api_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('xapi_statement_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.String(length=36), nullable=False),
    sa.Column('verb', sa.String(length=32), nullable=False),
    sa.Column('statement', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_answer', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_xapi_statement_outbox_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_statement_outbox')),
    sa.UniqueConstraint('statement_id', name=op.f('uq_xapi_statement_outbox_statement_id'))
    )
    with op.batch_alter_table('xapi_statement_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_xapi_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_xapi_statement_outbox_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('xapi_lrs_settings',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=500), nullable=True),
    sa.Column('auth', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=True),
    sa.Column('secret_sealed', sa.Text(), nullable=True),
    sa.Column('token_url', sa.String(length=500), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('share_identity', sa.Boolean(), nullable=False),
    sa.Column('pseudonym_key_sealed', sa.Text(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('open_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_xapi_lrs_settings_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_xapi_lrs_settings'))
    )


def downgrade():
    op.drop_table('xapi_lrs_settings')
    with op.batch_alter_table('xapi_statement_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_xapi_statement_outbox_tenant_id'))
        batch_op.drop_index('ix_xapi_outbox_due')
    op.drop_table('xapi_statement_outbox')
