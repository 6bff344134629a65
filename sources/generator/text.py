"""Synthetic text for every product: journal entries, memorial stories, observations, chat turns.

Pure functions of a `random.Random` and their arguments (no global state, no clock), so the generator
and the live-write simulator produce the same kind of text and the same seed gives the same words.

Journal text is written *from a latent valence* in [-1, 1]: each sentence is drawn from the entry's
mood bank, a topic bank per tag (tinted with mood adjectives) or a neutral bank, with shares set by the
valence. Word counting follows one rule everywhere (`word_count`): a word is a whitespace-separated
token holding at least one letter or digit, so markdown markers ("##", "-", ">") are not words.
In SQL: ``(SELECT count(*) FROM regexp_split_to_table(content, '\\s+') w WHERE w ~ '[[:alnum:]]')``.
All text is ASCII.
"""

from __future__ import annotations

import math
import random
from typing import Sequence

MOODS = ("ecstatic", "happy", "neutral", "sad", "anxious", "angry")
# Centre of the latent valence each mood label is written from (generator_entry_truth.valence).
MOOD_VALENCE = {"ecstatic": 0.85, "happy": 0.5, "neutral": 0.0, "sad": -0.55, "anxious": -0.45, "angry": -0.65}
WORDS_PER_MINUTE = 200


def _w(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split("|") if t.strip())


# --- mood banks: adjectives, feeling nouns, short clauses, past-tense verbs -------------------------
MOOD_BANK: dict[str, dict[str, tuple[str, ...]]] = {
    "ecstatic": {
        "adj": _w("thrilled|overjoyed|elated|euphoric|exhilarated|jubilant|radiant|ecstatic|blissful|"
                  "on top of the world|unstoppable|giddy|amazed|triumphant"),
        "noun": _w("pure joy|euphoria|bliss|triumph|elation|delight|wonder|excitement"),
        "phrase": _w("everything came together|I could not stop smiling|it felt like a dream come true|"
                     "my heart was bursting|I wanted to celebrate with everyone|the news was incredible|"
                     "it was the best day in months|I danced around the kitchen"),
        "verb": _w("celebrated|cheered|danced|laughed out loud|shouted with joy|beamed"),
        "thing": _w("an amazing surprise|a wonderful result|a fantastic evening|a brilliant idea|"
                    "a spectacular view|an incredible conversation"),
    },
    "happy": {
        "adj": _w("happy|glad|pleased|content|cheerful|grateful|relaxed|satisfied|hopeful|delighted|"
                  "warm|lighthearted|calm and happy"),
        "noun": _w("gratitude|contentment|warmth|a quiet joy|happiness|kindness|comfort"),
        "phrase": _w("things felt good|I smiled a lot|it was a lovely time|I felt grateful for small things|"
                     "the day had a nice rhythm|people were kind|I enjoyed every minute"),
        "verb": _w("smiled|laughed|enjoyed it|relaxed|hugged them|thanked them"),
        "thing": _w("a lovely walk|a good chat|a pleasant surprise|a nice meal|a kind message|"
                    "a fun afternoon"),
    },
    "neutral": {
        "adj": _w("fine|okay|steady|calm|normal|ordinary|even|balanced|settled|unremarkable"),
        "noun": _w("routine|the usual pace|a steady rhythm|nothing special|the regular schedule"),
        "phrase": _w("nothing much happened|it was a regular day|I followed the usual routine|"
                     "the day passed quietly|things went as planned|I kept to my schedule"),
        "verb": _w("worked through the list|checked email|did the chores|tidied up|took notes"),
        "thing": _w("an ordinary meeting|a regular errand|a standard day|a plain lunch|a short call"),
    },
    "sad": {
        "adj": _w("sad|lonely|heavy|down|gloomy|heartbroken|empty|disappointed|miserable|hopeless|blue|"
                  "tearful|lost|drained"),
        "noun": _w("sadness|grief|loneliness|sorrow|regret|emptiness|a heavy heart|disappointment"),
        "phrase": _w("I cried for a while|everything felt heavy|I missed them terribly|"
                     "nothing seemed to matter|I stayed in bed too long|the silence hurt|"
                     "I felt alone even with people around"),
        "verb": _w("cried|sighed|withdrew|stayed in|gave up early|stared at the ceiling"),
        "thing": _w("a painful memory|a sad phone call|a lonely evening|bad news|a missed chance|"
                    "a goodbye"),
    },
    "anxious": {
        "adj": _w("anxious|worried|nervous|restless|uneasy|tense|overwhelmed|jittery|stressed|scared|"
                  "on edge|panicky|insecure|uncertain"),
        "noun": _w("anxiety|dread|worry|panic|a knot in my stomach|fear|pressure|nervousness"),
        "phrase": _w("my thoughts kept racing|I could not sleep|my chest felt tight|"
                     "I kept checking my phone|I worried about everything|the deadline loomed over me|"
                     "I felt something bad was coming"),
        "verb": _w("worried|paced around|overthought it|panicked|double checked everything|froze"),
        "thing": _w("a stressful deadline|an uncertain result|a tense meeting|an unpaid bill|"
                    "a scary appointment|a difficult email"),
    },
    "angry": {
        "adj": _w("angry|furious|annoyed|irritated|frustrated|resentful|livid|bitter|fed up|outraged|"
                  "hostile|disrespected|enraged"),
        "noun": _w("anger|rage|frustration|resentment|irritation|outrage|bitterness"),
        "phrase": _w("it was so unfair|I snapped at them|I wanted to scream|they ignored me again|"
                     "nobody listened|I slammed the door|my blood was boiling"),
        "verb": _w("snapped|yelled|argued|complained|stormed out|slammed the laptop shut"),
        "thing": _w("an unfair decision|a rude comment|a broken promise|a pointless argument|"
                    "an infuriating delay|a careless mistake"),
    },
}
POSITIVE_MOODS = ("ecstatic", "happy")
NEGATIVE_MOODS = ("sad", "anxious", "angry")


