"""Port bindings and the port attributes of Nova's newer extensions:
``port_bindings`` (extension ``binding-extended``: a port's INACTIVE bindings on
other hosts during a live migration; the ACTIVE one stays in ``ports``) and the
columns ``ports.trusted`` (``port-trusted-vif``), ``ports.device_profile``
(``port-device-profile``), ``ports.numa_affinity_policy``
(``port-numa-affinity-policy[-socket]``), ``ports.propagate_uplink_status``
(``uplink-status-propagation[-updatable]``).

Plain ``ADD/DROP COLUMN`` on both databases, as 0012.

Revision ID: 0018
Revises: 0017
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_COLUMNS = (
    sa.Column('trusted', sa.Boolean(), nullable=True),
    sa.Column('device_profile', sa.String(length=255), nullable=True),
    sa.Column('numa_affinity_policy', sa.String(length=16), nullable=True),
    sa.Column('propagate_uplink_status', sa.Boolean(), server_default=sa.text('(true)'),
              nullable=False),
)


def upgrade() -> None:
    for column in _COLUMNS:
        op.add_column('ports', column)
    op.create_table(
        'port_bindings',
        sa.Column('port_id', sa.String(36), sa.ForeignKey('ports.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('host', sa.String(255), primary_key=True),
        sa.Column('vif_type', sa.String(64), nullable=False),
        sa.Column('vnic_type', sa.String(64), nullable=False, server_default='normal'),
        sa.Column('profile', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(16), nullable=False, server_default='INACTIVE'),
    )


def downgrade() -> None:
    op.drop_table('port_bindings')
    for column in reversed(_COLUMNS):
        op.drop_column('ports', column.name)
