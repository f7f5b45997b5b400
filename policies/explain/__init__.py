"""Explaining a policy to people: the plain-language rulebook in ja/zh/en, its Mermaid diagram, and the
diff between two policy versions.

May use: models, policies.language, policies.timing.
"""
