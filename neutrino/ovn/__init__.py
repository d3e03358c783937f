"""OVN realisation: the database's state written into the OVN northbound DB.

``idl`` (one ovsdbapp connection per schema), ``desired`` (pure builders of NB
rows), ``apply`` (load, diff, apply in one NB transaction), ``commands`` (NB
commands ovsdbapp lacks), ``sync`` (the outbox consumer and audit/repair),
``status`` (port status from the SB), ``chassis`` (SB chassis and their
physical networks, for router gateways).
"""
