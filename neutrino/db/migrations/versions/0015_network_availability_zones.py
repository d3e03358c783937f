"""network availability zones: networks.availability_zone_hints, a JSON list of zone
names (extension "network_availability_zone").

Plain ``ALTER TABLE`` as 0012 (no batch rebuild of ``networks`` on SQLite).

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('networks', sa.Column('availability_zone_hints', sa.JSON(),
                                        server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    op.drop_column('networks', 'availability_zone_hints')
