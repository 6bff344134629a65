"""Word lists behind free-text trait evidence, story sentiment and keyword extraction.

Method (documented in the README): each free-text trait has two anchor lists, words and short phrases
that signal the high pole (`pos`) and the low pole (`neg`). An observation's text is lower-cased and
tokenised; a phrase counts once per occurrence, a word once per token. A negation word within the
two preceding tokens flips the pole ("not outgoing" counts for the low pole). The lists are small on
purpose: precision over recall, every word here is one a reviewer can defend.
"""

from __future__ import annotations

LEXICON_VERSION = "tessera-lexicon-v1"

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
    "mood_valence": (
        "high",
        frozenset({
            "happy", "glad", "excited", "great", "wonderful", "grateful", "joy", "joyful", "proud", "love",
            "enjoy", "enjoyed", "fantastic", "delighted", "optimistic", "good",
        }),
        frozenset({
            "sad", "unhappy", "upset", "angry", "frustrated", "disappointed", "terrible", "awful", "lonely",
            "miserable", "depressed", "hate", "bad", "pessimistic",
        }),
    ),
    "energy_level": (
        "high",
        frozenset({"energetic", "energized", "motivated", "productive", "active", "pumped", "fresh", "focused"}),
        frozenset({"tired", "sleepy", "drained", "fatigued", "sluggish", "lazy", "unmotivated", "worn out"}),
    ),
}

NEGATIONS = frozenset({"not", "no", "never", "hardly", "rarely", "don't", "dont", "isn't", "wasn't", "without", "nor"})

# Story sentiment (Mosaic plugin metadata): memorial writing, so grief words are negative but
# warmth, gratitude and pride words are positive.
POSITIVE_WORDS = frozenset({
    "love", "loved", "loving", "happy", "happiest", "joy", "joyful", "laugh", "laughed", "laughter", "smile",
    "smiled", "kind", "kindness", "warm", "warmth", "generous", "proud", "grateful", "gratitude", "beautiful",
    "wonderful", "fun", "funny", "cherish", "cherished", "gentle", "brave", "best", "favorite", "favourite",
    "adored", "celebrate", "celebrated", "blessed", "hope", "peace", "peaceful", "delight", "delighted",
    "amazing", "great", "good", "care", "caring", "sweet", "thank", "thankful", "inspire", "inspired",
})
NEGATIVE_WORDS = frozenset({
    "sad", "sadness", "grief", "grieve", "grieving", "loss", "lost", "miss", "missed", "cry", "cried", "tears",
    "pain", "painful", "hard", "difficult", "sick", "illness", "hospital", "died", "death", "angry", "anger",
    "fear", "afraid", "lonely", "alone", "sorry", "regret", "worst", "terrible", "awful", "hurt", "struggle",
    "struggled", "broken", "bad", "funeral",
})

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each even ever every few for from further
get got had has have having he her here hers herself him himself his how i if in into is it its itself
just like made make many me more most much my myself never no nor not now of off on once one only or
other our ours ourselves out over own really said same say she should so some still such than that the
their theirs them themselves then there these they thing things this those through to too under until up
upon us very was we were what when where which while who whom why will with would you your yours yourself
yourselves always back day days way time times went come came going know knew told tell us lot lots
around another away well much first last long little big years year old new two three see saw
""".split())
