"""Synthetic text for every product: journal entries, memorial stories, observations, chat turns.

Pure functions of a `random.Random` and their arguments (no global state, no clock), so the generator
and the live-write simulator produce the same kind of text and the same seed gives the same words.

Journal text is written *from a latent valence* in [-1, 1]: each sentence is composed afresh from the
entry's mood bank (feelings, events, body, thoughts), a topic bank per tag (tinted with mood adjectives)
or neutral chores, with shares set by the valence. Every sentence is built from several independent
slots (openings, times, people, places, durations, causes), so 10,000 entries repeat almost no sentence.
Memorial stories draw on one `LegacyWorld` per legacy (relatives, places, dated events), so the stories
of a legacy share people, places and events. Word counting follows one rule everywhere (`word_count`): a word is a whitespace-separated
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

# --- scaffolding shared by every sentence kind ------------------------------------------------------
# Sentences are composed from independent slots (an opening, a core clause, a cause or a detail, a
# closing), so the number of distinct sentences is the product of the slot sizes: tens of millions per
# kind, which keeps a 10,000-entry corpus almost free of repeated sentences (tests/test_generator.py).
TIMES = _w("this morning|in the afternoon|tonight|around noon|after lunch|late in the evening|"
           "before dinner|at dawn|on the way home|during the break|first thing after waking up|"
           "just before midnight|over breakfast|in the middle of the night|on the walk back|"
           "while the kettle boiled|at half past seven|between two meetings|on the bus|"
           "after the school run|at the end of the day|early on|by mid-morning|after dark|"
           "while it rained|on my lunch break|before anyone else was up|on the drive home|"
           "right after the call|as the sun went down")
RELATIONS = _w("a colleague|my neighbour|an old friend|my sister|the barista|my partner|a stranger|"
               "my mother|my roommate|the teacher|my brother|my father|my aunt|my cousin|my boss|"
               "the new intern|my best friend|my grandmother|the landlord|a client|my doctor|"
               "the neighbour's kid|my flatmate|my coach|my uncle|a friend from school")
PLACES = _w("the kitchen|the office|the park|the bus stop|the corner shop|the library|the station|"
            "the living room|the balcony|the riverside|the cafe near work|the supermarket|the gym|"
            "the garden|the car park|the waiting room|the bakery|the market square|the hallway|"
            "my desk|the beach|the bridge|the playground|the pharmacy|the train platform")
DURATIONS = _w("for a few minutes|for an hour|for most of the afternoon|for twenty minutes|all evening|"
               "for a long while|for half the night|for a moment|until lunch|for the rest of the day|"
               "for ages|for a couple of hours")
INTENSIFIERS = ("", "", "", "a little ", "quite ", "really ", "so ", "deeply ", "oddly ", "genuinely ",
                "completely ", "strangely ", "properly ", "more ")
OPENERS = _w("Honestly|To be fair|Looking back|If I am honest|For some reason|Strangely enough|"
             "As usual|In the end|Once again|For the first time in weeks|Somehow|Without warning|"
             "Against all odds|Of all things|Funnily enough|To my surprise|As expected|"
             "Now that I write it down|Thinking about it now|Even so")

# Per-mood events: what happened, what the body did, what the mind said.
MOOD_EVENTS: dict[str, tuple[str, ...]] = {
    "ecstatic": _w("{person} told me the news I had waited months for|we finally got the keys|"
                   "the offer came through|{name} surprised me at {place}|the whole plan worked perfectly|"
                   "I got the yes I had hoped for|the results were even better than I dreamed|"
                   "{name} and I booked the trip at last|we won after all that work|"
                   "the letter said I was accepted|everyone I love was in one room|"
                   "{person} called to say everything was fine"),
    "happy": _w("{person} sent me a kind message|{name} made me laugh at {place}|the work went smoothly|"
                "we had a slow breakfast together|the sun came out at {place}|I finished what I had planned|"
                "{person} thanked me for the help|a small plan worked out|{name} cooked for everyone|"
                "I found a quiet hour just for me|the walk home was lovely|{person} remembered my birthday"),
    "neutral": _w("{person} asked about the schedule|the day followed its usual shape|"
                  "I sorted out a few small things|{name} dropped by {place} briefly|nothing much changed|"
                  "the meeting covered the usual points|I ran a couple of errands|{person} and I went over the plan|"
                  "the week is half done|I kept to the list"),
    "sad": _w("{person} did not call back|I found old photos of {name}|the flat felt empty without {name}|"
              "I heard {person} is moving away|the anniversary came round again|nobody noticed I was gone|"
              "{name} and I said goodbye at {place}|the plans fell through|I remembered what we lost|"
              "the letter from {name} was still on the table|{person} forgot about our plans|"
              "I walked past {place} where we used to meet"),
    "anxious": _w("{person} said we need to talk tomorrow|the test results are still not in|"
                  "the deadline moved closer again|I had to speak in front of everyone|{name} has not replied|"
                  "the bills piled up on the table|I heard a rumour about layoffs|the appointment is on friday|"
                  "I kept imagining what could go wrong|{person} looked worried at {place}|"
                  "my phone buzzed with another reminder|the interview is in two days"),
    "angry": _w("{person} took credit for my work|{name} cancelled at the last minute again|"
                "the landlord ignored my message|someone cut in front of me at {place}|"
                "{person} talked over me the whole meeting|the refund was refused|{name} broke the promise|"
                "they blamed me for their mistake|the repair still is not done|{person} was rude to me at {place}|"
                "my work was thrown out without a word|the same problem came back for the third time"),
}
MOOD_BODY: dict[str, tuple[str, ...]] = {
    "ecstatic": _w("my heart was racing with joy|I could not stop grinning|I wanted to shout it from the roof|"
                   "I felt light enough to float|I laughed until I cried|I was buzzing all day"),
    "happy": _w("I smiled all the way home|my shoulders finally relaxed|I felt warm inside|"
                "I hummed while I cooked|I slept better than in weeks|I felt at ease"),
    "neutral": _w("I kept a steady pace|I did not feel much either way|the hours went by evenly|"
                  "I moved from one task to the next|I felt settled|it was fine"),
    "sad": _w("my chest felt heavy|I cried quietly|I had no energy for anything|I stayed in bed too long|"
              "everything looked grey|I could barely eat"),
    "anxious": _w("my stomach was in knots|my hands would not stop shaking|I could not sleep|"
                  "my thoughts kept racing|my chest felt tight|I checked my phone over and over"),
    "angry": _w("my jaw was clenched|I wanted to scream|my face went hot|I slammed the door|"
                "my blood was boiling|I could not let it go"),
}
MOOD_THOUGHTS: dict[str, tuple[str, ...]] = {
    "ecstatic": _w("this is the best thing that has happened in years|I want to remember this forever|"
                   "all the effort was worth it|life feels wide open|"
                   "nothing could spoil this|I have never been this happy|we did it together|"
                   "this is what I worked for"),
    "happy": _w("small things really do matter|I am lucky to have these people|it was a good day|"
                "I want more days like this|kindness is everywhere if you look|I am grateful for this week|"
                "things are finally going well"),
    "neutral": _w("tomorrow will probably be similar|it was an ordinary day|there is not much to add|"
                  "that is how the week goes|routine has its uses|the list is shorter now|nothing needs changing"),
    "sad": _w("I miss how things used to be|nothing seems to matter much|I feel alone with it|"
              "I wish I could go back|nobody really understands|it will not get better soon|"
              "I lost something I cannot replace"),
    "anxious": _w("something bad is about to happen|I am not ready for this|what if it all goes wrong|"
                  "I cannot shake the worry|everyone will see me fail|I will not cope|"
                  "the worst is still coming"),
    "angry": _w("it is so unfair|I am tired of being ignored|they had no right|I deserve better than this|"
                "nobody ever takes responsibility|I will not put up with it again|they lied to my face|"
                "this is completely unacceptable"),
}

MOOD_TEMPLATES = (
    "{Time} I felt {int}{adj} because {event}.",
    "{Opener}, {event}, and {body}.",
    "When {event}, I was {int}{adj}.",
    "{Opener}, {time}, I kept thinking that {thought}, even at {place}.",
    "{Time} {event}; {body}.",
    "There was {noun} in me {duration} after {event}.",
    "I {verb} {time} when {event}, and {body}.",
    "It left me {int}{adj}, maybe even {adj2}, after {event}.",
    "{Person} noticed I was {int}{adj} {time}.",
    "{Opener}, {body} {time}, and I told {person} that {thought}.",
    "After {thing} at {place}, I felt {int}{adj}.",
    "{Time} {event} and I thought: {thought}.",
    "{Person} says {thought}, and {time} at {place} I believed it.",
)
TOPIC_TEMPLATES = (
    "{Time} I spent time on {act} at {place} with {person}.",
    "I keep thinking about {noun} since {name} mentioned it {time}.",
    "{Noun} made me feel {int}{adj} {time}.",
    "{Person} and I talked about {noun} {duration} at {place}.",
    "After {act} {time} I felt {int}{adj}.",
    "I want to write down something about {noun} before I forget what {person} said {time}.",
    "{Opener}, most of {period} went to {act} with {person}.",
    "At {place} I thought about {noun} and felt {int}{adj}.",
    "{Opener}, {act} with {name} took {duration2}.",
    "{Time} {name} asked me about {noun} while we were at {place}.",
)
NEUTRAL_TEMPLATES = (
    "{Time} I {chore} and then {chore2}, {coda}.",
    "{Opener}, I {chore} {duration} {time}.",
    "The {thing} at {place} was {state} {time}, {coda}.",
    "{Time} {person} and I {chore} before {chore2}.",
    "After {person} left, I {chore}, {chore2} and went to bed at {clock}.",
    "{Time} the weather was {weather}, so I {chore} at {place}.",
)
CHORES = _w("answered a few emails|made some tea|watered the plants|sorted old papers|did the laundry|"
            "bought bread and milk|paid a bill|cleaned the desk|called the bank|took the bins out|"
            "read the news|tidied the kitchen|fixed the shelf|charged my phone|changed the sheets|"
            "wrote a shopping list|booked a dentist appointment|returned a library book|ironed two shirts|"
            "checked the train times|made lunch for tomorrow|vacuumed the hallway|posted a parcel|"
            "updated my calendar|backed up my laptop|swept the balcony|filled the car with petrol|"
            "sorted the recycling|defrosted the freezer|printed a form")
THINGS = _w("coffee machine|bus|queue|lift|heating|printer|wifi|traffic|post|car park|shop|meeting room")
STATES = _w("broken again|slower than usual|busier than I expected|quiet for a change|out of order|"
            "the same as ever|packed|half empty|later than planned|fixed at last")
CODAS = _w("which took longer than planned|as usual|before {person} arrived|while listening to the radio|"
           "while {person} was on the phone|with the radio on|without rushing|in between emails|"
           "while the rain came down|as quickly as I could|and {person} helped a bit|so nothing piled up")
CLOCKS = _w("ten|eleven|half past ten|midnight|the usual time|nine|quarter to twelve|half past eleven")
TITLE_TEMPLATES = (
    "A {adj} {period}",
    "{Noun} and {noun2}",
    "Notes on {noun}",
    "{Period} thoughts",
    "Feeling {adj}",
    "About {noun}",
    "{Act} {period}",
    "{Period} at {place}",
    "{Name}, {noun} and me",
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


def _person(rng: random.Random) -> str:
    """Someone in the writer's life: a relation, or a first name."""
    return rng.choice(RELATIONS) if rng.random() < 0.6 else rng.choice(FIRST_NAMES)


