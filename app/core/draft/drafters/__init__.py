"""Drafters: (ordered flows + documents + prompt) → a draft script.

``offline`` is deterministic and always available; ``bedrock`` (Amazon Bedrock Converse) and
``openai`` (any OpenAI-compatible chat-completions endpoint) ask a model for the narration and keep
the imported actions.  Every drafter's output is validated like a hand-written script.
"""

from .base import DrafterConfig, DraftError, DraftInput, DraftResult, FlowSource
from .offline import offline_draft

__all__ = ["DraftError", "DraftInput", "DraftResult", "DrafterConfig", "FlowSource", "offline_draft"]
