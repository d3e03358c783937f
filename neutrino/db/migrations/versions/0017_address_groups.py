"""address groups: address_groups, address_associations, addressgrouprbacs,
securitygrouprules.remote_address_group_id (extensions "address-group",
"rbac-address-group", "security-groups-remote-address-group").

securitygrouprules gets its column by a plain ``ALTER TABLE`` on SQLite (as 0011
adds subnets.subnetpool_id): no batch rebuild of a table others reference.

Revision ID: 0017
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('address_groups',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=1024), nullable=False),
    sa.Column('created_at', sa.String(length=20), nullable=False),
    sa.Column('updated_at', sa.String(length=20), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_groups'))
    )
    op.create_index(op.f('ix_address_groups_project_id'), 'address_groups', ['project_id'],
                    unique=False)

    op.create_table('address_associations',
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('address_group_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['address_group_id'], ['address_groups.id'],
                            name=op.f('fk_address_associations_address_group_id_address_groups'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('address', 'address_group_id', name=op.f('pk_address_associations'))
    )
    op.create_index(op.f('ix_address_associations_address_group_id'), 'address_associations',
                    ['address_group_id'], unique=False)

    op.create_table('addressgrouprbacs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target_tenant', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['address_groups.id'],
                            name=op.f('fk_addressgrouprbacs_object_id_address_groups'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addressgrouprbacs'))
    )
    op.create_index('uq_addressgrouprbacs_action_object_target', 'addressgrouprbacs',
                    ['action', 'object_id', 'target_tenant'], unique=True)
    for column in ('object_id', 'project_id', 'target_tenant'):
        op.create_index(op.f(f'ix_addressgrouprbacs_{column}'), 'addressgrouprbacs', [column],
                        unique=False)

    fk = op.f('fk_securitygrouprules_remote_address_group_id_address_groups')
    if op.get_context().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE securitygrouprules ADD COLUMN remote_address_group_id '
                   f'VARCHAR(36) CONSTRAINT {fk} REFERENCES address_groups (id)')
    else:
        op.add_column('securitygrouprules', sa.Column('remote_address_group_id',
                                                      sa.String(length=36), nullable=True))
        op.create_foreign_key(fk, 'securitygrouprules', 'address_groups',
                              ['remote_address_group_id'], ['id'])
    op.create_index(op.f('ix_securitygrouprules_remote_address_group_id'), 'securitygrouprules',
                    ['remote_address_group_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_securitygrouprules_remote_address_group_id'),
                  table_name='securitygrouprules')
    with op.batch_alter_table('securitygrouprules', schema=None) as batch_op:
        if op.get_context().dialect.name != 'sqlite':
            batch_op.drop_constraint(
                op.f('fk_securitygrouprules_remote_address_group_id_address_groups'),
                type_='foreignkey')
        batch_op.drop_column('remote_address_group_id')
    op.drop_table('addressgrouprbacs')
    op.drop_table('address_associations')
    op.drop_table('address_groups')