def _lexicon(moods: Sequence[str]) -> frozenset[str]:
    words: set[str] = set()
    for mood in moods:
        for key in ("adj", "noun", "verb"):
            for phrase in MOOD_BANK[mood][key]:
                words.update(w for w in phrase.lower().split() if len(w) > 3)
    return frozenset(words)


POSITIVE_LEXICON = _lexicon(POSITIVE_MOODS) - _lexicon(NEGATIVE_MOODS + ("neutral",))
NEGATIVE_LEXICON = _lexicon(NEGATIVE_MOODS) - _lexicon(POSITIVE_MOODS + ("neutral",))

# --- topics: one bank per tag (nouns, activities, places) -----------------------------------------
TAG_BANK: dict[str, dict[str, tuple[str, ...]]] = {
    tag: {"noun": _w(n), "act": _w(a), "place": _w(p)}
    for tag, n, a, p in (
        ("work", "the project|my manager|the quarterly report|the team|the client", "a long meeting|answering tickets|the code review|a presentation", "the office|the meeting room"),
        ("family", "my mother|my father|my sister|my brother|the cousins|grandma", "a family dinner|a call with my parents|visiting relatives", "my parents house|the kitchen table"),
        ("health", "my back|the doctor|my blood pressure|the medication|my energy", "a checkup|taking my vitamins|stretching", "the clinic|the pharmacy"),
        ("fitness", "my legs|the workout plan|the weights|my heart rate", "a hard workout|a spin class|lifting", "the gym|the track"),
        ("travel", "the flight|the itinerary|the hotel|the old town|the train", "packing|exploring the streets|a long drive", "the airport|the station|a small hotel"),
        ("friends", "my best friend|the group chat|an old friend|my roommate", "a long talk with friends|a board game night|coffee with a friend", "the cafe|the bar downtown"),
        ("love", "my partner|our relationship|the date|a love letter", "a date night|cooking together|a long walk together", "the restaurant|the riverside"),
        ("sleep", "my sleep|the alarm|a strange dream|my insomnia", "napping|going to bed early|tossing and turning", "the bedroom"),
        ("food", "the pasta|a new recipe|the bakery bread|breakfast", "cooking dinner|trying a new restaurant|baking", "the market|the kitchen"),
        ("reading", "the novel|the last chapter|a poetry book|the library book", "reading before bed|finishing a chapter", "the library|the armchair"),
        ("music", "the album|the concert|my guitar|the playlist", "practicing guitar|listening to records|singing", "the concert hall|the studio"),
        ("nature", "the trees|the river|the birds|the mountains|the sunset", "a hike|a walk in the woods|watching the sky", "the park|the forest trail|the lake"),
        ("gratitude", "small blessings|the people around me|my health|this home", "writing a thank you note|counting good things", "the porch"),
        ("productivity", "my to-do list|the calendar|my focus|the backlog", "planning the week|clearing my inbox|deep work", "my desk"),
        ("stress", "the deadline|the workload|the bills|my schedule", "juggling tasks|working late", "the office|my desk"),
        ("study", "the exam|the lecture notes|the thesis|the homework", "revising for the exam|a study group|writing the essay", "the library|the campus"),
        ("money", "the budget|the rent|my savings|the credit card bill", "reviewing expenses|paying bills", "the bank"),
        ("creativity", "the sketchbook|a new story idea|the painting|the poem", "drawing|writing fiction|painting", "the studio|my desk"),
        ("meditation", "my breath|the silence|the meditation app|my thoughts", "a short meditation|breathing exercises|yoga", "the yoga mat|the quiet room"),
        ("home", "the apartment|the living room|the laundry|the neighbours", "cleaning the house|fixing the sink|rearranging furniture", "home|the balcony"),
        ("pets", "the dog|the cat|the vet|the puppy", "walking the dog|feeding the cat|a vet visit", "the dog park|the vet clinic"),
        ("coding", "the bug|the pull request|the side project|the test suite", "debugging|refactoring|pair programming", "my desk|the hackathon"),
        ("running", "my pace|the long run|the race|my running shoes", "an early run|interval training|a slow jog", "the river path|the track"),
        ("therapy", "my therapist|the session|my patterns|old wounds", "a therapy session|journaling prompts", "the therapist office"),
        ("goals", "my goals|the plan for the year|my habits|the milestone", "setting goals|reviewing progress", "my desk"),
        ("weekend", "the weekend|saturday morning|sunday brunch|the lazy afternoon", "sleeping in|a slow brunch|running errands", "the farmers market|the park"),
        ("holiday", "the holiday|the decorations|the presents|the festive dinner", "wrapping presents|decorating the tree", "my parents house|the beach"),
        ("kids", "the kids|school pickup|their homework|bedtime", "reading bedtime stories|a school play|packing lunches", "the school|the playground"),
        ("career", "my career|the job offer|the interview|a promotion", "updating my resume|a job interview|networking", "the office|a cafe"),
        ("hobby", "the puzzle|the model train|my knitting|the chess game", "knitting|playing chess|building models", "the club|the living room"),
        ("movies", "the film|the series|the director|the cinema", "a movie night|binge watching a series", "the cinema|the couch"),
        ("garden", "the tomatoes|the roses|the soil|the seedlings", "weeding|planting seeds|watering the garden", "the garden|the greenhouse"),
        ("commute", "the bus|the traffic|the train delay|my bike", "the morning commute|cycling to work", "the bus stop|the highway"),
        ("learning", "a new language|the online course|spanish verbs|the tutorial", "practicing spanish|watching a lecture", "my desk|the language class"),
        ("selfcare", "a bubble bath|my skincare|a quiet evening|my boundaries", "taking a long bath|switching off my phone", "the bathroom|the couch"),
        ("reflection", "the past year|my choices|old journals|who I am becoming", "rereading old entries|thinking about the past", "my desk|a quiet corner"),
        ("morning", "the sunrise|my coffee|the morning light|the first hour", "an early start|making coffee|a morning stretch", "the kitchen|the balcony"),
    )
}
TAGS = tuple(TAG_BANK)

