"""QoS: qos_policies, qospolicyrbacs, qos_policies_default, the four rule tables and the
four binding tables (port, network, floating IP, router gateway); extensions "qos" and
friends.

Revision ID: 0022
Revises: 0021
"""

from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

_RULES = {
    'qos_bandwidth_limit_rules': [sa.Column('max_kbps', sa.Integer(), nullable=False),
                                  sa.Column('max_burst_kbps', sa.Integer(), nullable=False),
                                  sa.Column('direction', sa.String(8), nullable=False)],
    'qos_minimum_bandwidth_rules': [sa.Column('min_kbps', sa.Integer(), nullable=False),
                                    sa.Column('direction', sa.String(8), nullable=False)],
    'qos_packet_rate_limit_rules': [sa.Column('max_kpps', sa.Integer(), nullable=False),
                                    sa.Column('max_burst_kpps', sa.Integer(), nullable=False),
                                    sa.Column('direction', sa.String(8), nullable=False)],
}
_BINDINGS = {'qos_port_policy_bindings': ('port_id', 'ports'),
             'qos_network_policy_bindings': ('network_id', 'networks'),
             'qos_fip_policy_bindings': ('fip_id', 'floatingips'),
             'qos_router_gw_policy_bindings': ('router_id', 'routers')}


def _policy_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['qos_policy_id'], ['qos_policies.id'],
                                   name=op.f(f'fk_{table}_qos_policy_id_qos_policies'),
                                   ondelete='CASCADE')


def upgrade() -> None:
    op.create_table('qos_policies',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.String(length=20), nullable=False),
    sa.Column('updated_at', sa.String(length=20), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qos_policies')))
    op.create_index(op.f('ix_qos_policies_project_id'), 'qos_policies', ['project_id'])

    op.create_table('qospolicyrbacs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target_tenant', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['qos_policies.id'],
                            name=op.f('fk_qospolicyrbacs_object_id_qos_policies'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qospolicyrbacs')))
    op.create_index('uq_qospolicyrbacs_action_object_target', 'qospolicyrbacs',
                    ['action', 'object_id', 'target_tenant'], unique=True)
    for column in ('object_id', 'project_id', 'target_tenant'):
        op.create_index(op.f(f'ix_qospolicyrbacs_{column}'), 'qospolicyrbacs', [column])

    op.create_table('qos_policies_default',
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('qos_policy_id', sa.String(length=36), nullable=False),
    _policy_fk('qos_policies_default'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_qos_policies_default')))
    op.create_index(op.f('ix_qos_policies_default_qos_policy_id'), 'qos_policies_default',
                    ['qos_policy_id'])

    op.create_table('qos_dscp_marking_rules',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('qos_policy_id', sa.String(length=36), nullable=False),
    sa.Column('dscp_mark', sa.Integer(), nullable=False),
    _policy_fk('qos_dscp_marking_rules'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qos_dscp_marking_rules')),
    sa.UniqueConstraint('qos_policy_id', name=op.f('uq_qos_dscp_marking_rules_qos_policy_id')))
    for table, columns in _RULES.items():
        op.create_table(table,
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('qos_policy_id', sa.String(length=36), nullable=False),
        *columns,
        _policy_fk(table),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
        sa.UniqueConstraint('qos_policy_id', 'direction',
                            name=f'uq_{table}0qos_policy_id0direction'))
        op.create_index(op.f(f'ix_{table}_qos_policy_id'), table, ['qos_policy_id'])

    for table, (column, target) in _BINDINGS.items():
        op.create_table(table,
        sa.Column(column, sa.String(length=36), nullable=False),
        sa.Column('policy_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint([column], [f'{target}.id'],
                                name=op.f(f'fk_{table}_{column}_{target}'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['policy_id'], ['qos_policies.id'],
                                name=op.f(f'fk_{table}_policy_id_qos_policies')),
        sa.PrimaryKeyConstraint(column, name=op.f(f'pk_{table}')))
        op.create_index(op.f(f'ix_{table}_policy_id'), table, ['policy_id'])


def downgrade() -> None:
    for table in (*_BINDINGS, *_RULES, 'qos_dscp_marking_rules', 'qos_policies_default',
                  'qospolicyrbacs', 'qos_policies'):
        op.drop_table(table)
