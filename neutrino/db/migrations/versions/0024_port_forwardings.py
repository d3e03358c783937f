"""floating IP port forwardings (extensions "floating-ip-port-forwarding",
"-description", "-port-ranges"): table ``portforwardings``.

Revision ID: 0024
Revises: 0023
"""

from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'portforwardings',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('floatingip_id', sa.String(36),
                  sa.ForeignKey('floatingips.id', ondelete='CASCADE'), nullable=False),
        sa.Column('internal_neutron_port_id', sa.String(36),
                  sa.ForeignKey('ports.id', ondelete='CASCADE'), nullable=False),
        sa.Column('protocol', sa.String(40), nullable=False),
        sa.Column('internal_ip_address', sa.String(64), nullable=False),
        sa.Column('internal_port_start', sa.Integer(), nullable=False),
        sa.Column('internal_port_end', sa.Integer(), nullable=False),
        sa.Column('external_port_start', sa.Integer(), nullable=False),
        sa.Column('external_port_end', sa.Integer(), nullable=False),
        sa.Column('description', sa.String(255), nullable=False),
        sa.UniqueConstraint('floatingip_id', 'protocol', 'external_port_start',
                            'external_port_end', name='uq_portforwardings_external'),
        sa.UniqueConstraint('protocol', 'internal_neutron_port_id', 'internal_ip_address',
                            'internal_port_start', 'internal_port_end',
                            name='uq_portforwardings_internal'),
    )
    op.create_index('ix_portforwardings_floatingip_id', 'portforwardings', ['floatingip_id'])
    op.create_index('ix_portforwardings_internal_neutron_port_id', 'portforwardings',
                    ['internal_neutron_port_id'])


def downgrade() -> None:
    op.drop_table('portforwardings')
