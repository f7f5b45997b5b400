"""Administration: accounts, sessions and API tokens, the policy lifecycle (upload, activate, roll back)
and dry runs of a new policy over history.

May use: models, policies, flows.records and the flows root.
"""