def _slots(rng: random.Random) -> dict[str, str]:
    time, person, opener = rng.choice(TIMES), _person(rng), rng.choice(OPENERS)
    return {"time": time, "Time": _cap(time), "person": person, "Person": _cap(person), "Opener": opener,
            "name": rng.choice(FIRST_NAMES), "place": rng.choice(PLACES), "duration": rng.choice(DURATIONS),
            "duration2": rng.choice(DURATIONS).removeprefix("for "), "int": rng.choice(INTENSIFIERS)}


def mood_sentence(rng: random.Random, mood: str) -> str:
    bank = MOOD_BANK[mood]
    slots = _slots(rng)
    event = rng.choice(MOOD_EVENTS[mood]).format(person=_person(rng), name=rng.choice(FIRST_NAMES),
                                                 place=rng.choice(PLACES))
    return _cap(rng.choice(MOOD_TEMPLATES).format(
        adj=rng.choice(bank["adj"]), adj2=rng.choice(bank["adj"]), noun=rng.choice(bank["noun"]),
        verb=rng.choice(bank["verb"]), thing=rng.choice(bank["thing"]), event=event,
        body=rng.choice(MOOD_BODY[mood]), thought=rng.choice(MOOD_THOUGHTS[mood]), **slots))


def topic_sentence(rng: random.Random, tag: str, mood: str) -> str:
    topic = TAG_BANK[tag]
    noun = rng.choice(topic["noun"])
    return _cap(rng.choice(TOPIC_TEMPLATES).format(
        noun=noun, Noun=_cap(noun), act=rng.choice(topic["act"]), place=rng.choice(topic["place"]),
        adj=rng.choice(MOOD_BANK[mood]["adj"]), period=rng.choice(("the day", "the morning", "the evening",
                                                                     "the afternoon", "the weekend")),
        **{k: v for k, v in _slots(rng).items() if k != "place"}))


