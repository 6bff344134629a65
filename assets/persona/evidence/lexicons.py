"""Anchor phrases behind free-text trait evidence.

Valence ("mood_valence") is not here: it comes from VADER (evidence/text.py), and story sentiment and
keywords from the shared text scorers (assets.mood.scoring, assets.mood.keywords).

Method (documented in the README): each free-text trait has two anchor lists, words and short phrases
that signal the high pole (`pos`) and the low pole (`neg`). An observation's text is lower-cased and
tokenised; a phrase counts once per occurrence, a word once per token. A negation word within the
two preceding tokens flips the pole ("not outgoing" counts for the low pole). The lists are small on
purpose: precision over recall, every word here is one a reviewer can defend.
"""

from __future__ import annotations

LEXICON_VERSION = "tessera-lexicon-v2"

# trait -> (volatility, high-pole anchors, low-pole anchors). Values live in [0, 1]: 1 = high pole.
TRAIT_LEXICONS: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    "extraversion": (
        "low",
        frozenset({
            "outgoing", "talkative", "sociable", "party", "parties", "crowd", "crowds", "energized by people",
            "love meeting", "networking", "get everyone together", "so many people", "leading the meeting",
            "whole team", "the event", "chatty", "lively", "extroverted", "extrovert", "socialize",
            "socializing", "team events", "center of attention",
        }),
        frozenset({
            "quiet", "reserved", "introverted", "introvert", "alone", "solitude", "recharge alone",
            "small group", "prefer to listen", "work alone", "skipped the party", "small meeting", "shy", "keep to myself", "private person", "drained by people",
        }),
    ),
    "openness": (
        "low",
        frozenset({
            "curious", "creative", "imagine", "imaginative", "explore", "exploring", "new ideas", "experiment",
            "experimenting", "novel", "art", "philosophy", "trying new", "something completely new", "learn something new", "unconventional", "invent",
        }),
        frozenset({
            "routine", "traditional", "conventional", "familiar", "proven way", "proven plan", "always did",
            "point of changing", "stick to what works",
            "practical only", "no surprises", "same as always",
        }),
    ),
    "conscientiousness": (
        "low",
        frozenset({
            "organized", "organised", "planned", "planning", "schedule", "ahead of the deadline", "every step",
            "double checked",
            "checklist", "thorough", "careful", "detail", "details", "on time", "disciplined", "prepared",
            "methodical", "tidy",
        }),
        frozenset({
            "procrastinate", "procrastinating", "figure it out later", "plan can wait", "lost my notes", "procrastination", "messy", "forgot", "forgetful", "late",
            "last minute", "disorganized", "disorganised", "careless", "wing it", "improvise",
        }),
    ),
    "agreeableness": (
        "low",
        frozenset({
            "kind", "helpful", "help others", "happy to help", "understand how you feel", "works for everyone",
            "your patience", "cooperative", "cooperate", "empathy", "empathetic", "patient",
            "considerate", "generous", "support", "supportive", "compromise", "trust", "warm", "thank",
        }),
        frozenset({
            "argue", "arguing", "critical", "not my problem", "disagree", "done it yourself", "do not care", "stubborn", "blunt", "competitive", "distrust", "harsh",
            "impatient", "annoyed", "confront", "confrontational",
        }),
    ),
    "risk_aversion": (
        "low",
        frozenset({
            "cautious", "careful", "safe", "safety", "risk averse", "avoid risk", "secure", "stability",
            "conservative", "hedge", "backup plan", "worst case", "play it safe",
        }),
        frozenset({
            "bold", "risk", "risky", "gamble", "adventurous", "daring", "leap", "bet", "spontaneous",
            "take chances", "thrill", "all in",
        }),
    ),
    "neuroticism": (
        "low",
        frozenset({
            "worried", "worry", "anxious", "nervous", "could not sleep", "get stressed", "upset with me",
            "what if they", "insecure", "overthink", "overthinking",
        }),
        frozenset({
            "no stress", "stay calm", "calm under pressure", "not bother me", "slept well", "even tempered",
            "unflappable", "resilient", "composed",
        }),
    ),
    "stress_level": (
        "high",
        frozenset({
            "stressed", "stress", "anxious", "anxiety", "overwhelmed", "worried", "worry", "pressure",
            "exhausted", "burned out", "burnout", "nervous", "tense", "panic",
        }),
        frozenset({"relaxed", "calm", "at ease", "peaceful", "rested", "unwind", "chill", "stress free", "no stress",
                   "calm under pressure", "slept well"}),
    ),
    "energy_level": (
        "high",
        frozenset({"energetic", "energized", "motivated", "productive", "active", "pumped", "fresh", "focused"}),
        frozenset({"tired", "sleepy", "drained", "fatigued", "sluggish", "lazy", "unmotivated", "worn out"}),
    ),
}

NEGATIONS = frozenset({"not", "no", "never", "hardly", "rarely", "don't", "dont", "isn't", "wasn't", "without", "nor"})
