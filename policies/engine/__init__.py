"""The pure engine: decide(compiled policy, org, events, now) -> decisions, with the facts, occurrences and
actor resolution it is built from, and simulate/compare over it. No I/O: no database, no Prefect, no
network (an import-linter contract).

May use: models, policies.language, policies.timing.
"""