# --- neutral scaffolding --------------------------------------------------------------------------
TIMES = _w("this morning|in the afternoon|tonight|around noon|after lunch|late in the evening|"
           "before dinner|at dawn|on the way home|during the break")
PEOPLE = _w("a colleague|my neighbour|an old friend|my sister|the barista|my partner|a stranger|"
            "my mother|my roommate|the teacher")
NEUTRAL_SENTENCES = _w(
    "I had soup for lunch and read the news.|The weather changed twice during the day.|"
    "I walked to the shop to buy bread and milk.|There was a lot of traffic on the main road.|"
    "I answered a few emails and made some tea.|The neighbours were moving furniture again.|"
    "I watered the plants and opened the windows.|The bus was a few minutes late.|"
    "I wrote a short list of things to do tomorrow.|The afternoon light came through the kitchen window.|"
    "I spent some time sorting old papers.|Dinner was leftovers from yesterday.|"
    "I called the bank about a small question.|The laundry took most of the evening.|"
    "I went to bed at the usual time.|There was a long queue at the post office.|"
    "I read a few pages before sleeping.|The street was quiet for a change.|"
    "I cleaned the desk and sorted my notes.|The coffee machine at work was broken again.")

MOOD_TEMPLATES = (
    "I felt {adj} {time}.",
    "{Time} I was {adj} and {phrase}.",
    "Honestly, {phrase}.",
    "There was {thing} and I felt {adj}.",
    "All day there was {noun} in me.",
    "When I think about it, {phrase} and I {verb}.",
    "I {verb} after {thing}.",
    "It left me {adj}, maybe even {adj2}.",
    "{Person} noticed that I was {adj}.",
    "I keep coming back to {noun}.",
)
TOPIC_TEMPLATES = (
    "{Time} I spent time on {act} at {place}.",
    "I keep thinking about {noun}.",
    "{Noun} made me feel {adj}.",
    "We talked about {noun} for a while.",
    "After {act} I felt {adj}.",
    "I want to write down something about {noun}.",
    "Most of the day went to {act}.",
    "At {place} I thought about {noun} and felt {adj}.",
)
TITLE_TEMPLATES = (
    "A {adj} {period}",
    "{Noun} and {noun2}",
    "Notes on {noun}",
    "{Period} thoughts",
    "Feeling {adj}",
    "About {noun}",
    "{Act} {period}",
)
PERIODS = _w("day|morning|evening|night|week|afternoon|weekend")
LOCATIONS = _w("Home|Home Office|Office|Coffee shop|Library|Park|Train|Kitchen|Balcony|Parents house|"
               "Gym|Beach|Airport|Hotel room|Garden|Lisbon|Porto|Berlin|London|New York|Sao Paulo|Toronto")
