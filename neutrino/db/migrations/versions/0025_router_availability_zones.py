"""router availability zones and default-route knobs: routers.availability_zone_hints,
a JSON list of zone names (extension "router_availability_zone"), as 0015 for networks;
routers.enable_default_route_bfd / enable_default_route_ecmp (extensions
"enable-default-route-bfd", "enable-default-route-ecmp"; Neutron's routerl3attrs columns);
flavors, serviceprofiles and flavorserviceprofilebindings (extension "flavors"), as Neutron's;
routers.flavor_id (extension "l3-flavors"; in use is checked by services/flavors.py).

Revision ID: 0025
Revises: 0024
"""

from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('routers', sa.Column('availability_zone_hints', sa.JSON(),
                                       server_default=sa.text("'[]'"), nullable=False))
    for column in ('enable_default_route_bfd', 'enable_default_route_ecmp'):
        op.add_column('routers', sa.Column(column, sa.Boolean(), server_default=sa.false(),
                                           nullable=False))
    op.add_column('routers', sa.Column('flavor_id', sa.String(36), nullable=True))
    op.create_table(
        'flavors',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(1024), nullable=False),
        sa.Column('service_type', sa.String(36), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
    )
    op.create_table(
        'serviceprofiles',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('description', sa.String(1024), nullable=False),
        sa.Column('driver', sa.String(1024), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('metainfo', sa.String(4096), nullable=False),
    )
    op.create_table(
        'flavorserviceprofilebindings',
        sa.Column('flavor_id', sa.String(36),
                  sa.ForeignKey('flavors.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('service_profile_id', sa.String(36),
                  sa.ForeignKey('serviceprofiles.id', ondelete='CASCADE'), primary_key=True),
    )


def downgrade() -> None:
    for table in ('flavorserviceprofilebindings', 'serviceprofiles', 'flavors'):
        op.drop_table(table)
    for column in ('flavor_id', 'enable_default_route_ecmp', 'enable_default_route_bfd',
                   'availability_zone_hints'):
        op.drop_column('routers', column)
