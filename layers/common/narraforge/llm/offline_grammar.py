"""A small phrase grammar for the offline engine: sentences built from frames whose slots are single words
or short phrases drawn from large pools.

Fixed templates repeat their inner word pairs every time they are used, which is what kept distinct-2 low
and made long Polish texts repeat whole sentences; frames with mostly open slots give a story thousands of
distinct sentences while staying grammatical (English past tense; Polish present tense, where a 3rd-person
verb does not mark gender, and adjective–noun pairs come ready-agreed).
"""

from __future__ import annotations

import random

# --- English ------------------------------------------------------------------------------------------
EN_THINGS = [
    "lamp", "kettle", "ledger", "chair", "coat", "basket", "jug", "candle", "blanket", "box", "bowl", "map",
    "rope", "lantern", "shawl", "spoon", "bottle", "drawer", "curtain", "mirror", "brush", "satchel",
    "notebook", "glove", "teapot", "bench", "crate", "pencil", "envelope", "handkerchief", "clock", "key",
    "stool", "bucket", "umbrella", "newspaper", "photograph", "scarf", "cup", "tin",
]
EN_THING_ADJ = [
    "chipped", "heavy", "dented", "faded", "battered", "borrowed", "crooked", "greasy", "polished", "cracked",
    "rusted", "patched", "damp", "sooty", "brass", "wooden", "tin", "threadbare", "spotless", "lopsided",
    "dusty", "mended", "scorched", "painted", "unlabelled", "familiar", "second-hand", "tarnished",
]
EN_HANDLE_VERBS = [
    "moved", "lifted", "straightened", "nudged", "wiped", "turned", "studied", "weighed", "set down", "pushed",
    "steadied", "righted", "emptied", "examined", "picked up", "dusted", "folded", "shifted", "tilted", "opened",
]
EN_PLACES_NEAR = [
    "the door", "the window", "the stove", "the stairs", "the hearth", "the sink", "the shelf", "the bed",
    "the dresser", "the wall", "the table", "the cupboard", "the sill", "the bench", "the doorway",
]
EN_NEAR = ["beside", "by", "under", "behind", "near", "towards", "against", "past", "along", "away from"]
EN_MOVE_VERBS = [
    "crossed to", "went to", "leaned on", "drifted towards", "stopped at", "edged past", "circled back to",
    "waited by", "sat down by", "stood at", "paced to", "knelt by",
]
EN_ADVERBS = [
    "slowly", "carefully", "quietly", "absently", "deliberately", "briskly", "gingerly", "stiffly", "idly",
    "patiently", "warily", "clumsily", "softly", "hastily", "thoughtfully", "reluctantly", "calmly", "firmly",
]
EN_STATE_VERBS = [
    "creaked", "rattled", "ticked", "dripped", "sagged", "glinted", "hissed", "settled", "swayed", "hummed",
    "steamed", "flickered", "groaned", "trembled", "shone", "clinked", "sighed", "leaned",
]
EN_MANNER = [
    "once", "twice", "again", "for a while", "in the draught", "in the half-dark", "under the weight",
    "as if on cue", "without warning", "in its corner", "against the cold", "all evening", "now and then",
    "unnoticed", "like an old dog", "out of habit",
]
EN_THOUGHT_VERBS = ["wondered", "decided", "guessed", "suspected", "realised", "doubted", "remembered", "knew"]
EN_THOUGHTS = [
    "the answer was closer than it looked", "nobody had told the whole story", "the morning would change things",
    "someone had been here before them", "the plan had a hole in it", "the others were waiting for a sign",
    "nothing here was accidental", "the quiet was a kind of warning", "luck had very little to do with it",
    "the first lie had been the smallest", "a promise could cost more than a debt",
    "every door in the house had been tried", "an apology would not be enough", "silence was its own reply",
    "the letter had been written in a hurry", "trust was the only currency left",
]
EN_FEEL_NOUNS = [
    "patience", "doubt", "hunger", "fatigue", "hope", "temper", "nerve", "courage", "pride", "fear", "regret",
    "curiosity", "resolve", "irritation", "gratitude", "loneliness",
]
EN_FEEL_VERBS = ["wore thin", "flared", "faltered", "held", "returned", "ebbed", "rose", "steadied", "cracked"]
EN_WHEN = [
    "for a moment", "at last", "just then", "without meaning to", "all at once", "for the first time",
    "a little later", "before long", "despite everything", "against all sense",
]