WEATHER = _w("sunny|cloudy|rainy|overcast|windy|snowy|foggy|clear skies|light rain|thunderstorm|humid|cold and dry")


def word_count(text: str) -> int:
    """Tokens separated by whitespace that hold at least one letter or digit."""
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))


def reading_time_seconds(words: int) -> int:
    """Seconds to read `words` at WORDS_PER_MINUTE, rounded up."""
    return math.ceil(words * 60 / WORDS_PER_MINUTE)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def mood_sentence(rng: random.Random, mood: str) -> str:
    bank = MOOD_BANK[mood]
    time = rng.choice(TIMES)
    person = rng.choice(PEOPLE)
    return _cap(rng.choice(MOOD_TEMPLATES).format(
        adj=rng.choice(bank["adj"]), adj2=rng.choice(bank["adj"]), noun=rng.choice(bank["noun"]),
        phrase=rng.choice(bank["phrase"]), verb=rng.choice(bank["verb"]), thing=rng.choice(bank["thing"]),
        time=time, Time=_cap(time), Person=_cap(person)))


def topic_sentence(rng: random.Random, tag: str, mood: str) -> str:
    topic = TAG_BANK[tag]
    noun = rng.choice(topic["noun"])
    time = rng.choice(TIMES)
    return _cap(rng.choice(TOPIC_TEMPLATES).format(
        noun=noun, Noun=_cap(noun), act=rng.choice(topic["act"]), place=rng.choice(topic["place"]),
        adj=rng.choice(MOOD_BANK[mood]["adj"]), Time=_cap(time)))


