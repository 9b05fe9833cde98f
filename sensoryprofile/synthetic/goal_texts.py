"""The texts of the synthetic clinic's goals and rating notes: invented for
this project, written the way therapists write goals (one behaviour, five
levels from much less to much better than expected)."""

from __future__ import annotations

import itertools

import numpy as np

# ---------------------------------------------------------------------------
# goal templates: (domain, (min, max) age in months at set date, description,
# five level texts -2..+2, slots). Each slot is a tuple of alternative
# substitutions; one alternative of every slot is chosen per goal.
# ---------------------------------------------------------------------------
GOAL_TEMPLATES = (
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

RATING_NOTES = {
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
NOTE_BLANK_SHARE = 0.4

#: Notes from the therapist to the family (the family report shows the
#: latest): invented, in plain words, naming nobody.
FAMILY_NOTES = (
    "Thank you for all the practice at home. The picture chart for mornings is really "
    "helping.",
    "Great work this term. Please keep the movement breaks before homework going.",
    "The last few weeks have been harder. That is normal after a big change. We will keep the "
    "plan simple for now.",
    "Please bring the school timetable to our next visit, so we can plan breaks together.",
    "Your notes from home help us a lot. Keep writing down what works and what does not.",
    "We could start a new goal for mealtimes next term. Think about what matters most to your "
    "family.",
    "Small steps count. Trying an idea for a few minutes most days is enough.",
)
#: Share of the synthetic children with a note for the family.
FAMILY_NOTE_SHARE = 0.35


def expand_templates(domains: tuple[str, ...]):
    """Flatten the templates: one entry per (template, slot combination).

    Returns (texts, offsets, counts, domain index in ``domains``, age ranges).
    """
    texts, template_of, domain_of, ages = [], [], [], []
    offsets, counts = [], []
    for t, (domain, (lo, hi), desc, levels, slots) in enumerate(GOAL_TEMPLATES):
        offsets.append(len(texts))
        combos = list(itertools.product(*slots)) if slots else [()]
        for combo in combos:
            subs: dict[str, str] = {}
            for part in combo:
                subs.update(part)
            texts.append(tuple(s.format(**subs) for s in (desc, *levels)))
            template_of.append(t)
        counts.append(len(combos))
        domain_of.append(domains.index(domain))
        ages.append((lo, hi))
    return (texts, np.array(offsets), np.array(counts), np.array(domain_of),
            np.array(ages, dtype=float))