# Spoken frames (no quotes, no final punctuation): {n} a name, {thing}/{adj} objects, {near} a place.
EN_SAY_VERBS_PAST = [
    "moved", "hid", "found", "broke", "borrowed", "sold", "burned", "mended", "counted", "lost", "opened",
    "checked", "buried", "kept", "wrapped", "marked", "dropped", "returned",
]
EN_SAY_VERBS_BASE = [
    "move", "hide", "find", "break", "borrow", "sell", "burn", "mend", "count", "lose", "open", "check",
    "bury", "keep", "wrap", "mark", "drop", "return",
]
EN_SOON = [
    "tonight", "before morning", "after supper", "by noon", "first thing", "while they sleep", "right now",
    "before anyone asks", "on Thursday", "when the rain stops", "today", "at dusk", "this week", "by Sunday",
    "once they've gone", "before the bells", "at first light", "after the market", "while we still can",
]
EN_SPOKEN_FRAMES = [
    "Who {vpast} the {thing}",
    "I {vpast} the {adj} {thing} myself",
    "We {vbase} the {thing} {soon}, {or_else}",
    "Did {n} {vbase} the {thing}",
    "The {thing} was {adj} {last_seen}",
    "Someone {vpast} my {thing}, and {demand}",
    "Leave the {thing} {near} {place_near}",
    "Why would anyone {vbase} a {adj} {thing}",
    "{n} {vpast} the {thing}, {witness}",
    "You can {vbase} the {thing} {soon}",
    "Ask {n} about the {thing}",
    "Nobody {vpast} that {thing} but you",
    "If {n} {vpast} the {thing}, {consequence}",
    "I never {vpast} anything, {not_even} {adj} {thing}",
    "Tell {n} to {vbase} the {thing} {soon}",
    "The {adj} {thing} was never ours",
    "Where did you {vbase} the {thing}",
    "First the {thing}, then the truth",
    "Don't {vbase} the {thing} until {n} comes back",
    "I will {vbase} it {soon}, like you asked",
]


# Alternatives for the frames' fixed tails: no four-word run of a frame recurs on every use in a long work.
EN_TAILS = {
    "or_else": ["or not at all", "or never", "or we lose it", "whatever it costs", "whether you like it or not",
                "and no arguing", "or someone else will"],
    "last_seen": ["when I last saw it", "the last time I looked", "yesterday", "when we found it",
                  "before you touched it", "this morning", "when it came to us"],
    "demand": ["I want to know who", "I want a name", "I'll find out who", "someone will answer for it",
               "it wasn't the cat", "I'm not laughing"],
    "witness": ["I saw it with my own eyes", "I saw it myself", "I'd swear to it", "ask anyone", "I was there",
                "I watched it happen", "don't tell me otherwise"],
    "consequence": ["we have a problem", "we're finished", "that changes everything", "someone will pay",
                    "I want to know why", "we'd better move", "nobody is safe", "say so now"],
    "not_even": ["not even a", "least of all a", "and certainly not a", "not so much as a", "never a"],
    "unclaimed": ["that nobody claimed", "that nobody remembered buying", "that had not been there yesterday",
                  "that everyone avoided", "that belonged to no one", "that someone had forgotten",
                  "nobody would admit to owning"],
    "watch": ["kept one eye on", "kept glancing at", "watched", "never quite looked away from", "stared at",
              "eyed", "kept an eye on", "glanced again at", "would not stop looking at"],
}


def _en_fill(rng: random.Random, frame: str, names: list[str], extra: dict[str, str]) -> str:
    slots = {
        "thing": rng.choice(EN_THINGS),
        "thing2": rng.choice(EN_THINGS),
        "adj": rng.choice(EN_THING_ADJ),
        "adj2": rng.choice(EN_THING_ADJ),
        "vpast": rng.choice(EN_SAY_VERBS_PAST),
        "vbase": rng.choice(EN_SAY_VERBS_BASE),
        "soon": rng.choice(EN_SOON),
        "near": rng.choice(EN_NEAR),
        "place_near": rng.choice(EN_PLACES_NEAR),
        "n": rng.choice(names) if names else "someone",
        "adv": rng.choice(EN_ADVERBS),
        "handle": rng.choice(EN_HANDLE_VERBS),
        "move": rng.choice(EN_MOVE_VERBS),
        "state": rng.choice(EN_STATE_VERBS),
        "manner": rng.choice(EN_MANNER),
        "think": rng.choice(EN_THOUGHT_VERBS),
        "thought": rng.choice(EN_THOUGHTS),
        "feel": rng.choice(EN_FEEL_NOUNS),
        "feel_verb": rng.choice(EN_FEEL_VERBS),
        "when": rng.choice(EN_WHEN),
        **{key: rng.choice(options) for key, options in EN_TAILS.items()},
        **extra,
    }
    return frame.format(**slots)


