"""DNS names and extra DHCP options: networks.dns_domain, ports.dns_name,
ports.dns_domain, ports.extra_dhcp_opts (a JSON list of {opt_name, opt_value,
ip_version}) and subnets.dns_publish_fixed_ip.

Plain ``ALTER TABLE ... ADD/DROP COLUMN`` on both databases (SQLite 3.35 and later
drops a column in place): batch mode would rebuild ``ports`` and ``subnets`` on
SQLite, and dropping the old table cascades to their allocations.

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_COLUMNS = (
    ('networks', sa.Column('dns_domain', sa.String(length=255), server_default='',
                           nullable=False)),
    ('ports', sa.Column('dns_name', sa.String(length=255), server_default='', nullable=False)),
    ('ports', sa.Column('dns_domain', sa.String(length=255), server_default='',
                        nullable=False)),
    ('ports', sa.Column('extra_dhcp_opts', sa.JSON(), server_default=sa.text("'[]'"),
                        nullable=False)),
    ('subnets', sa.Column('dns_publish_fixed_ip', sa.Boolean(),
                          server_default=sa.text('(false)'), nullable=False)),
)


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.add_column(table, column)


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        op.drop_column(table, column.name)
