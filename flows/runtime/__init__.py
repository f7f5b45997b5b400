"""Running the policy: the assembled Runtime, the scheduler that wakes due complaints, the Prefect flow
that applies decisions, the outbox that sends email, action links and reply tokens.

May use: models, policies, notifiers, flows.records and the flows root (clock, settings, registry).
"""