def neutral_sentence(rng: random.Random) -> str:
    return rng.choice(NEUTRAL_SENTENCES)


def entry_title(rng: random.Random, mood: str, tags: Sequence[str]) -> str:
    tag = rng.choice(tags) if tags else rng.choice(TAGS)
    nouns = TAG_BANK[tag]["noun"]
    noun, noun2 = rng.choice(nouns), rng.choice(MOOD_BANK[mood]["noun"])
    period = rng.choice(PERIODS)
    text = rng.choice(TITLE_TEMPLATES).format(
        adj=rng.choice(MOOD_BANK[mood]["adj"]), period=period, Period=_cap(period),
        noun=noun, Noun=_cap(noun), noun2=noun2, Act=_cap(rng.choice(TAG_BANK[tag]["act"])))
    return _cap(text)[:200]


def sentence_mix(valence: float, mood: str) -> tuple[float, float, float]:
    """Shares of (mood, topic, neutral) sentences: stronger feelings put more mood sentences in."""
    strength = min(1.0, abs(valence))
    mood_share = 0.2 + 0.45 * strength if mood != "neutral" else 0.25
    neutral_share = 0.35 - 0.25 * strength
    return mood_share, 1.0 - mood_share - neutral_share, neutral_share


def _counter_mood(rng: random.Random, mood: str, valence: float) -> str:
    """The mood bank a sentence comes from: the label's own, or a neighbour when valence drifted."""
    centre = MOOD_VALENCE[mood]
    if valence - centre > 0.25:
        return "happy" if mood != "happy" else "ecstatic"
    if centre - valence > 0.25:
        return rng.choice(NEGATIVE_MOODS) if mood in POSITIVE_MOODS or mood == "neutral" else mood
    return mood


def journal_sentences(rng: random.Random, mood: str, tags: Sequence[str], words: int,
                      valence: float | None = None, draw=None) -> list[str]:
    """Sentences totalling at least `words` words. `draw(kind, key)` may supply pre-built
    (sentence, word count) pairs instead of writing each sentence afresh."""
    valence = MOOD_VALENCE[mood] if valence is None else valence
    m_share, t_share, _ = sentence_mix(valence, mood)
    t_edge = m_share + t_share
    topics = list(tags) or [rng.choice(TAGS)]
    n_topics = len(topics)
    rand = rng.random
    out: list[str] = []
    total = 0
    while total < words:
        roll = rand()
        if roll < m_share:
            kind, key = "mood", (mood if rand() < 0.8 else _counter_mood(rng, mood, valence))
        elif roll < t_edge:
            kind, key = "topic", (topics[int(rand() * n_topics)], mood)
        else:
            kind, key = "neutral", None
        sentence, n = draw(kind, key) if draw else _write(rng, kind, key)
        out.append(sentence)
        total += n
    return out


def _write(rng: random.Random, kind: str, key) -> tuple[str, int]:
    if kind == "mood":
        sentence = mood_sentence(rng, key)
    elif kind == "topic":
        sentence = topic_sentence(rng, *key)
    else:
        sentence = neutral_sentence(rng)
    return sentence, word_count(sentence)


