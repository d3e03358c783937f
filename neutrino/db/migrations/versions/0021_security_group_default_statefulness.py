"""security group default statefulness: per project and system-wide defaults of a new
group's ``stateful`` (extension "security-groups-default-statefulness").

Revision ID: 0021
Revises: 0020
"""

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'securitygroupdefaultstatefulness',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=True),
        sa.Column('project_key', sa.String(255), nullable=False),
        sa.Column('stateful', sa.Boolean(), nullable=False),
        sa.UniqueConstraint('project_key',
                            name='uq_securitygroupdefaultstatefulness_project_key'),
    )


def downgrade() -> None:
    op.drop_table('securitygroupdefaultstatefulness')
