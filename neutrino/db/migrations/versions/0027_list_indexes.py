"""indexes for the port list filters Nova and operators use on a large cloud:
ports.mac_address and ports.name, ipallocations.ip_address (``?mac_address=``,
``?name=``, ``?fixed_ips=ip_address=``). Without them each such filter scans every
port, once for the page and once more for each of its child queries (tags, groups,
addresses, trunks): 0.2-0.6 s at 10,000 ports (bench/scale.py). Neutron's
``ipallocations`` primary key starts with ``ip_address``; ours is (subnet_id, ip_key).

Revision ID: 0027
Revises: 0026
"""

from alembic import op


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

INDEXES = (('ix_ports_mac_address', 'ports', ['mac_address']),
           ('ix_ports_name', 'ports', ['name']),
           ('ix_ipallocations_ip_address', 'ipallocations', ['ip_address']))


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