def neutral_sentence(rng: random.Random) -> str:
    chore, chore2 = rng.sample(CHORES, 2)
    return _cap(rng.choice(NEUTRAL_TEMPLATES).format(
        chore=chore, chore2=chore2, thing=rng.choice(THINGS), state=rng.choice(STATES),
        coda=rng.choice(CODAS).format(person=_person(rng)),
        clock=rng.choice(CLOCKS), weather=rng.choice(WEATHER), **_slots(rng)))


def entry_title(rng: random.Random, mood: str, tags: Sequence[str]) -> str:
    tag = rng.choice(tags) if tags else rng.choice(TAGS)
    nouns = TAG_BANK[tag]["noun"]
    noun, noun2 = rng.choice(nouns), rng.choice(MOOD_BANK[mood]["noun"])
    period = rng.choice(PERIODS)
    text = rng.choice(TITLE_TEMPLATES).format(
        adj=rng.choice(MOOD_BANK[mood]["adj"]), period=period, Period=_cap(period),
        noun=noun, Noun=_cap(noun), noun2=noun2, Act=_cap(rng.choice(TAG_BANK[tag]["act"])),
        place=rng.choice(TAG_BANK[tag]["place"]), Name=rng.choice(FIRST_NAMES))
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
                      valence: float | None = None) -> list[str]:
    """Sentences totalling at least `words` words, each written afresh from the slots."""
    valence = MOOD_VALENCE[mood] if valence is None else valence
    m_share, t_share, _ = sentence_mix(valence, mood)
    t_edge = m_share + t_share
    topics = list(tags) or [rng.choice(TAGS)]
    rand = rng.random
    out: list[str] = []
    total = 0
    while total < words:
        roll = rand()
        if roll < m_share:
            sentence = mood_sentence(rng, mood if rand() < 0.8 else _counter_mood(rng, mood, valence))
        elif roll < t_edge:
            sentence = topic_sentence(rng, topics[int(rand() * len(topics))], mood)
        else:
            sentence = neutral_sentence(rng)
        out.append(sentence)
        total += word_count(sentence)
    return out


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
                   "the choir rehearsals|the walks along the harbour|the card games at night|the vegetable garden|"
                   "the night the power went out|the market on saturdays|the camping trip in the rain|"
                   "the move to the new flat|the fortieth birthday party|the winter the river froze")
