"""port binding

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('binding_host_id', sa.String(length=255), server_default='', nullable=False))
        batch_op.add_column(sa.Column('binding_vnic_type', sa.String(length=64), server_default='normal', nullable=False))
        batch_op.add_column(sa.Column('binding_profile', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('ports', schema=None) as batch_op:
        batch_op.drop_column('binding_profile')
        batch_op.drop_column('binding_vnic_type')
        batch_op.drop_column('binding_host_id')

