"""What auditors rely on: chain and checkpoint verification, the enforcement invariant, evidence per
violation, rulings, penalty terms and the violation export.

May use: models, policies, flows.records, flows.admin (accounts for rulings) and the flows root.
"""
