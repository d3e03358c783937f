"""default external network: networks.is_default (extension "auto-allocated-topology":
Neutron keeps it in ``externalnetworks.is_default``; at most one network has it).

Plain ``ALTER TABLE`` as 0013.

Revision ID: 0016
Revises: 0015
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('networks', sa.Column('is_default', sa.Boolean(),
                                        server_default=sa.text("false"), nullable=False))


def downgrade() -> None:
    op.drop_column('networks', 'is_default')
