"""router availability zones: routers.availability_zone_hints, a JSON list of zone
names (extension "router_availability_zone"), as 0015 for networks.

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


def downgrade() -> None:
    op.drop_column('routers', 'availability_zone_hints')