_STORY_QUALITY = _w("generous|patient|stubborn|funny|kind|brave|curious|gentle|loyal|hardworking|"
                    "warm|wise|honest|playful|quiet|fearless|proud|tender|mischievous|steady")
_STORY_HABIT = _w("sang while cooking|told the same jokes every year|fixed everything with wire and tape|"
                  "wrote letters to everyone|grew tomatoes on the balcony|whistled old songs|"
                  "kept sweets in every pocket|called every sunday evening|read the paper aloud|"
                  "danced at every wedding|taught the children to swim|knew every neighbour by name|"
                  "fed the stray cats|hummed while driving|saved every birthday card|walked to the sea each morning|"
                  "made soup for anyone who was ill|argued about football with everyone")
_STORY_RELATIONS = _w("daughter|son|sister|brother|wife|husband|granddaughter|grandson|best friend|neighbour|"
                      "niece|nephew|cousin|old colleague")
_STORY_TOWNS = _w("Braga|Leeds|Coimbra|Dundee|Evora|Bristol|Aveiro|Galway|Faro|York|Tavira|Cork|Viseu|Bath|"
                  "Setubal|Oban|Lagos|Whitby|Guarda|Keswick")
_STORY_PLACES = _w("the house on {street} street|the shop on {street} street|the allotment by the railway|"
                   "the beach hut at {town}|the factory in {town}|the church hall in {town}|the cafe on the square|"
                   "the school where {first} taught|the boat yard at {town}|the little flat above the bakery")
_STORY_STREETS = _w("Rose|Mill|Church|Station|Harbour|Orchard|Bridge|Elm|Market|Castle|Garden|Quay")
_STORY_EVENTS = _w("the wedding in {year}|the flood of {year}|the trip to {town} in {year}|"
                   "the year the shop opened|the night {first} won the prize|the move to {town}|"
                   "the christening of {relative}|the big storm of {year}|the reunion in {town}|"
                   "the first grandchild's birthday|the last summer at {town}|the retirement party")
