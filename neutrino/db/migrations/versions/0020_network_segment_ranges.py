"""network_segment_ranges (extension "network-segment-range"): VLAN and VNI ranges
project networks allocate from. The default ranges are rows too, written at API
start-up from ``network_vlan_ranges``/``vni_ranges`` (``services/segment_ranges.py``),
so this migration adds none.

Revision ID: 0020
Revises: 0019
"""

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'network_segment_ranges',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('project_id', sa.String(length=255), nullable=True),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=False),
        sa.Column('default', sa.Boolean(), nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.Column('network_type', sa.String(length=32), nullable=False),
        sa.Column('physical_network', sa.String(length=64), server_default='', nullable=False),
        sa.Column('minimum', sa.Integer(), nullable=False),
        sa.Column('maximum', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.String(length=20), nullable=False),
        sa.Column('updated_at', sa.String(length=20), nullable=False),
        sa.Column('revision_number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_network_segment_ranges')),
        sa.UniqueConstraint('default', 'network_type', 'physical_network', 'minimum', 'maximum',
                            name=op.f('uq_network_segment_ranges')),
    )
    op.create_index(op.f('ix_network_segment_ranges_project_id'), 'network_segment_ranges',
                    ['project_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_network_segment_ranges_project_id'),
                  table_name='network_segment_ranges')
    op.drop_table('network_segment_ranges')
