"""OVN realisation: the database's state written into the OVN northbound DB.

``idl`` (one ovsdbapp connection per schema), ``desired`` (pure builders of NB
rows), ``load`` / ``observe`` / ``plan`` / ``apply`` (the sync's stages: database read, NB
replica read, pure diff, NB commands in one transaction), ``commands`` (NB
commands ovsdbapp lacks), ``sync`` (the outbox consumer and audit/repair),
``status`` (port status from the SB), ``chassis`` (SB chassis and their
physical networks, for router gateways), ``cluster`` (the RAFT role of each
remote of a clustered NB/SB).
"""
