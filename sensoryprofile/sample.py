"""Deterministic synthetic data: example assessments and whole synthetic
clinics (:func:`generate_clinic`, :func:`write_clinic`). Everything here is
invented; nothing describes a real child, therapist or clinic.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

from sensoryprofile import columns as C
from sensoryprofile import norms as N
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Instrument, load_instrument


def example_assessments(instrument: Instrument) -> pd.DataFrame:
    """Two example assessments for an instrument: a child who seeks a lot and
    one who avoids and is sensitive, each with a blank and a "does not apply".

    Ages are mid-range; values are on the instrument's scale whichever way it
    runs (for a ``higher_less`` form, 1 = almost always).
    """
    answers = sorted(instrument.response_scale.answer_values)
    low, high = answers[0], answers[-1]
    if instrument.direction == "higher_less":
        low, high = high, low  # "rarely" is the high number on a reversed form
    mid = answers[len(answers) // 2]
    profiles = {
        "EX-1": {"seeking": high, "registration": mid},
        "EX-2": {"avoiding": high, "sensitivity": high, "seeking": low},
    }
    rows = []
    for k, (assessment_id, pattern) in enumerate(profiles.items()):
        row = {C.ASSESSMENT_ID: assessment_id, C.CHILD_ID: f"EXAMPLE-{k + 1}",
               C.INSTRUMENT: instrument.id,
               C.AGE_MONTHS: (instrument.age_min + instrument.age_max) // 2}
        for item in instrument.items:
            row[item.id] = pattern.get(item.quadrant, mid)
        rows.append(row)
    frame = pd.DataFrame(rows)
    first = instrument.item_ids[0]
    frame[first] = frame[first].astype(object)
    frame.loc[0, first] = np.nan  # one blank answer: prorated where allowed
    if instrument.response_scale.na_codes:
        frame.loc[1, instrument.item_ids[1]] = instrument.response_scale.na_codes[0]
    return frame


# ===========================================================================
# Synthetic clinics
# ===========================================================================
# Everything below is invented: children, therapists, sites, goals and notes.
# The generator draws from one ``numpy.random.default_rng(seed)`` in a fixed
# order, never reads the clock and never uses Python's ``hash()``, so the same
# arguments give byte-identical files.

#: Instruments used by the synthetic clinic, in assessments-column order.
CLINIC_INSTRUMENTS = ("demo-child", "demo-toddler")
CHILD_INSTRUMENT, TODDLER_INSTRUMENT = CLINIC_INSTRUMENTS

SITES = ("Northside", "Riverside", "Hillcrest")

#: (name, home site, share of referrals, goal-setting bias, overdue factor).
#: The bias shifts the latent goal outcome: R. Lindqvist sets goals that are
#: too easy (many +2), K. Adeyemi goals that are too hard; S. Brennan lets
#: reassessments slip more often than the others.
THERAPISTS = (
    ("T. Okafor", "Northside", 0.15, 0.05, 1.0),
    ("R. Lindqvist", "Northside", 0.12, 0.85, 0.8),
    ("M. Haddad", "Northside", 0.10, -0.10, 1.0),
    ("S. Brennan", "Riverside", 0.15, 0.00, 2.2),
    ("J. Nakamura", "Riverside", 0.13, 0.10, 0.8),
    ("A. Moreau", "Riverside", 0.10, -0.05, 1.0),
    ("K. Adeyemi", "Hillcrest", 0.14, -0.75, 0.9),
    ("L. Castillo", "Hillcrest", 0.11, 0.00, 0.7),
)

DIAGNOSES = ("autism", "ADHD", "developmental coordination disorder",
             "sensory processing difficulties", "none")
GOAL_DOMAINS = ("self-care", "fine motor", "sensory regulation", "play/social",
                "school participation")
QUADRANT_ORDER = ("seeking", "avoiding", "sensitivity", "registration")

#: Profile subtypes and their mean latent quadrant z (seeking, avoiding,
#: sensitivity, registration), loosely after the cluster patterns reported for
#: Sensory Profile data (avoiding/sensitivity together, seeking alone, low
#: registration, typical, and globally elevated).
SUBTYPES = ("avoiding+sensitivity high", "seeking high", "registration high",
            "balanced/typical", "all elevated")
_SUBTYPE_MEANS = np.array([
    [-0.1, 1.7, 1.6, 0.4],
    [1.9, 0.1, 0.4, 0.5],
    [-0.3, 0.2, 0.4, 1.8],
    [0.0, 0.0, 0.0, 0.0],
    [1.5, 1.5, 1.6, 1.4],
])
# P(subtype | primary diagnosis), rows in DIAGNOSES order
_SUBTYPE_GIVEN_DIAGNOSIS = np.array([
    [0.40, 0.08, 0.14, 0.10, 0.28],
    [0.08, 0.52, 0.12, 0.15, 0.13],
    [0.10, 0.10, 0.45, 0.25, 0.10],
    [0.35, 0.25, 0.12, 0.10, 0.18],
    [0.12, 0.15, 0.10, 0.53, 0.10],
])
_PRIMARY_DIAGNOSIS = {"child": [0.33, 0.20, 0.14, 0.22, 0.11],
                      "toddler": [0.30, 0.0, 0.0, 0.50, 0.20]}
_SECOND_DIAGNOSIS = np.array([0.35, 0.35, 0.15, 0.15, 0.0])
# latent z of the behavioural sections added per diagnosis held
_BEHAVIOUR_BY_DIAGNOSIS = {
    "conduct": [0.2, 0.6, 0.0, 0.1, 0.0],
    "social_emotional": [0.9, 0.2, 0.2, 0.3, 0.0],
    "attention": [0.3, 0.9, 0.3, 0.1, 0.0],
}
# goal domain preference per subtype (rows SUBTYPES, columns GOAL_DOMAINS)
_DOMAIN_WEIGHTS = np.array([
    [1.2, 0.6, 1.6, 0.9, 1.0],
    [0.8, 0.9, 1.4, 1.0, 1.3],
    [1.0, 1.4, 0.9, 0.9, 1.2],
    [1.0, 1.3, 0.7, 1.0, 1.0],
    [1.2, 0.9, 1.5, 1.0, 1.0],
])

# invented, clearly synthetic first names (nature words), shown with a last initial
_FIRST_NAMES = (
    "Acorn", "Alder", "Basil", "Bramble", "Cinder", "Clover", "Comet", "Dune", "Ember",
    "Fable", "Fennel", "Fern", "Flint", "Grove", "Heron", "Indigo", "Juniper", "Kestrel",
    "Lark", "Linden", "Maple", "Marlin", "Meadow", "Nimbus", "Onyx", "Orchid", "Otter",
    "Pebble", "Pippin", "Quill", "Rook", "Saffron", "Sorrel", "Sparrow", "Thistle", "Umber",
    "Vesper", "Willow", "Yarrow", "Zephyr",
)
_INITIALS = "ABCDEFGHJKLMNOPRSTVWY"

# timing conventions (days)
_REASSESS_EVERY, _REASSESS_JITTER = 183, 21       # ~6 months, +-3 weeks
_REVIEW_EVERY, _REVIEW_JITTER = 91, 10            # goal reviews ~3 months
_OVERDUE_GAP = 220                                # > 7 months (max 215 days)
_REFERRAL_WINDOW = (20, 913)                      # days before end_date
_CHILD_AGE_DAYS = (1100, 5470)                    # 36..179 completed months
_TODDLER_AGE_DAYS = (220, 1000)                   # 7..32 completed months
_ITEM_NOISE = 0.9                                 # SD of the binned-normal item model
_GAS_CUTS = np.array([-1.476, -0.583, 0.583, 1.476])  # 7/21/43/21/7 % of N(0, 1)

# ---------------------------------------------------------------------------
# goal templates: (domain, (min, max) age in months at set date, description,
# five level texts -2..+2, slots). Each slot is a tuple of alternative
# substitutions; one alternative of every slot is chosen per goal.
# ---------------------------------------------------------------------------
_GOAL_TEMPLATES = (
    # ---- self-care -------------------------------------------------------
    ("self-care", (48, 179), "Will tolerate wearing socks and shoes for the whole school day", (
        "Takes off socks and shoes within minutes and is distressed when asked to put them "
        "back on",
        "Keeps socks and shoes on for up to an hour, with reminders and frequent complaints",
        "Keeps socks and shoes on for the whole school day",
        "Keeps socks and shoes on for the whole school day and after-school activities "
        "without complaint",
        "Wears new socks and shoes all day without distress and puts them on independently",
    ), ()),
    ("self-care", (36, 179), "Will tolerate toothbrushing for two minutes twice a day", (
        "Refuses the toothbrush in the mouth; teeth are rarely brushed",
        "Allows brushing of the front teeth for a few seconds, with distress",
        "Tolerates brushing of all teeth for two minutes twice a day with adult help",
        "Brushes own teeth for two minutes twice a day with an adult checking",
        "Brushes own teeth independently twice a day and accepts a new toothpaste flavour",
    ), ()),
    ("self-care", (36, 179), "Will tolerate hair washing at bath time {support}", (
        "Screams and tries to climb out of the bath whenever hair washing starts",
        "Tolerates wetting the hair but not shampoo or rinsing",
        "Tolerates a full hair wash at bath time {support}",
        "Tolerates a full hair wash at bath time {support}, without crying",
        "Washes own hair with light help and without distress",
    ), (({"support": "using a visual countdown"},
         {"support": "with a rinse cup and a dry face cloth"},
         {"support": "with a shower visor"}),)),
    ("self-care", (24, 179), "Will taste {food} at {meal}", (
        "Leaves the table or becomes distressed if {food} is on the plate",
        "Tolerates {food} on the plate without touching or tasting it",
        "Tastes {food} at {meal} at least three times a week",
        "Eats a few mouthfuls of {food} at {meal} most days",
        "Eats a full portion of {food} and accepts it at other meals too",
    ), (({"food": "a new vegetable"}, {"food": "a mixed-texture food such as stew"},
         {"food": "a crunchy fruit"}),
        ({"meal": "family dinner"}, {"meal": "lunch"}))),
    ("self-care", (54, 179),
     "Will get dressed for school independently, including {fastener}, within {mins} minutes", (
         "Needs an adult to dress them fully",
         "Dresses with adult help for {fastener} and a prompt for each step",
         "Gets dressed independently, including {fastener}, within {mins} minutes using a "
         "picture checklist",
         "Gets dressed independently, including {fastener}, within {mins} minutes without the "
         "checklist",
         "Gets dressed quickly and independently, including {fastener}, and chooses clothes to "
         "suit the weather",
     ), (({"fastener": "buttons"}, {"fastener": "a zip"}, {"fastener": "shoelaces"}),
         ({"mins": "15"}, {"mins": "10"}))),
    ("self-care", (7, 47), "Will stay calm during nappy changes and dressing", (
        "Screams and arches through every nappy change and dressing",
        "Stays calm for part of a change with songs and a favourite toy",
        "Stays calm through most nappy changes and dressing with a song or toy",
        "Stays calm through every nappy change and dressing with a song or toy",
        "Stays calm without distraction and helps by pushing arms through sleeves",
    ), ()),
    ("self-care", (7, 47), "Will accept {texture} food from a spoon at mealtimes", (
        "Gags on or refuses every spoonful of {texture} food",
        "Accepts one or two spoonfuls of {texture} food before refusing",
        "Accepts half a bowl of {texture} food from a spoon at mealtimes",
        "Accepts a full bowl of {texture} food from a spoon at most mealtimes",
        "Eats {texture} food readily and starts to feed self with the spoon",
    ), (({"texture": "lumpy"}, {"texture": "mashed"}, {"texture": "mixed-texture"}),)),
    ("self-care", (30, 179), "Will wash and dry hands at the sink {when}", (
        "Refuses to put hands under the tap",
        "Puts hands under the tap briefly with hand-over-hand help",
        "Washes and dries hands {when} with one verbal prompt",
        "Washes and dries hands {when} without prompts",
        "Washes and dries hands thoroughly {when} without prompts, at home and when out",
    ), (({"when": "before meals"}, {"when": "after using the toilet"},
         {"when": "after messy play"}),)),
    ("self-care", (36, 179), "Will have a haircut at the hairdresser {support}", (
        "Cannot enter the hairdresser; haircuts happen at home while asleep",
        "Sits in the chair but tolerates only a trim of the fringe",
        "Has a full haircut at the hairdresser {support}",
        "Has a full haircut {support} with little distress",
        "Has a full haircut without supports and chats with the hairdresser",
    ), (({"support": "wearing headphones and with a countdown"},
         {"support": "after reading a social story about it"}),)),
    # ---- fine motor ------------------------------------------------------
    ("fine motor", (60, 179), "Will write a {length} sentence legibly, with spaces between words", (
        "Refuses writing tasks or writes only single letters",
        "Writes a few words with support; letters vary in size and run together",
        "Writes a {length} sentence legibly, with spaces between words, with verbal prompts",
        "Writes a {length} sentence legibly, with spaces between words, without prompts",
        "Writes several sentences legibly at class speed without prompts",
    ), (({"length": "short"}, {"length": "two-line"}, {"length": "three-line"}),)),
    ("fine motor", (36, 179),
     "Will cut along a {shape} with scissors, staying within 1 cm of the line", (
         "Cannot open and close scissors without hand-over-hand help",
         "Snips the edge of the paper independently",
         "Cuts along a {shape}, staying within 1 cm of the line",
         "Cuts along a {shape} accurately, turning the paper with the helper hand",
         "Cuts out a {harder} accurately and independently",
     ), (({"shape": "straight line", "harder": "square"},
          {"shape": "curved line", "harder": "circle"},
          {"shape": "zigzag line", "harder": "star"}),)),
    ("fine motor", (36, 179),
     "Will use a {grasp} pencil grasp when drawing or writing for {mins} minutes", (
         "Holds the pencil in a fist and avoids drawing",
         "Uses a {grasp} grasp only when an adult sets it up, for under a minute",
         "Uses a {grasp} grasp for {mins} minutes of drawing or writing with a pencil grip",
         "Uses a {grasp} grasp for {mins} minutes without the pencil grip",
         "Uses a {grasp} grasp throughout class activities without reminders",
     ), (({"grasp": "tripod"}, {"grasp": "mature three-finger"}),
         ({"mins": "5"}, {"mins": "10"}))),
    ("fine motor", (12, 47), "Will stack {n} blocks into a tower", (
        "Holds a block but does not release it onto another",
        "Stacks two blocks with help",
        "Stacks {n} blocks into a tower independently",
        "Stacks {n1} blocks into a tower independently",
        "Stacks {n2} or more blocks and copies a simple bridge",
    ), (({"n": "three", "n1": "four or five", "n2": "six"},
         {"n": "four", "n1": "five or six", "n2": "eight"}),)),
    ("fine motor", (7, 23), "Will pick up small pieces of soft food with finger and thumb", (
        "Does not reach for food on the tray",
        "Rakes food towards self with the whole hand",
        "Picks up small pieces of soft food with finger and thumb at most meals",
        "Picks up small pieces with finger and thumb and brings them to the mouth at every meal",
        "Uses a neat pincer grasp for small toys as well as food",
    ), ()),
    ("fine motor", (54, 179),
     "Will open lunchbox, packets and drink bottle independently at lunchtime", (
         "Needs an adult to open every container at lunchtime",
         "Opens the lunchbox but needs help with packets and the drink bottle",
         "Opens lunchbox, packets and drink bottle independently on most days",
         "Opens every container independently every day",
         "Opens every container independently and helps friends with theirs",
     ), ()),
    ("fine motor", (12, 59), "Will complete a {n}-piece inset puzzle", (
        "Bangs or mouths puzzle pieces without placing them",
        "Places one piece with hand-over-hand help",
        "Completes a {n}-piece inset puzzle with verbal help",
        "Completes a {n}-piece inset puzzle independently",
        "Completes a {n}-piece puzzle independently and tries a simple jigsaw",
    ), (({"n": "3"}, {"n": "5"}, {"n": "8"}),)),
    ("fine motor", (60, 179),
     "Will complete written classwork using {tool} at the same pace as classmates", (
         "Completes less than a quarter of written classwork",
         "Completes about half of written classwork using {tool}, with adult support",
         "Completes written classwork using {tool} at the same pace as classmates",
         "Completes written classwork using {tool} at pace, with neat presentation",
         "Chooses when to use {tool} and completes extended writing at pace",
     ), (({"tool": "a sloped writing board"}, {"tool": "a laptop"},
          {"tool": "a pencil grip and wide-lined paper"}),)),
    ("fine motor", (24, 71), "Will thread {n} large beads onto a lace", (
        "Cannot hold the lace and a bead at the same time",
        "Threads one or two beads with hand-over-hand help",
        "Threads {n} large beads onto a lace independently",
        "Threads {n} small beads onto a lace independently",
        "Copies a pattern of {n} beads independently",
    ), (({"n": "five"}, {"n": "ten"}),)),
    # ---- sensory regulation -------------------------------------------------
    ("sensory regulation", (36, 179),
     "Will use {strategy} to calm when overwhelmed, with one adult prompt", (
         "Meltdowns last over 20 minutes; no calming strategy is used",
         "Uses {strategy} only when an adult leads it; meltdowns still last over 10 minutes",
         "Uses {strategy} with one adult prompt and calms within 10 minutes",
         "Uses {strategy} without prompting and calms within 5 minutes",
         "Notices early signs and asks for {strategy} before becoming overwhelmed",
     ), (({"strategy": "deep breathing"}, {"strategy": "the quiet corner"},
          {"strategy": "a weighted lap pad"},
          {"strategy": "heavy work such as carrying books"}),)),
    ("sensory regulation", (48, 179),
     "Will stay in {place} for {mins} minutes, using ear defenders if needed", (
         "Refuses to enter {place}",
         "Stays in {place} for under 2 minutes with ear defenders",
         "Stays in {place} for {mins} minutes, using ear defenders if needed",
         "Stays in {place} for {mins} minutes without ear defenders",
         "Stays in {place} for as long as needed without ear defenders or distress",
     ), (({"place": "the school hall for assembly"}, {"place": "the dining hall at lunch"},
          {"place": "a busy supermarket"}),
         ({"mins": "10"}, {"mins": "20"}))),
    ("sensory regulation", (48, 179),
     "Will stay seated for {mins} minutes of table work using {aid}", (
         "Leaves the seat within a minute of table work starting",
         "Stays seated for a few minutes with {aid} and frequent prompts",
         "Stays seated for {mins} minutes of table work using {aid}",
         "Stays seated for {mins} minutes of table work using {aid}, without prompts",
         "Stays seated for the whole lesson and uses {aid} only when needed",
     ), (({"mins": "10"}, {"mins": "15"}),
         ({"aid": "a wobble cushion"}, {"aid": "a movement break beforehand"},
          {"aid": "a fidget tool"}))),
    ("sensory regulation", (7, 71),
     "Will settle to sleep within {mins} minutes using the bedtime routine", (
         "Takes over an hour to settle on most nights, with an adult in the room",
         "Settles within an hour with an adult in the room",
         "Settles within {mins} minutes using the bedtime routine on most nights",
         "Settles within {mins} minutes using the bedtime routine every night",
         "Settles quickly every night without an adult in the room",
     ), (({"mins": "20"}, {"mins": "30"}),)),
    ("sensory regulation", (30, 179),
     "Will move from a preferred activity to the next task after a {cue} warning, without a "
     "meltdown", (
         "Every move away from a preferred activity ends in a meltdown",
         "Moves on after a {cue} warning about a quarter of the time",
         "Moves on after a {cue} warning on most days, without a meltdown",
         "Moves on after a {cue} warning every time, without a meltdown",
         "Moves between activities calmly with a spoken warning only",
     ), (({"cue": "five-minute timer"}, {"cue": "visual schedule"},
          {"cue": "first-then board"}),)),
    ("sensory regulation", (24, 179), "Will join messy play with {material} for {mins} minutes", (
        "Refuses to stay at the table when {material} is out",
        "Touches {material} with a tool or one fingertip for a few seconds",
        "Joins messy play with {material} for {mins} minutes",
        "Joins messy play with {material} for {mins} minutes using both hands",
        "Chooses messy play with {material} and stays for the whole activity",
    ), (({"material": "paint"}, {"material": "playdough"}, {"material": "sand"},
         {"material": "shaving foam"}),
        ({"mins": "5"}, {"mins": "10"}))),
    ("sensory regulation", (72, 179),
     "Will rate own energy level on the engine chart and choose a matching activity", (
         "Does not recognise feeling over- or under-alert",
         "Rates energy level on the chart with an adult's help",
         "Rates energy level and chooses a matching activity with one prompt, twice a day",
         "Rates energy level and chooses a matching activity without prompts",
         "Uses the engine ideas independently at home and school and explains them to others",
     ), ()),
    ("sensory regulation", (7, 47), "Will tolerate {activity} without crying", (
        "Cries throughout {activity}",
        "Cries through most of {activity} but can be comforted",
        "Tolerates {activity} with brief crying that settles with comfort",
        "Tolerates {activity} without crying",
        "Enjoys {activity} and stays calm and engaged",
    ), (({"activity": "car journeys of 20 minutes"}, {"activity": "bath time"},
         {"activity": "being held by relatives"}),)),
    # ---- play/social -----------------------------------------------------
    ("play/social", (36, 179), "Will take turns in a {game} with {who} for {mins} minutes", (
        "Leaves the game or grabs pieces when it is not their turn",
        "Takes turns with adult support for a few minutes",
        "Takes turns in a {game} with {who} for {mins} minutes, with an adult nearby",
        "Takes turns in a {game} with {who} for {mins} minutes without adult support",
        "Suggests and organises turn-taking games with other children",
    ), (({"game": "board game"}, {"game": "ball game"}),
        ({"who": "one other child"}, {"who": "two or three other children"}),
        ({"mins": "10"}, {"mins": "15"}))),
    ("play/social", (12, 47), "Will play alongside another child for {mins} minutes at {place}", (
        "Moves away or cries when another child comes close",
        "Stays near another child for a minute or two with an adult close by",
        "Plays alongside another child for {mins} minutes at {place}",
        "Plays alongside another child for {mins} minutes and shares a toy when asked",
        "Joins simple back-and-forth play with another child, such as rolling a ball",
    ), (({"mins": "5"}, {"mins": "10"}), ({"place": "playgroup"}, {"place": "nursery"}))),
    ("play/social", (7, 23),
     "Will take part in a back-and-forth game such as peekaboo for {mins} minutes", (
         "Looks away and does not respond when an adult starts a game",
         "Watches an adult's game briefly without joining in",
         "Takes part in a back-and-forth game such as peekaboo for {mins} minutes",
         "Takes part in back-and-forth games for {mins} minutes, smiling at the adult",
         "Starts back-and-forth games by hiding own face or offering a toy",
     ), (({"mins": "2"}, {"mins": "5"}),)),
    ("play/social", (60, 179), "Will join a playground game at break time on {days} days a week", (
        "Stays alone or with staff at every break time",
        "Watches other children's games but does not join in",
        "Joins a playground game at break time on {days} days a week",
        "Joins a playground game at most break times",
        "Starts playground games and invites others to join",
    ), (({"days": "two"}, {"days": "three"}),)),
    ("play/social", (48, 179), "Will accept losing a game {support}, without leaving the activity", (
        "Throws pieces or leaves whenever losing looks likely",
        "Stays after losing only with adult support and reassurance",
        "Accepts losing a game {support}, without leaving the activity",
        "Accepts losing calmly and agrees to play again",
        "Accepts losing calmly and congratulates the winner",
    ), (({"support": "with a reminder of a calming phrase"},
         {"support": "using a 'win some, lose some' card"}),)),
    ("play/social", (72, 179), "Will attend the after-school {club} club for a whole session", (
        "Refuses to go into the {club} club",
        "Attends the {club} club for part of a session with a parent present",
        "Attends the {club} club for a whole session",
        "Attends the {club} club for a whole session every week without a parent",
        "Attends the {club} club every week and has made a friend there",
    ), (({"club": "football"}, {"club": "art"}, {"club": "drama"}, {"club": "coding"}),)),
    ("play/social", (24, 95),
     "Will join pretend play with an adult, such as {theme}, for {mins} minutes", (
         "Does not join pretend play; lines up or sorts the toys instead",
         "Copies one pretend action when an adult shows it",
         "Joins pretend play with an adult, such as {theme}, for {mins} minutes",
         "Joins pretend play, such as {theme}, for {mins} minutes and adds own ideas",
         "Plays {theme} with another child, taking on roles",
     ), (({"theme": "a tea party"}, {"theme": "shops"}, {"theme": "looking after a doll"}),
         ({"mins": "5"}, {"mins": "10"}))),
    ("play/social", (36, 179), "Will greet familiar adults and children {how}", (
        "Turns away or hides when greeted",
        "Responds to a greeting with a glance when prompted",
        "Greets familiar adults and children {how} when prompted",
        "Greets familiar adults and children {how} without prompts",
        "Greets people and starts a short conversation",
    ), (({"how": "with a wave or a word"}, {"how": "by name"}),)),
    # ---- school participation ---------------------------------------------
    ("school participation", (30, 71),
     "Will sit with the group for {mins} minutes of circle time at nursery", (
         "Leaves the group as soon as circle time starts",
         "Sits at the edge of the group for a minute or two with an adult",
         "Sits with the group for {mins} minutes of circle time, on a sit-spot",
         "Sits with the group for {mins} minutes of circle time without a sit-spot",
         "Sits for the whole of circle time and joins in the songs",
     ), (({"mins": "5"}, {"mins": "10"}),)),
    ("school participation", (60, 179),
     "Will stay on task during independent work for {mins} minutes with a visual timer", (
         "Leaves the task within a minute",
         "Stays on task for a few minutes with one-to-one support",
         "Stays on task for {mins} minutes of independent work with a visual timer",
         "Stays on task for {mins} minutes of independent work without the timer",
         "Works independently for the whole lesson and checks own work",
     ), (({"mins": "10"}, {"mins": "15"}, {"mins": "20"}),)),
    ("school participation", (60, 179),
     "Will line up and move between classrooms without touching or pushing others", (
         "Pushes or bumps into others every time the class lines up",
         "Lines up at the front or back holding an adult's hand",
         "Lines up and moves between classrooms without touching others, with one reminder",
         "Lines up and moves between classrooms without touching others or reminders",
         "Lines up calmly in any place in the line and can lead it",
     ), ()),
    ("school participation", (60, 179), "Will take part in PE, including changing, {freq}", (
        "Refuses to change for PE and sits out",
        "Changes with adult help but joins only part of the lesson",
        "Takes part in PE, including changing, {freq}",
        "Changes independently and takes part in PE {freq} without reminders",
        "Takes part fully in PE and joins an after-school sport",
    ), (({"freq": "every week"}, {"freq": "for the whole lesson"}),)),
    ("school participation", (72, 179),
     "Will pack school bag and hand in homework using a checklist", (
         "Arrives without what is needed for the day on most days",
         "Packs the bag with an adult reading out the checklist",
         "Packs the bag and hands in homework using the checklist on most days",
         "Packs the bag and hands in homework using the checklist every day",
         "Packs the bag and hands in homework every day without the checklist",
     ), ()),
    ("school participation", (30, 59),
     "Will separate from caregiver at the nursery door and join the group within {mins} "
     "minutes", (
         "Cannot separate; the caregiver stays or takes the child home",
         "Separates after a long goodbye and needs a key adult for the first half hour",
         "Separates at the nursery door and joins the group within {mins} minutes",
         "Separates at the nursery door and joins the group straight away on most days",
         "Walks in happily and starts playing without an adult",
     ), (({"mins": "5"}, {"mins": "10"}),)),
    ("school participation", (60, 179),
     "Will separate from caregiver at the classroom door and start the morning task within "
     "{mins} minutes", (
         "Cannot separate; the caregiver stays or takes the child home",
         "Separates after a long goodbye and needs an adult for the first half hour",
         "Separates at the classroom door and starts the morning task within {mins} minutes",
         "Separates at the classroom door and starts the morning task straight away",
         "Walks in happily, starts the morning task and helps set up the classroom",
     ), (({"mins": "5"}, {"mins": "10"}),)),
    ("school participation", (72, 179), "Will complete a {subject} worksheet within the lesson", (
        "Does not start the {subject} worksheet without one-to-one help",
        "Completes a quarter of the {subject} worksheet with prompts",
        "Completes the {subject} worksheet within the lesson with one prompt",
        "Completes the {subject} worksheet within the lesson without prompts",
        "Completes the {subject} worksheet early and moves on to the extension task",
    ), (({"subject": "maths"}, {"subject": "spelling"}, {"subject": "reading"}),)),
)

_NOTES = {
    "up": ("Clear progress since the last review", "Managing with fewer prompts",
           "Family reports steady gains at home", "Strategy now used on most days",
           "Good progress; keep the current plan", "School reports the same progress"),
    "same": ("No change; continue the current plan", "Progress slowed over the holidays",
             "Inconsistent across settings", "Fewer sessions this block due to illness",
             "Still needs full adult support", "Plan adjusted; review next block"),
    "down": ("Harder this block after a change of class", "Setback after a house move",
             "Regressed after the school holidays", "More distress this block; plan revised",
             "Poor sleep lately; expect variation"),
    "above": ("Goal exceeded; consider a new goal", "Managing independently across settings",
              "Met ahead of the target date", "Now does this without any prompts"),
}
_NOTE_BLANK_SHARE = 0.4


def _expand_templates():
    """Flatten the templates: one entry per (template, slot combination)."""
    import itertools

    texts, template_of, domain_of, ages = [], [], [], []
    offsets, counts = [], []
    for t, (domain, (lo, hi), desc, levels, slots) in enumerate(_GOAL_TEMPLATES):
        offsets.append(len(texts))
        combos = list(itertools.product(*slots)) if slots else [()]
        for combo in combos:
            subs: dict[str, str] = {}
            for part in combo:
                subs.update(part)
            texts.append(tuple(s.format(**subs) for s in (desc, *levels)))
            template_of.append(t)
        counts.append(len(combos))
        domain_of.append(GOAL_DOMAINS.index(domain))
        ages.append((lo, hi))
    return (texts, np.array(offsets), np.array(counts), np.array(domain_of),
            np.array(ages, dtype=float))


def _days(value: dt.date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


def _iso(days: np.ndarray) -> np.ndarray:
    """ISO YYYY-MM-DD strings of day numbers (days since 1970-01-01)."""
    return np.datetime_as_string(np.asarray(days, dtype=np.int64).astype("datetime64[D]"),
                                 unit="D").astype(object)


def _categorical_draw(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of an (n, k) probability array (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(probs))
    return (u[:, None] >= cum).sum(axis=1)


def _months(dob: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Completed months of age (the scorer's rule) for day-number arrays."""
    if len(dob) == 0:
        return np.zeros(0)
    return N.age_in_months(np.asarray(dob).astype("datetime64[D]"),
                           np.asarray(on).astype("datetime64[D]"))