_STORY_TONES = (
    ("I still laugh when I remember {event}.", "We were so happy during {event}.",
     "{First} loved {place} more than anywhere.", "Thank you, {first}, for {event} and everything after."),
    ("It is hard to believe {first} is gone.", "I miss {first} every single day, especially around {event}.",
     "The last time I saw {first} was at {place}, and I cried all the way home.",
     "Grief comes back when I pass {place}."),
)
_STORY_TEMPLATES = (
    "I remember {event}, when {first} {habit} at {place}.",
    "{First} was the most {quality} person I have ever known, {relative} says so too.",
    "Everyone in {town} knew how {quality} and {quality2} {first} was.",
    "Years later, {relative} and I still talk about {event}.",
    "{First} always {habit}, and {relative} loved it.",
    "One day at {place}, {first} told {relative} to never give up.",
    "We laughed so much during {event} that we forgot the time.",
    "My favourite picture of {first} was taken at {place} during {event}.",
    "{First} taught {relative} to be {quality} even when life was hard.",
    "{Relative} still keeps {first}'s {object} from {place}.",
    "I miss the way {first} {habit}.",
    "On the morning of {event}, {first} and {relative} walked from {place} to the harbour in {town}.",
    "{Relative} says {first} {habit} right up to the end.",
    "Nobody in {town} forgot {event}, least of all {relative}.",
)
_STORY_OBJECTS = _w("old radio|wooden spoon|blue scarf|pocket watch|recipe book|fishing rod|sewing box|"
                    "garden hat|record collection|bicycle|chess set|letters|armchair|camera")


class LegacyWorld:
    """The people, places and events of one legacy, shared by all its stories (so stories of one
    legacy overlap in names and events, and related-story edges have something to find)."""

    def __init__(self, rng: random.Random, name: str):
        self.name = name
        self.first = name.split()[0]
        self.town = rng.choice(_STORY_TOWNS)
        towns = [self.town] + rng.sample(_STORY_TOWNS, 2)
        self.relatives = [f"{rng.choice(FIRST_NAMES)}, {self.first}'s {rng.choice(_STORY_RELATIONS)}"
                          for _ in range(rng.randint(3, 5))]
        self.relative_names = [r.split(",")[0] for r in self.relatives]
        fill = lambda t: t.format(street=rng.choice(_STORY_STREETS), town=rng.choice(towns), first=self.first,  # noqa: E731
                                  year=rng.randint(1950, 2020), relative=rng.choice(self.relative_names))
        self.places = [fill(p) for p in rng.sample(_STORY_PLACES, 3)]
        self.events = [fill(e) for e in rng.sample(_STORY_EVENTS, 4)]
        self.habits = rng.sample(_STORY_HABIT, 3)
        self.qualities = rng.sample(_STORY_QUALITY, 3)
        self.objects = rng.sample(_STORY_OBJECTS, 2)
        self.towns = towns

    def slots(self, rng: random.Random) -> dict[str, str]:
        relative = rng.choice(self.relatives if rng.random() < 0.3 else self.relative_names)
        return {"first": self.first, "First": self.first, "relative": relative, "Relative": _cap(relative),
                "place": rng.choice(self.places), "event": rng.choice(self.events),
                "habit": rng.choice(self.habits), "quality": rng.choice(self.qualities),
                "quality2": rng.choice(_STORY_QUALITY), "town": rng.choice(self.towns),
                "object": rng.choice(self.objects)}


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def legacy_world(rng: random.Random, name: str) -> LegacyWorld:
    return LegacyWorld(rng, name)


def story_sentence(rng: random.Random, name: str, world: LegacyWorld | None = None, tone: int | None = None) -> str:
    """One sentence about `name`, from the legacy's world; `tone` 0 (warm) / 1 (grief) picks the share
    of tone sentences (None: no tone sentence)."""
    world = world or LegacyWorld(rng, name)
    if tone is not None and rng.random() < 0.35:
        template = rng.choice(_STORY_TONES[tone])
    else:
        template = rng.choice(_STORY_TEMPLATES)
    return _cap(template.format(**world.slots(rng)))


def story_title(rng: random.Random, name: str, world: LegacyWorld | None = None) -> str:
    world = world or LegacyWorld(rng, name)
    first = world.first
    return _cap(rng.choice((
        "Remembering {n}", "What {n} taught me", "{E}", "The day {n} {h}", "A story about {n}",
        "{n} and {e}", "{n} at {p}")).format(n=first, E=_cap(rng.choice(world.events)), e=rng.choice(world.events),
                                             h=rng.choice(world.habits), p=rng.choice(world.places)))