class SentencePools:
    """Pre-written sentences per mood, per (tag, mood) and neutral, drawn by `journal_sentences`
    at bulk speed; built from one seeded stream, so the pools are the same for the same seed."""

    def __init__(self, rng: random.Random, per_mood: int = 600, per_topic: int = 40):
        self.mood = {m: self._pool(per_mood, lambda m=m: mood_sentence(rng, m)) for m in MOODS}
        self.topic = {(t, m): self._pool(per_topic, lambda t=t, m=m: topic_sentence(rng, t, m))
                      for t in TAGS for m in MOODS}
        self.neutral = [(s, word_count(s)) for s in NEUTRAL_SENTENCES]
        self._rng = rng

    @staticmethod
    def _pool(size: int, make) -> list[tuple[str, int]]:
        return [(s, word_count(s)) for s in (make() for _ in range(size))]

    def drawer(self, rng: random.Random):
        rand = rng.random
        pools = {"mood": self.mood, "topic": self.topic}
        neutral = self.neutral

        def draw(kind: str, key):
            pool = pools[kind][key] if key is not None else neutral
            return pool[int(rand() * len(pool))]

        return draw


def assemble_markdown(rng: random.Random, sentences: list[str], title: str, markdown: bool) -> str:
    """Paragraphs of 2-6 sentences; with `markdown`, a heading, a bullet list and some bold."""
    paragraphs: list[str] = []
    i = 0
    while i < len(sentences):
        size = rng.randint(2, 6)
        chunk = sentences[i:i + size]
        i += size
        if markdown and len(chunk) >= 3 and rng.random() < 0.3:
            paragraphs.append("\n".join("- " + s for s in chunk))
        else:
            paragraphs.append(" ".join(chunk))
    if markdown:
        if rng.random() < 0.5:
            paragraphs.insert(0, "## " + title)
        k = rng.randrange(len(paragraphs))
        if not paragraphs[k].startswith(("## ", "- ")):
            first, _, rest = paragraphs[k].partition(" ")
            paragraphs[k] = f"**{first}** {rest}".rstrip()
    return "\n\n".join(paragraphs)


def journal_entry(rng: random.Random, mood: str, tags: list[str], words: int,
                  valence: float | None = None, markdown: bool | None = None) -> tuple[str, str]:
    """(title, markdown content) of about `words` words (at least `words`, at most one sentence more)
    whose vocabulary fits `mood` and `tags`, written from `valence` (default: the mood's centre)."""
    title = entry_title(rng, mood, tags)
    sentences = journal_sentences(rng, mood, tags, words, valence)
    markdown = rng.random() < 0.3 if markdown is None else markdown
    return title, assemble_markdown(rng, sentences, title, markdown)


# --- Mosaic memorial stories ----------------------------------------------------------------------
FIRST_NAMES = _w("Maria|John|Ana|Peter|Laura|David|Sofia|Michael|Elena|James|Clara|Thomas|Rosa|Daniel|"
                 "Helen|Paul|Alice|Robert|Julia|Frank|Irene|George|Marta|Samuel|Ruth|Oscar|Lucia|Henry|"
                 "Teresa|Arthur|Beatriz|Walter|Nina|Joseph|Carmen|Edward|Ines|Victor|Grace|Luis")
LAST_NAMES = _w("Silva|Smith|Santos|Johnson|Costa|Brown|Ferreira|Miller|Oliveira|Wilson|Pereira|Taylor|"
                "Almeida|Clark|Rodrigues|Walker|Martins|Young|Sousa|King|Gomes|Wright|Lopes|Hill")
_STORY_MEMORY = _w("the summer at the lake|the old bakery on the corner|the wedding in the garden|"
                   "the long drive to the coast|the workshop behind the house|the kitchen on sunday mornings|"
                   "the first day of school|the fishing trips|the hospital waiting room|the christmas dinners|"
                   "the choir rehearsals|the walks along the harbour|the card games at night|the vegetable garden")
