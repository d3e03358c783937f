"""segments: routed networks, host physical networks, port ip_allocation

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # network_segments is referenced by nothing yet: rebuilding it (SQLite) is safe.
    with op.batch_alter_table('network_segments', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=255), nullable=True)
        batch_op.create_index('ix_network_segments_type_physnet_segid',
                              ['network_type', 'physical_network', 'segmentation_id'],
                              unique=False)
    op.execute("UPDATE network_segments SET name = NULL WHERE name = ''")

    # subnets is referenced with ON DELETE CASCADE (ipallocations): never rebuild it.
    if op.get_context().dialect.name == 'sqlite':
        op.execute('ALTER TABLE subnets ADD COLUMN segment_id VARCHAR(36) '
                   'CONSTRAINT fk_subnets_segment_id_network_segments '
                   'REFERENCES network_segments (id)')
    else:
        op.add_column('subnets', sa.Column('segment_id', sa.String(length=36), nullable=True))
        op.create_foreign_key(op.f('fk_subnets_segment_id_network_segments'), 'subnets',
                              'network_segments', ['segment_id'], ['id'])
    op.create_index(op.f('ix_subnets_segment_id'), 'subnets', ['segment_id'], unique=False)

    op.add_column('ports', sa.Column('ip_allocation', sa.String(length=16),
                                     server_default='immediate', nullable=False))

    op.create_table('host_physical_networks',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('physical_network', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('host', 'physical_network', name=op.f('pk_host_physical_networks'))
    )


def downgrade() -> None:
    op.drop_table('host_physical_networks')
    with op.batch_alter_table('ports', schema=None) as batch_op:
        batch_op.drop_column('ip_allocation')
    op.drop_index(op.f('ix_subnets_segment_id'), table_name='subnets')
    with op.batch_alter_table('subnets', schema=None) as batch_op:
        if op.get_context().dialect.name != 'sqlite':
            batch_op.drop_constraint(op.f('fk_subnets_segment_id_network_segments'),
                                     type_='foreignkey')
        batch_op.drop_column('segment_id')
    op.execute("UPDATE network_segments SET name = '' WHERE name IS NULL")
    with op.batch_alter_table('network_segments', schema=None) as batch_op:
        batch_op.drop_index('ix_network_segments_type_physnet_segid')
        batch_op.alter_column('name', existing_type=sa.String(length=255), nullable=False)
