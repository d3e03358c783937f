"""subnet pools and address scopes: address_scopes, addressscoperbacs, subnetpools,
prefix_generations, subnets.subnetpool_id

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('address_scopes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_scopes'))
    )
    op.create_index(op.f('ix_address_scopes_project_id'), 'address_scopes', ['project_id'],
                    unique=False)

    op.create_table('addressscoperbacs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target_tenant', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['address_scopes.id'],
                            name=op.f('fk_addressscoperbacs_object_id_address_scopes'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addressscoperbacs'))
    )
    op.create_index('uq_addressscoperbacs_action_object_target', 'addressscoperbacs',
                    ['action', 'object_id', 'target_tenant'], unique=True)
    for column in ('object_id', 'project_id', 'target_tenant'):
        op.create_index(op.f(f'ix_addressscoperbacs_{column}'), 'addressscoperbacs', [column],
                        unique=False)

    op.create_table('subnetpools',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.String(length=20), nullable=False),
    sa.Column('updated_at', sa.String(length=20), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.Column('prefixes', sa.JSON(), nullable=False),
    sa.Column('default_prefixlen', sa.Integer(), nullable=False),
    sa.Column('min_prefixlen', sa.Integer(), nullable=False),
    sa.Column('max_prefixlen', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('default_ip_version', sa.Integer(), nullable=True),
    sa.Column('default_quota', sa.Integer(), nullable=True),
    sa.Column('address_scope_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['address_scope_id'], ['address_scopes.id'],
                            name=op.f('fk_subnetpools_address_scope_id_address_scopes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subnetpools')),
    sa.UniqueConstraint('default_ip_version', name=op.f('uq_subnetpools_default_ip_version'))
    )
    op.create_index(op.f('ix_subnetpools_address_scope_id'), 'subnetpools', ['address_scope_id'],
                    unique=False)
    op.create_index(op.f('ix_subnetpools_project_id'), 'subnetpools', ['project_id'],
                    unique=False)

    op.create_table('prefix_generations',
    sa.Column('owner_id', sa.String(length=36), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('owner_id', 'generation', name=op.f('pk_prefix_generations'))
    )

    # subnets is referenced with ON DELETE CASCADE (ipallocations): never rebuild it
    # (as 0006 adds segment_id).
    if op.get_context().dialect.name == 'sqlite':
        op.execute('ALTER TABLE subnets ADD COLUMN subnetpool_id VARCHAR(36) '
                   'CONSTRAINT fk_subnets_subnetpool_id_subnetpools '
                   'REFERENCES subnetpools (id)')
    else:
        op.add_column('subnets', sa.Column('subnetpool_id', sa.String(length=36), nullable=True))
        op.create_foreign_key(op.f('fk_subnets_subnetpool_id_subnetpools'), 'subnets',
                              'subnetpools', ['subnetpool_id'], ['id'])
    op.create_index(op.f('ix_subnets_subnetpool_id'), 'subnets', ['subnetpool_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_subnets_subnetpool_id'), table_name='subnets')
    with op.batch_alter_table('subnets', schema=None) as batch_op:
        if op.get_context().dialect.name != 'sqlite':
            batch_op.drop_constraint(op.f('fk_subnets_subnetpool_id_subnetpools'),
                                     type_='foreignkey')
        batch_op.drop_column('subnetpool_id')
    op.drop_table('prefix_generations')
    op.drop_table('subnetpools')
    op.drop_table('addressscoperbacs')
    op.drop_table('address_scopes')
