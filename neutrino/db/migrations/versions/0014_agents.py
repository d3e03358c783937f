"""agents: the OVN controller and metadata agents of each chassis, mirrored from the
SB by the leading controller (extensions "agent", "availability_zone").

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'agents',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('chassis', sa.String(255), nullable=False, index=True),
        sa.Column('agent_type', sa.String(64), nullable=False),
        sa.Column('binary', sa.String(64), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('availability_zones', sa.String(255), nullable=False, server_default=''),
        sa.Column('configurations', sa.JSON(), nullable=False),
        sa.Column('admin_state_up', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('description', sa.String(255), nullable=False, server_default=''),
        sa.Column('created_at', sa.String(20), nullable=False),
        sa.Column('started_at', sa.String(20), nullable=False),
        sa.Column('heartbeat_at', sa.String(20), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table('agents')
