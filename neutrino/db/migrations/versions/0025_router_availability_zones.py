"""router availability zones and default-route knobs: routers.availability_zone_hints,
a JSON list of zone names (extension "router_availability_zone"), as 0015 for networks;
routers.enable_default_route_bfd / enable_default_route_ecmp (extensions
"enable-default-route-bfd", "enable-default-route-ecmp"; Neutron's routerl3attrs columns).

Revision ID: 0025
Revises: 0021
"""

from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('routers', sa.Column('availability_zone_hints', sa.JSON(),
                                       server_default=sa.text("'[]'"), nullable=False))
    for column in ('enable_default_route_bfd', 'enable_default_route_ecmp'):
        op.add_column('routers', sa.Column(column, sa.Boolean(), server_default=sa.false(),
                                           nullable=False))


def downgrade() -> None:
    for column in ('enable_default_route_ecmp', 'enable_default_route_bfd',
                   'availability_zone_hints'):
        op.drop_column('routers', column)
