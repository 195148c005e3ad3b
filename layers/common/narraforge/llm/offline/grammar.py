"""A small phrase grammar for the offline engine: sentences built from frames whose slots are single words
or short phrases drawn from large pools.

Fixed templates repeat their inner word pairs every time they are used, which is what kept distinct-2 low
and made long Polish texts repeat whole sentences; frames with mostly open slots give a story thousands of
distinct sentences while staying grammatical (English past tense; Polish present tense, where a 3rd-person
verb does not mark gender, and adjective–noun pairs come ready-agreed).
"""

from __future__ import annotations

import random

from narraforge.llm.offline.vocab import load

# Polish words come as [nominative, accusative, genitive, gender] and adjectives as [masculine, feminine, neuter],
# so a pair agrees by construction; this picks the adjective's form for a noun's gender.
GENDER = {"m": 0, "f": 1, "n": 2}


def _en_fill(rng: random.Random, frame: str, names: list[str], extra: dict[str, str]) -> str:
    en = load("grammar_en")
    slots = {
        "thing": rng.choice(en["things"]),
        "thing2": rng.choice(en["things"]),
        "adj": rng.choice(en["thing_adj"]),
        "adj2": rng.choice(en["thing_adj"]),
        "vpast": rng.choice(en["say_verbs_past"]),
        "vbase": rng.choice(en["say_verbs_base"]),
        "soon": rng.choice(en["soon"]),
        "near": rng.choice(en["near"]),
        "place_near": rng.choice(en["places_near"]),
        "n": rng.choice(names) if names else "someone",
        "adv": rng.choice(en["adverbs"]),
        "handle": rng.choice(en["handle_verbs"]),
        "move": rng.choice(en["move_verbs"]),
        "state": rng.choice(en["state_verbs"]),
        "manner": rng.choice(en["manner"]),
        "think": rng.choice(en["thought_verbs"]),
        "thought": rng.choice(en["thoughts"]),
        "feel": rng.choice(en["feel_nouns"]),
        "feel_verb": rng.choice(en["feel_verbs"]),
        "when": rng.choice(en["when"]),
        **{key: rng.choice(options) for key, options in en["tails"].items()},
        **extra,
    }
    return frame.format(**slots)


def en_narration(rng: random.Random, actor: str, actor_poss: str, names: list[str]) -> str:
    """One narration sentence; `actor` is how the narration names the acting character (a name, I or you)."""
    en = load("grammar_en")
    frame = rng.choice(en["narration_frames"])
    adv = rng.choice(en["adverbs"])
    when = rng.choice(en["when"])
    text = _en_fill(rng, frame, names, {
        "A": actor, "A_poss_cap": actor_poss[:1].upper() + actor_poss[1:], "Adv": adv.capitalize(),
        "When": when[:1].upper() + when[1:],
    })
    return text[:1].upper() + text[1:]


def en_spoken(rng: random.Random, names: list[str]) -> tuple[str, bool]:
    """One spoken line without final punctuation, and whether it is a question."""
    en = load("grammar_en")
    frame = rng.choice(en["spoken_frames"])
    question = frame.split()[0] in {"Who", "Did", "Why", "Where"}
    return _en_fill(rng, frame, names, {}), question


def _pl_thing(rng: random.Random) -> tuple[str, str, str]:
    """(nominative, accusative, genitive with a demonstrative) of an agreed adjective–noun pair."""
    pl = load("grammar_pl")
    nom, acc, gen, gender = rng.choice(pl["nouns"])
    adj = rng.choice(pl["adjectives"])[GENDER[gender]]
    adj_acc = adj[:-1] + "ą" if gender == "f" else adj
    demonstrative = {"m": "tego", "f": "tej", "n": "tego"}[gender]
    return f"{adj} {nom}", f"{adj_acc} {acc}", f"{demonstrative} {gen}"


def _pl_slots(rng: random.Random, names: list[str]) -> dict[str, str]:
    pl = load("grammar_pl")
    name = rng.choice(names) if names else "Ktoś"
    where, when, manner = rng.choice(pl["where"]), rng.choice(pl["when"]), rng.choice(pl["manner"])
    subj, obj, obj_gen = _pl_thing(rng)
    _, obj2, _ = _pl_thing(rng)
    return {
        "subj": subj, "Subj": subj[:1].upper() + subj[1:], "pred": rng.choice(pl["predicates"]),
        "where": where, "Where_cap": where[:1].upper() + where[1:], "when": when,
        "When_cap": when[:1].upper() + when[1:], "manner": manner, "Manner_cap": manner[:1].upper() + manner[1:],
        "N": name, "n_lower": name, "verb": rng.choice(pl["char_verbs"]), "verb2": rng.choice(pl["char_verbs"]),
        "obj": obj, "obj2": obj2, "obj_gen": obj_gen, "thought": rng.choice(pl["thoughts"]),
        "soon": rng.choice(pl["soon"]),
        "lead": rng.choice(pl["leads"]), "think": rng.choice(pl["think"]),
    }


def pl_narration(rng: random.Random, names: list[str]) -> str:
    """One narration sentence; `names` are characters narrated in the 3rd person (may be empty)."""
    frames = load("grammar_pl")["narration_frames"]
    frames = frames if names else [f for f in frames if "{N}" not in f and "n_lower" not in f]
    return rng.choice(frames).format(**_pl_slots(rng, names))


def pl_spoken(rng: random.Random, names: list[str]) -> tuple[str, bool]:
    frames = load("grammar_pl")["spoken_frames"]
    frames = frames if names else [f for f in frames if "{N}" not in f and "n_lower" not in f]
    frame = rng.choice(frames)
    question = frame.split()[0] in {"Kto", "Po", "Czy"} or frame.endswith(("słyszysz", "widzisz"))
    return frame.format(**_pl_slots(rng, names)), question