_STORY_QUALITY = _w("generous|patient|stubborn|funny|kind|brave|curious|gentle|loyal|hardworking|"
                    "warm|wise|honest|playful")
_STORY_HABIT = _w("sang while cooking|told the same jokes every year|fixed everything with wire and tape|"
                  "wrote letters to everyone|grew tomatoes on the balcony|whistled old songs|"
                  "kept sweets in every pocket|called every sunday evening|read the paper aloud|"
                  "danced at every wedding|taught the children to swim|knew every neighbour by name")
_STORY_TEMPLATES = (
    "I remember {memory}, when {name} {habit}.",
    "{Name} was the most {quality} person I have ever known.",
    "Everyone who met {name} knew how {quality} and {quality2} they were.",
    "Years later I still think about {memory}.",
    "{Name} always {habit}, and we loved it.",
    "One day during {memory}, {name} told me to never give up.",
    "We laughed so much at {memory} that we forgot the time.",
    "It is hard to believe {name} is gone, but the stories keep us close.",
    "My favourite picture of {name} was taken at {memory}.",
    "{Name} taught me to be {quality} even when life was hard.",
    "The house still smells like {memory} sometimes.",
    "I miss the way {name} {habit}.",
)


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def story_sentence(rng: random.Random, name: str) -> str:
    first = name.split()[0]
    return rng.choice(_STORY_TEMPLATES).format(
        memory=rng.choice(_STORY_MEMORY), name=first, Name=first, habit=rng.choice(_STORY_HABIT),
        quality=rng.choice(_STORY_QUALITY), quality2=rng.choice(_STORY_QUALITY))


def story_title(rng: random.Random, name: str) -> str:
    first = name.split()[0]
    return _cap(rng.choice((
        "Remembering {n}", "What {n} taught me", "{M}", "The day {n} {h}", "A story about {n}",
        "{n} and {m}")).format(n=first, M=_cap(rng.choice(_STORY_MEMORY)), m=rng.choice(_STORY_MEMORY),
                              h=rng.choice(_STORY_HABIT)))


def story_text(rng: random.Random, words: int, name: str | None = None) -> str:
    """A memorial story of at least `words` words about `name` (a random name when None)."""
    name = name or person_name(rng)
    sentences: list[str] = []
    total = 0
    while total < words:
        sentence = story_sentence(rng, name)
        sentences.append(sentence)
        total += word_count(sentence)
    return assemble_markdown(rng, sentences, "", False)


# --- PersonaKit observations ------------------------------------------------------------------------
TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
_TRAIT_PHRASES = {
    "openness": (_w("I love trying new ideas|let us experiment with a different approach|"
                    "I read about philosophy and art last night|what if we imagine something completely new"),
                 _w("I prefer the way we always did it|let us stick to the proven plan|"
                    "I do not see the point of changing things|the familiar option is fine")),
    "conscientiousness": (_w("I already planned every step|the checklist is done and reviewed|"
                             "I finished it ahead of the deadline|I double checked the details"),
                          _w("I will figure it out later|I forgot about the deadline again|"
                             "the plan can wait|I lost my notes somewhere")),
    "extraversion": (_w("let us get everyone together|I talked to so many people at the event|"
                        "I love leading the meeting|calling the whole team would be fun"),
                     _w("I would rather work alone on this|I need some quiet time|"
                        "I skipped the party to read|a small meeting is enough for me")),
    "agreeableness": (_w("happy to help with that|I understand how you feel|"
                         "let us find something that works for everyone|thank you for your patience"),
                      _w("that is not my problem|I disagree and I will not change my mind|"
                         "you should have done it yourself|I do not care what they think")),
    "neuroticism": (_w("I am worried this will go wrong|I could not sleep thinking about it|"
                       "I get stressed when plans change|what if they are upset with me"),
                    _w("no stress, it will work out|I stay calm under pressure|"
                       "setbacks do not bother me much|I slept well despite the chaos")),
}


