"""one tenant per issuer, as a constraint: lti_issuers, and registrations pointing at it

Revision ID: 0003_one_tenant_per_issuer
Revises: 0002_deep_link_requests
Create Date: 2026-12-03 06:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003_one_tenant_per_issuer'
down_revision = '0002_deep_link_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lti_issuers',
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lti_issuers_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('issuer', name=op.f('pk_lti_issuers')),
    sa.UniqueConstraint('issuer', 'tenant_id', name=op.f('uq_lti_issuers_issuer_tenant_id'))
    )
    with op.batch_alter_table('lti_issuers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_issuers_tenant_id'), ['tenant_id'], unique=False)
    # Registrations made before this revision: the code already kept one tenant per issuer.
    op.execute("INSERT INTO lti_issuers (issuer, tenant_id) SELECT DISTINCT issuer, tenant_id FROM lti_platforms")
    with op.batch_alter_table('lti_platforms', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_lti_platforms_issuer_tenant_lti_issuers', 'lti_issuers',
                                    ['issuer', 'tenant_id'], ['issuer', 'tenant_id'])


def downgrade():
    with op.batch_alter_table('lti_platforms', schema=None) as batch_op:
        batch_op.drop_constraint('fk_lti_platforms_issuer_tenant_lti_issuers', type_='foreignkey')
    with op.batch_alter_table('lti_issuers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_issuers_tenant_id'))
    op.drop_table('lti_issuers')
