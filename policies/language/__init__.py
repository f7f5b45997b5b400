"""The policy language: YAML source with positions, the schema, validation and checks that report every
problem as file:line:col, warnings, actor and anchor expressions, scenarios, and the compiler to the
immutable CompiledPolicy.

May use: models, policies.timing, policies.errors.
"""