EN_NARRATION_FRAMES = [
    "{A} {handle} the {adj} {thing} {near} {place_near}.",
    "{Adv}, {A} {handle} the {thing} and said nothing.",
    "{A} {move} {place_near} and {handle} the {adj} {thing}.",
    "The {adj} {thing} {state} {manner}.",
    "{Adv}, {A} {move} {place_near}.",
    "{A} {think} that {thought}.",
    "{When}, {A} {think} that {thought}.",
    "{A_poss_cap} {feel} {feel_verb}.",
    "{A_poss_cap} {feel} {feel_verb} {when}.",
    "The {thing} {near} {place_near} {state}, and {A} {handle} it {adv}.",
    "There was a {adj} {thing} {near} {place_near} {unclaimed}.",
    "{A} {watch} the {adj} {thing}.",
    "Somewhere {near} {place_near}, a {thing} {state}.",
    "{A} {handle} a {adj} {thing}, then a {adj2} {thing2}.",
]


def en_narration(rng: random.Random, actor: str, actor_poss: str, names: list[str]) -> str:
    """One narration sentence; `actor` is how the narration names the acting character (a name, I or you)."""
    frame = rng.choice(EN_NARRATION_FRAMES)
    adv = rng.choice(EN_ADVERBS)
    when = rng.choice(EN_WHEN)
    text = _en_fill(rng, frame, names, {
        "A": actor, "A_poss_cap": actor_poss[:1].upper() + actor_poss[1:], "Adv": adv.capitalize(),
        "When": when[:1].upper() + when[1:],
    })
    return text[:1].upper() + text[1:]


def en_spoken(rng: random.Random, names: list[str]) -> tuple[str, bool]:
    """One spoken line without final punctuation, and whether it is a question."""
    frame = rng.choice(EN_SPOKEN_FRAMES)
    question = frame.split()[0] in {"Who", "Did", "Why", "Where"}
    return _en_fill(rng, frame, names, {}), question


# --- Polish -------------------------------------------------------------------------------------------
# Nouns as (nominative, accusative, genitive, gender) and adjectives as (masculine, feminine, neuter)
# nominative: a pair agrees by construction, and many pairs keep word pairs from repeating.
PL_NOUNS = [
    ("lampa", "lampę", "lampy", "f"), ("kubek", "kubek", "kubka", "m"), ("płaszcz", "płaszcz", "płaszcza", "m"),
    ("stołek", "stołek", "stołka", "m"), ("parasol", "parasol", "parasola", "m"), ("półka", "półkę", "półki", "f"),
    ("klucz", "klucz", "klucza", "m"), ("fotografia", "fotografię", "fotografii", "f"),
    ("zasłona", "zasłonę", "zasłony", "f"), ("lustro", "lustro", "lustra", "n"),
    ("skrzynia", "skrzynię", "skrzyni", "f"), ("zeszyt", "zeszyt", "zeszytu", "m"),
    ("gazeta", "gazetę", "gazety", "f"), ("czajnik", "czajnik", "czajnika", "m"), ("koc", "koc", "koca", "m"),
    ("świeca", "świecę", "świecy", "f"), ("butelka", "butelkę", "butelki", "f"), ("koperta", "kopertę", "koperty", "f"),
    ("dzbanek", "dzbanek", "dzbanka", "m"), ("torba", "torbę", "torby", "f"), ("szal", "szal", "szala", "m"),
    ("pudełko", "pudełko", "pudełka", "n"), ("krzesło", "krzesło", "krzesła", "n"), ("okno", "okno", "okna", "n"),
    ("wiadro", "wiadro", "wiadra", "n"), ("latarnia", "latarnię", "latarni", "f"), ("mapa", "mapę", "mapy", "f"),
    ("sznur", "sznur", "sznura", "m"), ("kapelusz", "kapelusz", "kapelusza", "m"), ("list", "list", "listu", "m"),
    ("zegar", "zegar", "zegara", "m"), ("koszyk", "koszyk", "koszyka", "m"), ("dywan", "dywan", "dywanu", "m"),
    ("szuflada", "szufladę", "szuflady", "f"), ("książka", "książkę", "książki", "f"),
    ("talerz", "talerz", "talerza", "m"),
]
PL_ADJECTIVES = [
    ("stary", "stara", "stare"), ("ciężki", "ciężka", "ciężkie"), ("pusty", "pusta", "puste"),
    ("krzywy", "krzywa", "krzywe"), ("mokry", "mokra", "mokre"), ("zakurzony", "zakurzona", "zakurzone"),
    ("zardzewiały", "zardzewiała", "zardzewiałe"), ("wyblakły", "wyblakła", "wyblakłe"),
    ("cienki", "cienka", "cienkie"), ("pęknięty", "pęknięta", "pęknięte"), ("drewniany", "drewniana", "drewniane"),
    ("gruby", "gruba", "grube"), ("pognieciony", "pognieciona", "pogniecione"),
    ("połatany", "połatana", "połatane"), ("szklany", "szklana", "szklane"), ("zmięty", "zmięta", "zmięte"),
    ("gliniany", "gliniana", "gliniane"), ("skórzany", "skórzana", "skórzane"), ("blaszany", "blaszana", "blaszane"),
    ("pożyczony", "pożyczona", "pożyczone"), ("zapomniany", "zapomniana", "zapomniane"),
    ("wilgotny", "wilgotna", "wilgotne"), ("okopcony", "okopcona", "okopcone"), ("czysty", "czysta", "czyste"),
    ("tani", "tania", "tanie"), ("cudzy", "cudza", "cudze"), ("nowy", "nowa", "nowe"),
    ("znajomy", "znajoma", "znajome"),
]
GENDER = {"m": 0, "f": 1, "n": 2}


