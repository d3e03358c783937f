"""network_segments.wire -> segmentation_key (uq_network_segments_wire ->
uq_network_segments_segmentation_key): a segment's network type, physical network
and segmentation id as one unique text, ``flat:<physnet>``, ``vlan:<physnet>:<id>``
or ``geneve:<vni>``. Only names change; the values stay.

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLE = 'network_segments'


def upgrade() -> None:
    _rename_column('wire', 'segmentation_key')


def downgrade() -> None:
    _rename_column('segmentation_key', 'wire')


def _rename_column(old: str, new: str) -> None:
    """Rename column ``old`` of network_segments to ``new``, and its unique
    constraint ``uq_network_segments_<old>`` to ``uq_network_segments_<new>``."""
    old_uq, new_uq = f'uq_{TABLE}_{old}', f'uq_{TABLE}_{new}'
    if op.get_context().dialect.name != 'sqlite':
        op.alter_column(TABLE, old, new_column_name=new)
        op.execute(f'ALTER TABLE {TABLE} RENAME CONSTRAINT {old_uq} TO {new_uq}')
        return
    # SQLite renames a constraint only by rebuilding the table, and dropping the old
    # table (foreign keys on, inside the migration's transaction) fails while
    # subnets.segment_id refers to its rows: unlink those subnets for the rebuild and
    # link them again after it, in the same transaction.
    bind = op.get_bind()
    links = [{'id': r.id, 'segment_id': r.segment_id} for r in bind.execute(sa.text(
        'SELECT id, segment_id FROM subnets WHERE segment_id IS NOT NULL'))]
    op.execute('UPDATE subnets SET segment_id = NULL WHERE segment_id IS NOT NULL')
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(old_uq, type_='unique')
        batch_op.alter_column(old, new_column_name=new, existing_type=sa.String(length=128),
                              existing_nullable=False)
    # A second rebuild: in the first, batch mode would drop a constraint on the renamed
    # column without a word.
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_unique_constraint(new_uq, [new])
    if links:
        bind.execute(sa.text('UPDATE subnets SET segment_id = :segment_id WHERE id = :id'), links)
