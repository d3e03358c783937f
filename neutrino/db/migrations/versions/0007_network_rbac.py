"""network RBAC policies

Revision ID: 0007
Revises: 0006
"""

import uuid

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    rbacs = op.create_table('networkrbacs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target_tenant', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['networks.id'], name=op.f('fk_networkrbacs_object_id_networks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_networkrbacs'))
    )
    with op.batch_alter_table('networkrbacs', schema=None) as batch_op:
        batch_op.create_index('uq_networkrbacs_action_object_target', ['action', 'object_id', 'target_tenant'], unique=True)
        batch_op.create_index(batch_op.f('ix_networkrbacs_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_networkrbacs_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_networkrbacs_target_tenant'), ['target_tenant'], unique=False)

    # Networks shared or external before this revision get their '*' entries.
    networks = op.get_bind().execute(sa.text(
        'SELECT id, project_id, shared, router_external FROM networks')).all()
    rows = []
    for net in networks:
        if net.shared:
            rows.append(dict(id=str(uuid.uuid4()), project_id=net.project_id, object_id=net.id,
                             action='access_as_shared', target_tenant='*'))
        if net.router_external:
            rows.append(dict(id=str(uuid.uuid4()), project_id=net.project_id, object_id=net.id,
                             action='access_as_external', target_tenant='*'))
    if rows:
        op.bulk_insert(rbacs, rows)


def downgrade() -> None:
    op.drop_table('networkrbacs')
