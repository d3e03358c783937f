"""subnet service types: subnets.service_types, a JSON list of device_owner values
(extension "subnet-service-types"; [] means any).

Plain ``ALTER TABLE`` as 0012 (no batch rebuild of ``subnets`` on SQLite).

Revision ID: 0013
Revises: 0012
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('subnets', sa.Column('service_types', sa.JSON(),
                                       server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    op.drop_column('subnets', 'service_types')
