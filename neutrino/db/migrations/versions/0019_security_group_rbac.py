"""security group sharing and default rules: securitygrouprbacs and
securitygroups.shared (extensions "rbac-security-groups",
"security-groups-shared-filtering"), securitygroupdefaultrules seeded with
Neutron's four legacy rules (extension "security-groups-default-rules", as
Neutron's migration c33da356b165 seeds them).

Plain ``ADD/DROP COLUMN`` on both databases, as 0012.

Revision ID: 0019
Revises: 0018
"""

import uuid

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_INGRESS = "Legacy default SG rule for ingress traffic"
_EGRESS = "Legacy default SG rule for egress traffic"
# (direction, ethertype, remote_group_id, used_in_default_sg, used_in_non_default_sg, description)
_SEED = (("egress", "IPv4", None, True, True, _EGRESS),
         ("egress", "IPv6", None, True, True, _EGRESS),
         ("ingress", "IPv4", "PARENT", True, False, _INGRESS),
         ("ingress", "IPv6", "PARENT", True, False, _INGRESS))
_STAMP = "2026-01-01T00:00:00Z"


def upgrade() -> None:
    op.add_column('securitygroups', sa.Column('shared', sa.Boolean(), nullable=False,
                                              server_default=sa.text('(false)')))
    op.create_table('securitygrouprbacs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target_tenant', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['securitygroups.id'],
                            name=op.f('fk_securitygrouprbacs_object_id_securitygroups'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_securitygrouprbacs'))
    )
    op.create_index('uq_securitygrouprbacs_action_object_target', 'securitygrouprbacs',
                    ['action', 'object_id', 'target_tenant'], unique=True)
    for column in ('object_id', 'project_id', 'target_tenant'):
        op.create_index(op.f(f'ix_securitygrouprbacs_{column}'), 'securitygrouprbacs',
                        [column], unique=False)

    rules = op.create_table('securitygroupdefaultrules',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('ethertype', sa.String(length=40), nullable=False),
    sa.Column('protocol', sa.String(length=40), nullable=True),
    sa.Column('port_range_min', sa.Integer(), nullable=True),
    sa.Column('port_range_max', sa.Integer(), nullable=True),
    sa.Column('remote_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('remote_group_id', sa.String(length=36), nullable=True),
    sa.Column('remote_address_group_id', sa.String(length=36), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('used_in_default_sg', sa.Boolean(), nullable=False),
    sa.Column('used_in_non_default_sg', sa.Boolean(), nullable=False),
    sa.Column('rule_key', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_securitygroupdefaultrules'))
    )
    op.bulk_insert(rules, [
        {"id": str(uuid.uuid4()), "direction": direction, "ethertype": ethertype,
         "remote_group_id": remote, "used_in_default_sg": in_default,
         "used_in_non_default_sg": in_other, "description": description,
         "rule_key": "|".join((direction, ethertype, "", "", "", "", remote or "")),
         "created_at": _STAMP}
        for direction, ethertype, remote, in_default, in_other, description in _SEED])


def downgrade() -> None:
    op.drop_table('securitygroupdefaultrules')
    op.drop_table('securitygrouprbacs')
    op.drop_column('securitygroups', 'shared')
