"""network logs: the ``logs`` table (extension "logging", security group logging
realised as OVN ACL logging).

Revision ID: 0026
Revises: 0025
"""

from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'logs',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False, index=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255), nullable=False),
        sa.Column('created_at', sa.String(20), nullable=False),
        sa.Column('updated_at', sa.String(20), nullable=False),
        sa.Column('revision_number', sa.Integer(), nullable=False),
        sa.Column('resource_type', sa.String(36), nullable=False),
        sa.Column('resource_id', sa.String(36), nullable=True, index=True),
        sa.Column('target_id', sa.String(36), nullable=True, index=True),
        sa.Column('event', sa.String(255), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('logs')