# ---------------------------------------------------------------------------
# the item-response model
# ---------------------------------------------------------------------------
class _ItemModel:
    """Binned-normal item model for one instrument, in behaviour units.

    An answer's behaviour amount ``a`` (1 = almost never ... k = almost always)
    is ``1 + #{thresholds < loc_g + delta_i + section offset + noise}`` with
    thresholds at 1.5, 2.5, ..., k - 0.5. Each item belongs to one group (its
    quadrant score, or for items without a quadrant its section score). For a
    latent z the target raw score is ``norm mean + z * norm SD`` (in behaviour
    units); ``loc_g`` is found by inverting the expected group sum, so the
    scored z lands near the latent z.
    """

    GRID = np.linspace(-4.0, 10.0, 1401)

    def __init__(self, inst: Instrument, rng: np.random.Generator):
        self.inst = inst
        comp = inst.compiled
        scale = inst.response_scale
        self.answers = np.array(scale.answer_values, dtype=float)
        k = len(self.answers)
        self.na_code = scale.na_codes[0] if scale.na_codes else None
        self.thresholds = np.arange(1, k) + 0.5
        n_items = len(inst.items)
        self.delta = rng.normal(0.0, 0.45, n_items)
        self.delta -= self.delta.mean()
        # groups: quadrant scores, then section scores of items with no quadrant
        score_ids = list(comp.score_ids)
        item_index = {item: i for i, item in enumerate(inst.item_ids)}
        group_scores: list[int] = []
        self.group_key: list[tuple[str, str]] = []
        self.group_of_item = np.full(n_items, -1)
        for kind in ("quadrant", "section"):
            for score in inst.scores:
                if score.kind != kind:
                    continue
                members = [item_index[i] for i in score.items]
                members = [m for m in members if self.group_of_item[m] < 0
                           and (kind == "quadrant" or inst.items[m].quadrant is None)]
                if not members:
                    continue
                self.group_of_item[members] = len(group_scores)
                group_scores.append(score_ids.index(score.id))
                self.group_key.append((kind, score.selector[1] if score.selector
                                       else score.id))
        loose = self.group_of_item < 0
        if loose.any():  # items in no score: follow the overall load
            self.group_of_item[loose] = len(group_scores)
            group_scores.append(-1)
            self.group_key.append(("load", ""))
        self.n_groups = len(group_scores)
        self.group_size = np.bincount(self.group_of_item, minlength=self.n_groups)
        # expected behaviour-unit sum of each group as a function of loc
        per_item = 1.0 + ndtr((self.GRID[:, None, None] + self.delta[None, :, None]
                               - self.thresholds[None, None, :]) / _ITEM_NOISE).sum(axis=2)
        self.expected = np.stack([per_item[:, self.group_of_item == g].sum(axis=1)
                                  for g in range(self.n_groups)], axis=1)
        # norm mean / SD per band and group, in behaviour units, gaps filled
        n_bands = len(comp.band_low)
        a_lo, a_hi = self.answers[0], self.answers[-1]
        mean = np.full((max(n_bands, 1), self.n_groups), np.nan)
        sd = np.full_like(mean, np.nan)
        for g, j in enumerate(group_scores):
            size = self.group_size[g]
            if j < 0:
                continue
            for b in range(n_bands):
                if not np.isnan(comp.mean[b, j]):
                    m, s = comp.mean[b, j], comp.sd[b, j]
                elif comp.has_cuts[b, j]:
                    typical = comp.cut_level[b, j] == 0
                    lo, hi = comp.cut_low[b, j][typical][0], comp.cut_high[b, j][typical][0]
                    m, s = (lo + hi) / 2.0, (hi - lo + 1.0) / 2.0
                else:
                    continue
                if comp.reversed[j]:
                    m = size * (a_lo + a_hi) - m
                mean[b, g], sd[b, g] = m, s
        for g in range(self.n_groups):  # nearest band with norms, else a generic spread
            col_m, col_s = mean[:, g], sd[:, g]
            have = np.flatnonzero(~np.isnan(col_m))
            if len(have) == 0:
                size = self.group_size[g]
                col_m[:] = size * (a_lo + a_hi) / 2.0 - 0.4 * size
                col_s[:] = 0.55 * size
                continue
            nearest = have[np.abs(np.arange(len(col_m))[:, None] - have[None, :]).argmin(axis=1)]
            col_m[:], col_s[:] = col_m[nearest], col_s[nearest]
        self.mean, self.sd = mean, sd

    def draw(self, rng: np.random.Generator, group_z: np.ndarray, ages: np.ndarray,
             item_offset: np.ndarray) -> np.ndarray:
        """Coded answers, ``(n, n_items)`` float, for latent z per group ``(n, n_groups)``."""
        comp = self.inst.compiled
        n = len(group_z)
        band = N.band_index(np.clip(ages, self.inst.age_min, self.inst.age_max), comp)
        band = np.clip(band, 0, self.mean.shape[0] - 1)
        target = self.mean[band] + group_z * self.sd[band]
        lo = self.group_size * self.answers[0] + 0.3
        hi = self.group_size * self.answers[-1] - 0.3
        target = np.clip(target, lo, hi)
        loc = np.empty((n, self.n_groups))
        for g in range(self.n_groups):
            loc[:, g] = np.interp(target[:, g], self.expected[:, g], self.GRID)
        y = loc[:, self.group_of_item] + self.delta + item_offset
        y += rng.normal(0.0, _ITEM_NOISE, y.shape)
        amount = np.zeros(y.shape, dtype=np.int8)
        for t in self.thresholds:
            amount += y > t
        if self.inst.direction == "higher_less":
            amount = len(self.answers) - 1 - amount
        return self.answers[amount]


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------
def generate_clinic(n_children: int = 60, seed: int = 0, *,
                    end_date: dt.date = dt.date(2026, 9, 30),
                    include_truth: bool = False) -> dict[str, pd.DataFrame]:
    """A whole synthetic clinic: children, assessments, goals and goal ratings.

    Parameters
    ----------
    n_children : number of children (at least 1).
    seed : seed of the one ``numpy.random.default_rng`` all draws come from;
        the same arguments always give the same tables.
    end_date : the extract date; no date in any table is later.
    include_truth : also return ``"truth"``, the latent model per child
        (subtype, intake latent quadrant z, yearly therapy rate), for testing
        methods against a known answer. Not part of a clinic dataset.

    Returns
    -------
    dict of DataFrames keyed ``"children"``, ``"assessments"``, ``"goals"``,
    ``"goal_ratings"`` with the columns of :mod:`sensoryprofile.columns`
    (dates as ISO ``YYYY-MM-DD`` strings, blanks as missing values).

    Notes
    -----
    Children are 3-14 years old at referral (demo-child) or, about 8%,
    7-33 months (demo-toddler until their 36-month birthday, demo-child after).
    Each child has a profile subtype (:data:`SUBTYPES`) giving latent quadrant
    levels in z units; therapy shrinks them toward 0 at a per-child rate
    (some children a lot, some not at all, a few get worse). Items follow a
    binned-normal model around the latent level, calibrated against the
    instrument's own norms. Goals follow goal attainment scaling with final
    levels near 7/21/43/21/7 % across -2..+2, shifted per therapist
    (:data:`THERAPISTS`).

    Examples
    --------
    >>> clinic = generate_clinic(5, seed=1)
    >>> sorted(clinic)
    ['assessments', 'children', 'goal_ratings', 'goals']
    >>> clinic["children"]["child_id"].tolist()
    ['C0001', 'C0002', 'C0003', 'C0004', 'C0005']
    """
    if isinstance(n_children, bool) or not isinstance(n_children, (int, np.integer)) \
            or n_children < 1:
        raise UsageError(f"`n_children` must be a whole number of at least 1, but "
                         f"{n_children!r} was passed")
    if isinstance(end_date, dt.datetime):
        end_date = end_date.date()
    if not isinstance(end_date, dt.date):
        raise UsageError(f"`end_date` must be a datetime.date, but {end_date!r} was passed")
    n = int(n_children)
    rng = np.random.default_rng(seed)
    end = _days(end_date)
    instruments = [load_instrument(i) for i in CLINIC_INSTRUMENTS]
    models = [_ItemModel(inst, rng) for inst in instruments]

    # ---- children -----------------------------------------------------------
    toddler = rng.random(n) < 0.08
    referral = end - rng.integers(_REFERRAL_WINDOW[0], _REFERRAL_WINDOW[1] + 1, n)
    age_days = np.where(
        toddler,
        rng.integers(_TODDLER_AGE_DAYS[0], _TODDLER_AGE_DAYS[1] + 1, n),
        _CHILD_AGE_DAYS[0] + np.floor((_CHILD_AGE_DAYS[1] - _CHILD_AGE_DAYS[0])
                                      * rng.beta(1.6, 3.2, n)).astype(np.int64))
    dob = referral - age_days
    sex = np.array(["F", "M", "X"], dtype=object)[_categorical_draw(
        rng, np.broadcast_to([0.34, 0.64, 0.02], (n, 3)))]
    primary = _categorical_draw(rng, np.where(toddler[:, None],
                                              np.array(_PRIMARY_DIAGNOSIS["toddler"]),
                                              np.array(_PRIMARY_DIAGNOSIS["child"])))
    none_code = DIAGNOSES.index("none")
    p_second = 0.15 / (1.0 - _PRIMARY_DIAGNOSIS["child"][none_code])
    second_w = np.broadcast_to(_SECOND_DIAGNOSIS, (n, len(DIAGNOSES))).copy()
    second_w[toddler, 1:3] = 0.0  # no ADHD or DCD diagnosed before 3
    second_w[np.arange(n), primary] = 0.0
    second_w /= second_w.sum(axis=1, keepdims=True)
    second = _categorical_draw(rng, second_w)
    has_second = (rng.random(n) < p_second) & (primary != none_code)
    held = np.zeros((n, len(DIAGNOSES)), dtype=bool)
    held[np.arange(n), primary] = True
    held[np.flatnonzero(has_second), second[has_second]] = True
    diag_text = np.array([";".join(d for d, h in zip(DIAGNOSES, row, strict=True) if h)
                          for row in held], dtype=object)

    t_weights = np.array([t[2] for t in THERAPISTS])
    therapist = _categorical_draw(rng, np.broadcast_to(t_weights / t_weights.sum(),
                                                       (n, len(THERAPISTS))))
    home = np.array([SITES.index(t[1]) for t in THERAPISTS])[therapist]
    away = rng.random(n) < 0.10
    site = np.where(away, (home + rng.integers(1, len(SITES), n)) % len(SITES), home)
    names = (np.array(_FIRST_NAMES, dtype=object)[rng.integers(0, len(_FIRST_NAMES), n)]
             + " " + np.array(list(_INITIALS), dtype=object)[
                 rng.integers(0, len(_INITIALS), n)] + ".")

    # latent profile
    subtype = _categorical_draw(rng, _SUBTYPE_GIVEN_DIAGNOSIS[primary])
    typical = subtype == SUBTYPES.index("balanced/typical")
    general = rng.normal(size=(n, 1))
    spread = np.where(typical[:, None], 0.45 * rng.normal(size=(n, 4)),
                      0.3 * general + 0.45 * rng.normal(size=(n, 4)))
    z0 = _SUBTYPE_MEANS[subtype] + spread
    load = z0.mean(axis=1)
    behaviour_ids = tuple(_BEHAVIOUR_BY_DIAGNOSIS)
    zb0 = 0.35 * load[:, None] + rng.normal(0.0, 0.6, (n, len(behaviour_ids)))
    zb0 += held.astype(float) @ np.array([_BEHAVIOUR_BY_DIAGNOSIS[s] for s in behaviour_ids]).T
    responder = rng.normal(size=n)  # also drives goal outcomes
    rate = 0.4 + 0.3 * responder  # per year; negative = gets worse
    rate_q = rate[:, None] * rng.uniform(0.6, 1.4, (n, 4))
    section_ids = sorted({s.id for inst in instruments for s in inst.sections
                          if s.kind == "sensory"})
    section_offset = rng.normal(0.0, 0.25, (n, len(section_ids)))
    teacher_bias = rng.normal(0.0, 0.35, (n, 4))

    # ---- assessment schedule --------------------------------------------------
    intake = referral + rng.integers(0, 31, n)
    intake = np.minimum(intake, np.where(toddler, end, dob + _CHILD_AGE_DAYS[1]))
    intake = np.minimum(intake, end - 7)  # referral is at least 20 days before the end
    k_max = (_REFERRAL_WINDOW[1] // (_REASSESS_EVERY - _REASSESS_JITTER)) + 1
    gaps = _REASSESS_EVERY + rng.integers(-_REASSESS_JITTER, _REASSESS_JITTER + 1, (n, k_max))
    re_dates = intake[:, None] + np.cumsum(gaps, axis=1)
    n_avail = (re_dates <= end).sum(axis=1)

    # discharges: ~25% of all children, after a review (a few drop out early)
    eligible = intake <= end - 200
    p_dis = min(1.0, 0.25 * n / max(int(eligible.sum()), 1))
    discharged = eligible & (rng.random(n) < p_dis)
    early = discharged & ((rng.random(n) < 0.10) | (n_avail == 0))
    n_kept = np.minimum(np.floor(rng.random(n) * n_avail).astype(int) + 1, n_avail)
    last_kept = re_dates[np.arange(n), np.maximum(n_kept - 1, 0)]
    discharge = np.where(early, intake + rng.integers(30, 151, n),
                         last_kept + rng.integers(0, 22, n))
    discharge = np.minimum(discharge, end)
    discharge = np.where(discharged, discharge, -1)
    stop = np.where(discharged, discharge, end)

    # overdue: ~15% of active children stop being reassessed > 7 months ago
    active = ~discharged
    can_lapse = active & (intake <= end - _OVERDUE_GAP - 10)
    factor = np.array([t[4] for t in THERAPISTS])[therapist]
    p_over = 0.15 * active.sum() / max(float(factor[can_lapse].sum()), 1e-9)
    overdue = can_lapse & (rng.random(n) < np.minimum(p_over * factor, 1.0))
    cutoff = intake + np.floor(rng.random(n) * (end - _OVERDUE_GAP - intake)).astype(np.int64)
    assess_stop = np.where(overdue, np.maximum(cutoff, intake), stop)
    re_mask = re_dates <= assess_stop[:, None]

    # teacher questionnaires: ~10% of children, at intake and one reassessment
    intake_age = _months(dob, intake)
    can_teach = intake_age >= 42
    p_teach = min(1.0, 0.10 * n / max(int(can_teach.sum()), 1))
    teacher = can_teach & (rng.random(n) < p_teach)
    pick_key = np.where(re_mask, rng.random((n, k_max)), -1.0)
    pick = pick_key.argmax(axis=1)
    has_re = re_mask.any(axis=1)
    teacher_offsets = rng.integers(0, 15, (n, 2))

    rows_child = [np.arange(n), np.nonzero(re_mask)[0]]
    rows_date = [intake, re_dates[re_mask]]
    rows_resp = [np.zeros(n, np.int8), np.zeros(int(re_mask.sum()), np.int8)]
    t_int = np.flatnonzero(teacher)
    rows_child.append(t_int)
    rows_date.append(np.minimum(intake[t_int] + teacher_offsets[t_int, 0], assess_stop[t_int]))
    t_re = np.flatnonzero(teacher & has_re)
    rows_child.append(t_re)
    rows_date.append(np.minimum(re_dates[t_re, pick[t_re]] + teacher_offsets[t_re, 1],
                                assess_stop[t_re]))
    rows_resp += [np.ones(len(t_int), np.int8), np.ones(len(t_re), np.int8)]
    a_child = np.concatenate(rows_child)
    a_date = np.concatenate(rows_date)
    a_resp = np.concatenate(rows_resp)
    a_age = _months(dob[a_child], a_date)
    keep = (a_age <= instruments[0].age_max) & (a_date <= end)
    a_child, a_date, a_resp, a_age = a_child[keep], a_date[keep], a_resp[keep], a_age[keep]
    order = np.lexsort((a_resp, a_date, a_child))
    a_child, a_date, a_resp, a_age = a_child[order], a_date[order], a_resp[order], a_age[order]
    a_inst = np.where(a_age <= instruments[1].age_max, 1, 0)
    n_a = len(a_child)

    # latent levels at each assessment
    years = (a_date - intake[a_child]) / 365.25
    shrink = np.exp(-rate_q[a_child] * years[:, None])
    zq = z0[a_child] * shrink + rng.normal(0.0, 0.12, (n_a, 4))
    zq += np.where(a_resp[:, None] == 1, teacher_bias[a_child], 0.0)
    zq = np.clip(zq, -3.5, 3.5)
    zb = zb0[a_child] * np.exp(-rate[a_child] * years)[:, None]
    zb += rng.normal(0.0, 0.15, zb.shape)
    a_load = zq.mean(axis=1)

    item_ids = [i for inst in instruments for i in inst.item_ids]
    values = np.full((n_a, len(item_ids)), np.nan)
    col = 0
    for k, (inst, model) in enumerate(zip(instruments, models, strict=True)):
        rows = np.flatnonzero(a_inst == k)
        width = len(inst.item_ids)
        group_z = np.empty((len(rows), model.n_groups))
        for g, (kind, name) in enumerate(model.group_key):
            if kind == "quadrant":
                group_z[:, g] = zq[rows, QUADRANT_ORDER.index(name)]
            elif name in behaviour_ids:
                group_z[:, g] = zb[rows, behaviour_ids.index(name)]
            else:
                group_z[:, g] = 0.35 * a_load[rows]
        sec_cols = np.array([section_ids.index(item.section) if item.section in section_ids
                             else -1 for item in inst.items])
        offset = np.where(sec_cols >= 0, section_offset[a_child[rows]][:, np.maximum(
            sec_cols, 0)], 0.0)
        block = model.draw(rng, group_z, a_age[rows], offset)
        # ~1% blank, ~1% "does not apply", and ~0.4% of forms with a page skipped
        u = rng.random(block.shape)
        block[u < 0.01] = np.nan
        if model.na_code is not None:
            block[(u >= 0.01) & (u < 0.02)] = model.na_code
        skipped = rng.random(len(rows)) < 0.004
        section_names = [s.id for s in inst.sections if s.kind == "sensory"]
        which = rng.integers(0, len(section_names), len(rows))
        item_sections = np.array([item.section for item in inst.items], dtype=object)
        for r in np.flatnonzero(skipped):
            block[r, item_sections == section_names[which[r]]] = np.nan
        values[rows, col:col + width] = block
        col += width

    width_a = max(5, len(str(n_a)))
    assessments = pd.DataFrame({
        C.ASSESSMENT_ID: [f"A{i:0{width_a}d}" for i in range(1, n_a + 1)],
        C.CHILD_ID: None, C.INSTRUMENT: np.array(CLINIC_INSTRUMENTS, dtype=object)[a_inst],
        C.DATE: _iso(a_date),
        C.RESPONDENT: np.array(["caregiver", "teacher"], dtype=object)[a_resp],
    })
    width_c = max(4, len(str(n)))
    child_ids = np.array([f"C{i:0{width_c}d}" for i in range(1, n + 1)], dtype=object)
    assessments[C.CHILD_ID] = child_ids[a_child]
    mask = np.isnan(values)
    filled = np.where(mask, 0, values).astype(np.int8)
    items = pd.DataFrame({item: pd.arrays.IntegerArray(filled[:, j], mask[:, j])
                          for j, item in enumerate(item_ids)})
    assessments = pd.concat([assessments, items], axis=1)

    children = pd.DataFrame({
        C.CHILD_ID: child_ids,
        C.DATE_OF_BIRTH: _iso(dob),
        C.SEX: sex,
        C.DIAGNOSES: diag_text,
        C.SITE: np.array(SITES, dtype=object)[site],
        C.THERAPIST: np.array([t[0] for t in THERAPISTS], dtype=object)[therapist],
        C.REFERRAL_DATE: _iso(referral),
        C.DISCHARGE_DATE: np.where(discharged, _iso(np.maximum(discharge, 0)), None),
        C.DISPLAY_NAME: names,
    })

    goals, ratings = _generate_goals(
        rng, n=n, child_ids=child_ids, dob=dob, intake=intake, stop=stop,
        discharged=discharged, end=end, subtype=subtype, therapist=therapist,
        responder=responder)
    clinic = {"children": children, "assessments": assessments, "goals": goals,
              "goal_ratings": ratings}
    if include_truth:
        clinic["truth"] = pd.DataFrame({
            C.CHILD_ID: child_ids,
            "subtype": np.array(SUBTYPES, dtype=object)[subtype],
            **{f"z0_{q}": z0[:, k] for k, q in enumerate(QUADRANT_ORDER)},
            "therapy_rate": rate,
            "overdue": overdue,
        })
    return clinic


def _generate_goals(rng: np.random.Generator, *, n: int, child_ids: np.ndarray,
                    dob: np.ndarray, intake: np.ndarray, stop: np.ndarray,
                    discharged: np.ndarray, end: int, subtype: np.ndarray,
                    therapist: np.ndarray, responder: np.ndarray
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    texts, offsets, counts, t_domain, t_ages = _expand_templates()
    n_templates = len(offsets)

    # set dates: one goal-setting session 0-14 days after intake, then review
    # sessions every ~3 months (all of a child's goals are rated together)
    g_set0 = np.minimum(intake + rng.integers(0, 15, n), np.minimum(stop, end - 3))
    span = int(max(np.max(stop - g_set0, initial=0), 0))
    r_max = span // (_REVIEW_EVERY - _REVIEW_JITTER) + 1
    c_gaps = _REVIEW_EVERY + rng.integers(-_REVIEW_JITTER, _REVIEW_JITTER + 1, (n, r_max))
    c_dates = g_set0[:, None] + np.cumsum(c_gaps, axis=1)
    c_valid = c_dates <= stop[:, None]
    last = np.where(c_valid.any(axis=1), np.max(np.where(c_valid, c_dates, 0), axis=1), g_set0)
    at_discharge = discharged & (stop - last >= 30)
    c_dates = np.concatenate([c_dates, stop[:, None]], axis=1)
    c_valid = np.concatenate([c_valid, at_discharge[:, None]], axis=1)
    n_goals = 2 + _categorical_draw(rng, np.broadcast_to([0.2, 0.4, 0.3, 0.1], (n, 4)))
    # a few children get their last goal at the first review, not at intake
    later = (n_goals >= 3) & (rng.random(n) < 0.12) & c_valid[:, 0] & (
        c_dates[:, 0] <= stop - 30)
    later_date = c_dates[:, 0]

    # templates: weighted draw without replacement among age-appropriate ones
    age_at_set = _months(dob, g_set0)
    fits = (age_at_set[:, None] >= t_ages[None, :, 0]) & (age_at_set[:, None] <= t_ages[None, :,
                                                                                        1])
    weights = _DOMAIN_WEIGHTS[subtype][:, t_domain]
    keys = np.where(fits, np.log(weights) + rng.gumbel(size=(n, n_templates)), -np.inf)
    ranked = np.argsort(-keys, axis=1, kind="stable")[:, :5]
    n_goals = np.minimum(n_goals, fits.sum(axis=1))

    g_child = np.repeat(np.arange(n), n_goals)
    g_rank = np.arange(len(g_child)) - np.repeat(np.cumsum(n_goals) - n_goals, n_goals)
    g_template = ranked[g_child, g_rank]
    n_g = len(g_child)
    g_variant = offsets[g_template] + np.floor(rng.random(n_g) * counts[g_template]).astype(int)
    g_is_later = later[g_child] & (g_rank == n_goals[g_child] - 1)
    g_set = np.where(g_is_later, later_date[g_child], g_set0[g_child])
    duration = rng.integers(91, 184, n_g)  # planned time to the target date
    g_target = g_set + duration  # a plan: may lie after end_date, like a real target date

    # weights: mostly 1-3, a few unweighted (blank); calibration differs by therapist
    g_ther = therapist[g_child]
    easy = np.array([t[3] for t in THERAPISTS])[g_ther]
    imp = _categorical_draw(rng, np.broadcast_to([0.03, 0.25, 0.40, 0.32], (n_g, 4)))
    diff_p = np.where((easy > 0.5)[:, None], [0.05, 0.55, 0.30, 0.10],
                      np.where((easy < -0.5)[:, None], [0.02, 0.15, 0.38, 0.45],
                               [0.03, 0.30, 0.42, 0.25]))
    diff = _categorical_draw(rng, diff_p)
    unweighted = rng.random(n_g) < 0.06
    baseline = np.where(rng.random(n_g) < 0.6, -1, -2)

    # outcome level: therapist bias + child's response to therapy + goal noise
    latent = easy + 0.4 * responder[g_child] + 0.82 * rng.normal(size=n_g)
    final = np.searchsorted(_GAS_CUTS, latent) - 2
    reach = duration * rng.uniform(0.7, 1.4, n_g)
    dip = (baseline == -1) & (final >= -1) & (rng.random(n_g) < 0.06)

    # ratings: at each of the child's review sessions after the goal's set date
    r_valid = c_valid[g_child] & (c_dates[g_child] > g_set[:, None])
    r_goal, r_col = np.nonzero(r_valid)
    r_date = c_dates[g_child[r_goal], r_col]
    n_r = len(r_goal)

    elapsed = (r_date - g_set[r_goal]) / reach[r_goal]
    progress = np.minimum(1.0, elapsed) ** 0.6
    b, f = baseline[r_goal], final[r_goal]
    mean = b + progress * (f - b)
    noise = np.where(progress < 1.0, rng.normal(0.0, 0.3, n_r), 0.0)
    level = np.clip(np.round(mean + noise), -2, 2).astype(np.int8)
    first = np.ones(n_r, dtype=bool)
    first[1:] = r_goal[1:] != r_goal[:-1]
    level[first & dip[r_goal]] = -2
    prev = np.empty(n_r, dtype=np.int8)
    prev[first] = b[first]
    prev[~first] = level[np.flatnonzero(~first) - 1]

    # rater: one per review session (teachers only for school-age children)
    c_age = (c_dates - dob[:, None]) / 30.4375
    rater_p = np.where((c_age < 42)[..., None], [0.68, 0.32, 0.0], [0.62, 0.26, 0.12])
    session_rater = _categorical_draw(rng, rater_p.reshape(-1, 3)).reshape(c_dates.shape)
    rater = np.array(["therapist", "caregiver", "teacher"], dtype=object)[
        session_rater[g_child[r_goal], r_col]]
    kind = np.select([(level >= 1) & (level >= prev), level > prev, level < prev],
                     ["above", "up", "down"], default="same")
    pick = rng.random(n_r)
    note = np.full(n_r, None, dtype=object)
    for name, options in _NOTES.items():
        sel = kind == name
        note[sel] = np.array(options, dtype=object)[
            np.floor(pick[sel] * len(options)).astype(int)]
    note[rng.random(n_r) < _NOTE_BLANK_SHARE] = None

    width_g = max(5, len(str(n_g)))
    goal_ids = np.array([f"G{i:0{width_g}d}" for i in range(1, n_g + 1)], dtype=object)
    text_table = np.array(texts, dtype=object)[g_variant]
    imp_arr = pd.array(np.where(unweighted, 0, imp).astype(np.int8), dtype="Int8")
    diff_arr = pd.array(np.where(unweighted, 0, diff).astype(np.int8), dtype="Int8")
    imp_arr[unweighted] = pd.NA
    diff_arr[unweighted] = pd.NA
    goals = pd.DataFrame({
        C.GOAL_ID: goal_ids,
        C.CHILD_ID: child_ids[g_child],
        C.SET_DATE: _iso(g_set),
        C.DOMAIN: np.array(GOAL_DOMAINS, dtype=object)[t_domain[g_template]],
        C.DESCRIPTION: text_table[:, 0],
        C.IMPORTANCE: imp_arr,
        C.DIFFICULTY: diff_arr,
        C.BASELINE_LEVEL: baseline.astype(np.int8),
        **{name: text_table[:, k + 1] for k, name in enumerate(C.LEVEL_TEXT_COLUMNS)},
        C.TARGET_DATE: _iso(g_target),
    })[C.GOALS_COLUMNS]
    ratings = pd.DataFrame({
        C.GOAL_ID: goal_ids[r_goal],
        C.DATE: _iso(r_date),
        C.LEVEL: level,
        C.RATER: rater,
        C.NOTE: note,
    })[C.GOAL_RATINGS_COLUMNS]
    return goals, ratings


#: File name of each table written by :func:`write_clinic`.
CLINIC_FILES = {"children": "children.csv", "assessments": "assessments.csv",
                "goals": "goals.csv", "goal_ratings": "goal_ratings.csv"}


def write_clinic(out_dir, n_children: int = 60, seed: int = 0, *,
                 end_date: dt.date = dt.date(2026, 9, 30)) -> dict[str, Path]:
    """Generate a synthetic clinic and write it as a folder of CSV files.

    Writes ``children.csv``, ``assessments.csv``, ``goals.csv`` and
    ``goal_ratings.csv`` (UTF-8 without BOM, LF line endings, ISO dates, blank
    cells for missing values) into ``out_dir``, creating it if needed. The
    same arguments always give byte-identical files.

    Returns
    -------
    dict mapping each table name to the path written.
    """
    clinic = generate_clinic(n_children, seed, end_date=end_date)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, file_name in CLINIC_FILES.items():
        path = out / file_name
        with open(path, "w", encoding="utf-8", newline="") as handle:
            clinic[name].to_csv(handle, index=False, lineterminator="\n")
        paths[name] = path
    return paths


def sample_readme(n_children: int, seed: int) -> str:
    """README (data dictionary) for a generated clinic."""
    from sensoryprofile.dictionary import data_dictionary_markdown
    from sensoryprofile.instruments import load_instrument

    intro = (
        "\n## About this sample\n\n"
        f"Synthetic clinic: {n_children} invented children, generated by "
        f"`sensoryprofile sample --children {n_children} --seed {seed}` (deterministic: the "
        "same command writes byte-identical files). Nothing here describes a real child, "
        "therapist or clinic; display names are invented nature words.\n\n"
        "- 3 sites, 8 therapists; diagnoses autism, ADHD, developmental coordination "
        "disorder, sensory processing difficulties or none (some children have two).\n"
        "- Most children (3-14 years at referral) are assessed with the demo-child form; a "
        "few toddlers with demo-toddler (reversed scale: 1 = almost always). Both are "
        "demonstration forms with invented items and synthetic norms, not for clinical use.\n"
        "- Intake assessment near referral, reassessments about every 6 months; some "
        "children are discharged, some are overdue; some have a second respondent (teacher).\n"
        "- Responses come from a latent model of sensory-processing profiles (avoiding and "
        "sensitivity high, seeking high, registration high, balanced, all elevated) with "
        "therapy moving scores toward the typical range at uneven rates, and a few blank and "
        "'does not apply' answers.\n"
        "- 2-5 goals per child with importance, difficulty and five level texts; ratings at "
        "reviews about every 3 months, mostly improving from baseline, with realistic "
        "spread (and one therapist's goals too easy, one's too hard).\n"
    )
    text = data_dictionary_markdown(
        [load_instrument("demo-child"), load_instrument("demo-toddler")],
        title="data/sample: a synthetic clinic dataset")
    head, _, rest = text.partition("\n## children")
    return head + intro + "\n## children" + rest + "\n"