def trait_phrase(rng: random.Random, trait: str, value: float) -> str:
    high, low = _TRAIT_PHRASES[trait]
    return rng.choice(high if rng.random() < value else low)


def _trait_sentences(rng: random.Random, traits: dict[str, float], count: int) -> list[str]:
    names = [t for t in TRAITS if t in traits] or list(TRAITS)
    return [_cap(trait_phrase(rng, t, traits.get(t, 0.5))) + "." for t in
            (rng.choice(names) for _ in range(count))]


def observation_text(rng: random.Random, source_type: str, traits: dict[str, float],
                     name: str = "Alex") -> str:
    """Free text for an observation whose wording reflects `traits` (each in [0, 1])."""
    if source_type == "chat_log":
        other = rng.choice(FIRST_NAMES)
        lines = []
        for sentence in _trait_sentences(rng, traits, rng.randint(3, 8)):
            lines.append(f"{other}: {rng.choice(('How is it going?', 'What do you think?', 'Any update?', 'Can you help?'))}")
            lines.append(f"{name}: {sentence}")
        return "\n".join(lines)
    if source_type == "interview":
        qa = []
        for sentence in _trait_sentences(rng, traits, rng.randint(3, 6)):
            question = rng.choice(("How do you handle pressure?", "Describe a typical week.",
                                   "How do you work with others?", "What motivates you?",
                                   "How do you plan your work?"))
            qa.append(f"Q: {question}\nA: {sentence}")
        return "\n\n".join(qa)
    if source_type == "assessment":
        return f"{name} completed a personality assessment. " + " ".join(_trait_sentences(rng, traits, 2))
    if source_type == "api_import":
        return f"Imported profile note for {name}: " + " ".join(_trait_sentences(rng, traits, rng.randint(2, 4)))
    return (f"Notes written by {name}. " + " ".join(_trait_sentences(rng, traits, rng.randint(4, 10))))


# --- study coach dialogue ---------------------------------------------------------------------------
STUDY_TOPICS = _w("linear algebra|organic chemistry|world history|python programming|statistics|"
                  "spanish grammar|microeconomics|cell biology|calculus|machine learning|essay writing|"
                  "physics mechanics|music theory|accounting")
_USER_TURNS = (
    "Can you explain {topic} again? I got stuck on the exercises.",
    "I only studied {minutes} minutes today, how do I stay consistent?",
    "Make me a plan for {topic} before the exam next week.",
    "I feel behind on {topic}. Where should I start?",
    "Quiz me on {topic}, please.",
    "What is the difference between the two main ideas in {topic}?",
)
_ASSISTANT_TURNS = (
    "Let us break {topic} into three short sessions: review, practice and a quick self test.",
    "Good progress. Try {minutes} focused minutes with a five minute break, then summarise what you learned.",
    "Here is a key idea in {topic}: start from the definitions and work through one example by hand.",
    "Consistency beats intensity. Schedule {topic} at the same time each day and track your streak.",
    "Question one on {topic}: explain the main concept in your own words, then check your notes.",
    "You finished most tasks this week. Let us move the remaining {topic} task to tomorrow morning.",
)


def dialogue_message(rng: random.Random, role: str, topic: str | None = None) -> str:
    topic = topic or rng.choice(STUDY_TOPICS)
    templates = _USER_TURNS if role == "user" else _ASSISTANT_TURNS
    return rng.choice(templates).format(topic=topic, minutes=rng.choice((10, 15, 20, 25, 30, 45)))


def markdown_word_count(content: str) -> int:
    """`word_count` for text made by `assemble_markdown` (whose only wordless tokens are the
    "## " heading marker and "- " bullets), without testing every token."""
    markers = content.count("\n- ") + content.startswith("- ") + content.startswith("## ")
    return len(content.split()) - markers
