"""The runtime: Prefect flows that carry out the engine's decisions, and the shell around them.

The database is the source of truth. For each complaint a Prefect flow run (named and tagged after
the complaint) asks the pure engine what is due, records obligations and violations, queues emails
in the outbox, and stores the next time the complaint must be looked at; a long-lived scheduler
wakes complaints at those times, so a deadline that passed while everything was down is enforced
when it comes back, once.
"""