def _pl_thing(rng: random.Random) -> tuple[str, str, str]:
    """(nominative, accusative, genitive with a demonstrative) of an agreed adjective–noun pair."""
    nom, acc, gen, gender = rng.choice(PL_NOUNS)
    adj = rng.choice(PL_ADJECTIVES)[GENDER[gender]]
    adj_acc = adj[:-1] + "ą" if gender == "f" else adj
    demonstrative = {"m": "tego", "f": "tej", "n": "tego"}[gender]
    return f"{adj} {nom}", f"{adj_acc} {acc}", f"{demonstrative} {gen}"


PL_PREDICATES = [  # 3rd person singular present, any gender
    "skrzypi cicho", "drży lekko", "stoi bez ruchu", "kołysze się", "pobrzękuje", "milknie",
    "tyka uparcie", "lśni w półmroku", "ciąży jak wyrzut", "czeka", "szeleści", "stuka raz po raz",
    "przechyla się", "rzuca długi cień", "pachnie kurzem", "parzy w dłonie", "wzdycha w przeciągu",
    "błyszczy matowo", "trzeszczy", "opada", "zawadza", "przypomina o wszystkim",
]
PL_WHERE = [
    "przy drzwiach", "pod oknem", "na parapecie", "w kącie", "na schodach", "za ścianą", "przy piecu",
    "na stole", "w przedpokoju", "pod sufitem", "na podłodze", "przy łóżku", "w szafie", "za zasłoną",
    "na półce", "obok krzesła", "w sieni", "przy zlewie",
]
PL_WHEN = [
    "od rana", "przez chwilę", "znowu", "jak co wieczór", "bez końca", "coraz głośniej", "od dawna",
    "jeszcze raz", "do znudzenia", "z uporem", "ledwie słyszalnie", "niespodziewanie",
]
PL_CHAR_VERBS = [  # 3rd person singular present, transitive: object in accusative follows
    "przestawia", "podnosi", "ogląda", "odsuwa", "wyciera", "poprawia", "przesuwa", "odkłada", "bierze",
    "obraca", "zamyka", "otwiera", "odkurza", "chowa", "wyjmuje", "mierzy wzrokiem", "sprawdza", "łata",
]
PL_MANNER = [
    "powoli", "ostrożnie", "bez słowa", "w zamyśleniu", "z roztargnieniem", "starannie", "pospiesznie",
    "niechętnie", "uważnie", "spokojnie", "nerwowo", "z westchnieniem",
]
PL_THOUGHTS = [
    "ktoś tu był wcześniej", "odpowiedź jest bliżej, niż się wydaje", "nikt nie powiedział całej prawdy",
    "cisza też bywa ostrzeżeniem", "plan ma słaby punkt", "rano wszystko wygląda inaczej",
    "obietnica kosztuje więcej niż dług", "przypadków tu nie ma", "pierwsze kłamstwo było najmniejsze",
    "zaufanie to jedyna waluta, która została", "przeprosiny nie wystarczą", "list pisano w pośpiechu",
    "ktoś przestawił rzeczy w nocy", "sąsiedzi wiedzą więcej, niż mówią", "to dopiero początek",
    "ktoś zostawił ten ślad celowo", "pamięć potrafi kłamać", "każdy tu czegoś się boi",
    "drzwi nie były zamknięte", "pieniądze nie są tu najważniejsze", "zegar chodzi do tyłu",
    "ktoś czytał te listy przed nami", "nikt nie przyjdzie z pomocą", "czasu jest mniej, niż myślimy",
]
PL_NARRATION_FRAMES = [
    "{Subj} {pred} {where}.",
    "{Where_cap} {subj} {pred} {when}.",
    "{Subj} {where} {pred} {when}.",
    "{N} {manner} {verb} {obj}.",
    "{N} {verb} {obj} i {verb2} {obj2}.",
    "{N} {verb} {obj} {where}.",
    "{Manner_cap} {n_lower} {verb} {obj}.",
    "{N} {think}, że {thought}.",
    "{When_cap} {n_lower} {think}, że {thought}.",
]
PL_SPOKEN_FRAMES = [
    "Kto ruszał {obj}",
    "Widzę {obj} {where}",
    "Zostaw {obj} {where}",
    "Po co komu {obj}",
    "Schowaj {obj}, zanim ktoś zobaczy",
    "{N} ma {obj}, to pewne",
    "Sprawdź jeszcze raz {obj}",
    "Poszukaj {obj_gen} {where}",
    "Czy {n_lower} ma {obj}",
    "Nie dotykaj {obj_gen}",
    "{lead}, że {thought}",
    "{Subj} {pred} {where}, słyszysz",
    "{N} {verb} {obj}, widzisz",
    "Oddaj {obj}, i to {soon}",
    "Weź {obj} i chodź",
]
PL_THINK = [
    "myśli", "podejrzewa", "wie", "czuje", "przeczuwa", "zaczyna rozumieć", "przypomina sobie", "nie wątpi",
    "obawia się", "zgaduje",
]
PL_LEADS = [
    "Myślę", "Mówię ci", "Przysięgam", "Wiem na pewno", "Boję się", "Założę się", "Czuję", "Daję głowę",
    "Powiedz sama", "Nie wmówisz mi",
]
PL_SOON = ["zaraz", "jeszcze dziś", "przed świtem", "od razu", "po kolacji", "jutro z samego rana", "teraz"]