def story_text(rng: random.Random, words: int, name: str | None = None, world: LegacyWorld | None = None,
               tone: int | None = None) -> str:
    """A memorial story of at least `words` words about `name` (a random name when None), drawing its
    people, places and events from `world` (a fresh one when None); `tone` 0 warm, 1 grief."""
    name = name or (world.name if world else person_name(rng))
    world = world or LegacyWorld(rng, name)
    tone = rng.randrange(2) if tone is None else tone
    sentences: list[str] = []
    total = 0
    while total < words:
        sentence = story_sentence(rng, name, world, tone)
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
_USER_OPEN = _w("Hi|Hey|Quick question|Sorry to bother you|Okay|Morning|Hello again|So|Honestly|Right")
_USER_ASK = (
    "can you explain {part} of {topic} again? I got stuck on {item}.",
    "I only studied {minutes} minutes today, how do I stay consistent with {topic}?",
    "make me a plan for {topic} before the {event} {when}.",
    "I feel behind on {topic}, especially {part}. Where should I start?",
    "quiz me on {part} of {topic}, please.",
    "what is the difference between {item} and {item2} in {topic}?",
    "I keep mixing up {item} and {item2}. Any trick?",
    "I have {minutes} minutes {when}. What should I revise in {topic}?",
    "is it normal that {part} of {topic} takes me so long?",
    "could you check my summary of {item}?",
)
_ASSISTANT_OPEN = _w("Sure|Good question|Of course|Happy to help|Let us do it|Great|No problem|Nice work so far|"
                     "Okay|Right")
_ASSISTANT_SAY = (
    "let us break {topic} into three short sessions: {part}, practice and a quick self test.",
    "try {minutes} focused minutes on {item} with a five minute break, then summarise what you learned.",
    "a key idea in {part}: start from the definition of {item} and work one example by hand.",
    "consistency beats intensity. Schedule {topic} at the same time {when} and track your streak.",
    "question one: explain {item} in your own words, then compare it with {item2}.",
    "you finished most tasks this week. Let us move {part} to {when}.",
    "{item} and {item2} look alike, but one describes the setup and the other the result.",
    "before the {event}, redo the exercises on {item} you got wrong.",
    "your notes on {part} are solid; add one worked example of {item2}.",
    "that is common with {part}. Slow down on {item} and the rest gets easier.",
)
_STUDY_PARTS = _w("the basics|the second chapter|the hardest section|the definitions|the proofs|the examples|"
                  "the last unit|the exercises|the summary|the practice questions|the vocabulary|the key formulas")
_STUDY_ITEMS = _w("eigenvalues|reaction rates|the industrial revolution|list comprehensions|p-values|"
                  "the subjunctive|supply curves|mitosis|derivatives|gradient descent|thesis statements|"
                  "free body diagrams|chord progressions|balance sheets|integrals|vectors|recursion|"
                  "confidence intervals|photosynthesis|opportunity cost|the cold war|cell membranes")
_STUDY_EVENTS = _w("exam|quiz|midterm|presentation|oral test|lab report|essay deadline|final")
_STUDY_WHEN = _w("next week|on monday|tomorrow|this weekend|on friday|tonight|in two weeks|each morning|"
                 "after dinner|before class")


def dialogue_message(rng: random.Random, role: str, topic: str | None = None) -> str:
    topic = topic or rng.choice(STUDY_TOPICS)
    item, item2 = rng.sample(_STUDY_ITEMS, 2)
    opener, body = ((_USER_OPEN, _USER_ASK) if role == "user" else (_ASSISTANT_OPEN, _ASSISTANT_SAY))
    text = rng.choice(body).format(topic=topic, minutes=rng.choice((10, 15, 20, 25, 30, 45, 60, 90)),
                                   part=rng.choice(_STUDY_PARTS), item=item, item2=item2,
                                   event=rng.choice(_STUDY_EVENTS), when=rng.choice(_STUDY_WHEN))
    return f"{rng.choice(opener)}, {text}"


def markdown_word_count(content: str) -> int:
    """`word_count` for text made by `assemble_markdown` (whose only wordless tokens are the
    "## " heading marker and "- " bullets), without testing every token."""
    markers = content.count("\n- ") + content.startswith("- ") + content.startswith("## ")
    return len(content.split()) - markers
