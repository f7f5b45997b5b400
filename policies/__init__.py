"""The policy language: YAML schema, located loading, checks, compiler and the pure engine.

Also home of the shipped policies (``policies/*.yaml``) and their org directories (``policies/orgs``).
"""
