"""Trait evidence: what one observation says about a person (pure functions, no I/O).

- `assessments`: MBTI, DISC and Enneagram results in observations.content_structured.
- `lexicons`: anchor words for free-text traits (valence comes from VADER, keywords from YAKE).
- `text`: free-text evidence from chat logs, documents and interviews via the lexicons.
"""