def _pl_slots(rng: random.Random, names: list[str]) -> dict[str, str]:
    name = rng.choice(names) if names else "Ktoś"
    where, when, manner = rng.choice(PL_WHERE), rng.choice(PL_WHEN), rng.choice(PL_MANNER)
    subj, obj, obj_gen = _pl_thing(rng)
    _, obj2, _ = _pl_thing(rng)
    return {
        "subj": subj, "Subj": subj[:1].upper() + subj[1:], "pred": rng.choice(PL_PREDICATES),
        "where": where, "Where_cap": where[:1].upper() + where[1:], "when": when,
        "When_cap": when[:1].upper() + when[1:], "manner": manner, "Manner_cap": manner[:1].upper() + manner[1:],
        "N": name, "n_lower": name, "verb": rng.choice(PL_CHAR_VERBS), "verb2": rng.choice(PL_CHAR_VERBS),
        "obj": obj, "obj2": obj2, "obj_gen": obj_gen, "thought": rng.choice(PL_THOUGHTS), "soon": rng.choice(PL_SOON),
        "lead": rng.choice(PL_LEADS), "think": rng.choice(PL_THINK),
    }


def pl_narration(rng: random.Random, names: list[str]) -> str:
    """One narration sentence; `names` are characters narrated in the 3rd person (may be empty)."""
    frames = PL_NARRATION_FRAMES if names else [f for f in PL_NARRATION_FRAMES if "{N}" not in f and "n_lower" not in f]
    return rng.choice(frames).format(**_pl_slots(rng, names))


def pl_spoken(rng: random.Random, names: list[str]) -> tuple[str, bool]:
    frames = PL_SPOKEN_FRAMES if names else [f for f in PL_SPOKEN_FRAMES if "{N}" not in f and "n_lower" not in f]
    frame = rng.choice(frames)
    question = frame.split()[0] in {"Kto", "Po", "Czy"} or frame.endswith(("słyszysz", "widzisz"))
    return frame.format(**_pl_slots(rng, names)), question
