"""Structured replies of the offline engine: one builder per json_schema name, each reading the prompt's
CONTEXT facts and returning a dict valid for that schema."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from typing import Any

from narraforge.llm.offline.subject import Subject, read_subject, style_moods
from narraforge.llm.offline.vocab import load
from narraforge.llm.offline.world_facts import world_update

Facts = dict[str, Any]


def lexicon(facts: Facts) -> dict[str, Any]:
    table = load("lexicon_pl" if polish(facts) else "lexicon_en")["genres"]
    return table.get(str(facts.get("genre")), table["literary"])


def _words(facts: Facts) -> dict[str, Any]:
    """The planners' own word banks (wants, fears, voices, titles, beats) in the brief's language."""
    return load("plans_pl" if polish(facts) else "plans_en")


def polish(facts: Facts) -> bool:
    return facts.get("language") == "pl"


def the(phrase: str) -> str:
    """'a silver key' → 'the silver key' (English objects are stored with an indefinite article)."""
    for article in ("a ", "an "):
        if phrase.startswith(article):
            return "the " + phrase[len(article) :]
    return phrase


def title_case(phrase: str) -> str:
    return " ".join(w[:1].upper() + w[1:] if len(w) > 3 or i == 0 else w for i, w in enumerate(the(phrase).split()))


def _first(name: str) -> str:
    return name.split()[0] if name.split() else name


def subject_of(facts: Facts) -> Subject:
    return read_subject(str(facts.get("subject") or ""), "pl" if polish(facts) else "en")


def motif_of(facts: Facts, fallback: str) -> str:
    """The noun phrase the subject turns on ('forbidden magic'), else a genre object."""
    return subject_of(facts).motif or fallback


def brief_interpretation(facts: Facts, rng: random.Random) -> dict[str, Any]:
    lex = lexicon(facts)
    subject = str(facts["subject"]).rstrip(". ")
    themes = rng.sample(lex["themes"], k=min(3, len(lex["themes"])))
    threat = rng.choice(lex["threats"])
    style = str(facts.get("style_instructions") or "")
    about = subject_of(facts)
    if polish(facts):
        title = facts.get("title") or rng.choice(lex["place_name"])
        who = about.role or "bohaterka lub bohater"
        return {
            "working_title": title,
            "premise": f"{subject}. Na drodze staje {threat}, a {who} musi wybrać między "
            f"tym, czego pragnie, a tym, co słuszne; {themes[0]} ma swoją cenę.",
            "logline": f"{subject}, zanim {threat} odbierze wszystko.",
            "themes": themes,
            "tone": f"{lex['tone']}{'; ' + style if style else ''}"[:200],
            "central_conflict": f"{who}: pragnienie przeciwko sile, jaką jest {threat}",
            "genre_conventions": lex["conventions"],
            "audience": "dorośli czytelnicy",
        }
    motif = the(about.motif) if about.motif else ""
    title = facts.get("title") or (
        title_case(motif) if motif and len(motif.split()) <= 4
        else f"The {rng.choice(lex['place_adj'])} {rng.choice(lex['place_noun'])}"
    )
    who = f"the {about.role}" if about.role else "the protagonist"
    return {
        "working_title": title,
        "premise": f"{subject}. Standing in the way is {threat}, and {who} must choose between what "
        f"they want and what is right, learning that {motif or themes[0]} has a price.",
        "logline": f"{subject}, before {threat} takes everything.",
        "themes": [f"the cost of {about.motif}", *themes[:2]] if about.motif else themes,
        "tone": f"{lex['tone']}{'; ' + style if style else ''}"[:200],
        "central_conflict": f"{who}'s desire{' for ' + motif if motif else ''} against {threat}",
        "genre_conventions": lex["conventions"],
        "audience": "adult readers of " + str(facts["genre"]).replace("_", " "),
    }


def world_architecture(facts: Facts, rng: random.Random) -> dict[str, Any]:
    """The places and rules of the project's world (CONTEXT `world`), when the story has one: new places only
    while it has fewer than two."""
    invented = _invented_world(facts, rng)
    known = facts.get("world")
    if not known:
        return invented
    count = int(facts.get("place_count", 4))
    words = _words(facts)
    senses = lexicon(facts)["senses"]
    places = [{"name": p["name"], "description": p.get("description") or rng.choice(words["place_descriptions"])
               .format(adj=rng.choice(["crowded", "quiet", "watchful"]), sense=rng.choice(senses))}
              for p in (known.get("places") or [])[:count]]
    taken = {p["name"].casefold() for p in places}
    places += [p for p in invented["places"] if p["name"].casefold() not in taken][: max(0, 2 - len(places))]
    rules = [str(r.get("description") or r["name"]) for r in known.get("rules") or []][:8]
    summary = str(known.get("summary") or "")
    period = invented["period"]
    return {**invented, "places": places, "rules": rules or invented["rules"],
            "setting_summary": f"{period[:1].upper() + period[1:]}. {summary}" if summary
            else invented["setting_summary"]}


def _invented_world(facts: Facts, rng: random.Random) -> dict[str, Any]:
    lex = lexicon(facts)
    words = _words(facts)
    count = int(facts.get("place_count", 4))
    senses = lex["senses"]
    period = facts.get("setting_period") or lex["period"]
    motif = subject_of(facts).motif
    moods = style_moods(str(facts.get("style_instructions") or ""), "pl" if polish(facts) else "en")
    tensions = [*([motif] if motif else []), *lex["threats"][:2]]
    if polish(facts):
        combos = [f"{k} {n}" for k in lex["place_kind"] for n in lex["place_name"]]
        rng.shuffle(combos)
        kinds_used: list[str] = []
        places = []
        for name in combos:
            kind = name.split(" ")[0]
            if kind in kinds_used and len(kinds_used) < len(lex["place_kind"]):
                continue
            kinds_used.append(kind)
            desc = rng.choice(words["place_descriptions"]).format(sense=rng.choice(senses))
            places.append({"name": name[:1].upper() + name[1:], "description": desc})
            if len(places) == count:
                break
        about = f" Wszystko obraca się wokół jednego: {facts.get('subject')}." if facts.get("subject") else ""
        return {
            "setting_summary": f"{period[:1].upper() + period[1:]}. {lex['rules'][0]} Wszędzie czuć {senses[0]}."
            + about,
            "period": period,
            "atmosphere": f"Nastrój jest {lex['tone'].split(' i ')[0]}" + (f"; {', '.join(moods)}." if moods else "."),
            "places": places,
            "rules": lex["rules"],
            "sensory_palette": senses[:5],
            "tensions": tensions,
        }
    combos = [f"the {a} {n}" for a in lex["place_adj"] for n in lex["place_noun"]]
    rng.shuffle(combos)
    places, used = [], set()
    for name in combos:
        noun = name.split()[-1]
        if noun in used:
            continue
        used.add(noun)
        desc = rng.choice(words["place_descriptions"]).format(
            adj=rng.choice(["crowded", "quiet", "watchful"]), sense=rng.choice(senses)
        )
        places.append({"name": name[:1].upper() + name[1:], "description": desc})
        if len(places) == count:
            break
    pressure = f"{the(motif)}, which everyone here whispers about" if motif else lex["threats"][0]
    return {
        "setting_summary": f"{period[:1].upper() + period[1:]}. {lex['rules'][0]} Everywhere there is "
        f"{senses[0]}, and under it the pressure of {pressure}.",
        "period": period,
        "atmosphere": f"The mood is {lex['tone']}" + (f", {' and '.join(moods)}." if moods else "."),
        "places": places,
        "rules": lex["rules"],
        "sensory_palette": senses[:5],
        "tensions": tensions,
    }


PRONOUN_FORMS = {"she/her": ("she", "her"), "he/him": ("he", "his"), "they/them": ("they", "their")}


def _names(facts: Facts, count: int, rng: random.Random, hero: str | None = None) -> list[tuple[str, str]]:
    """(full name, pronouns) pairs with distinct first names; the first has the `hero` pronouns if given."""
    bank = load("lexicon_pl" if polish(facts) else "lexicon_en")["names"]
    pool = [(n, "she/her") for n in bank["female"]] + [(n, "he/him") for n in bank["male"]]
    pool += [(n, "they/them") for n in bank["neutral"]]
    rng.shuffle(pool)
    if hero is not None:
        pool.sort(key=lambda entry: entry[1] != hero)  # stable: the first name of that gender leads
    surnames = list(bank["surnames"])
    rng.shuffle(surnames)
    picked = []
    for i, (first, pronouns) in enumerate(pool[:count]):
        surname = surnames[i % len(surnames)]
        if isinstance(surname, tuple | list):
            surname = surname[1] if pronouns == "she/her" else surname[0]
        picked.append((f"{first} {surname}", pronouns))
    return picked


def _pronouns_of(facts: Facts, name: str) -> str:
    """A world character's pronouns, guessed from the name banks by first name (else they/them)."""
    bank = load("lexicon_pl" if polish(facts) else "lexicon_en")["names"]
    first = _first(name).casefold()
    for group, pronouns in (("female", "she/her"), ("male", "he/him"), ("neutral", "they/them")):
        if first in {n.casefold() for n in bank[group]}:
            return pronouns
    return "they/them"


def _cast(facts: Facts, count: int, rng: random.Random, hero: str | None) -> list[tuple[str, str]]:
    """The world's characters to reuse (CONTEXT `world_cast`) in their slots, then invented ones whose first
    names are unlike any character of the world (the dead included)."""
    reused = list(facts.get("world_cast") or [])
    if "world_cast" not in facts:
        return _names(facts, count, rng, hero)
    avoid = {_first(c["name"]).casefold() for c in [*reused, *(facts.get("world_others") or [])]}
    invented = [(n, p) for n, p in _names(facts, count + len(avoid), rng, hero) if _first(n).casefold() not in avoid]
    return [(c["name"], _pronouns_of(facts, c["name"])) for c in reused][:count] + invented[: count - len(reused)]


def character_architecture(facts: Facts, rng: random.Random) -> dict[str, Any]:
    lex = lexicon(facts)
    words = _words(facts)
    count = int(facts["character_count"])
    roles = list(facts.get("roles") or [])
    roles += ["supporting"] * (count - len(roles))
    about = subject_of(facts)
    characters = []
    cast = _cast(facts, count, rng, about.pronouns)
    described = {c["name"]: c["description"] for c in facts.get("world_cast") or [] if c.get("description")}
    for i, ((name, pronouns), role) in enumerate(zip(cast, roles, strict=False)):
        subj, poss = PRONOUN_FORMS[pronouns]
        trade = rng.choice(lex["trades"])
        if i == 0 and about.role:  # the protagonist is who the subject says it is
            trade = about.role
        slots = {
            "poss": poss,
            "subj": subj,
            "threat": rng.choice(lex["threats"]),
            "obj": the(about.motif) if about.motif and i < 2 else the(rng.choice(lex["objects"])),
        }
        if polish(facts):
            voice, phrase = rng.choice(words["voices"])
            characters.append(
                {
                    "name": name,
                    "role": role,
                    "pronouns": pronouns,
                    "age": rng.randint(19, 67),
                    "description": described.get(name)
                    or f"{trade[:1].upper() + trade[1:]}, uważne spojrzenie, szybkie dłonie.",
                    "want": f"zrozumieć {about.motif}" if i == 0 and about.motif else rng.choice(words["wants"]),
                    "fear": rng.choice(words["fears"]),
                    "secret": f"ukrywa, co naprawdę łączy ją lub jego z tym: {slots['threat']}",
                    "arc": "od ostrożności do odwagi, za którą trzeba zapłacić",
                    "voice": f"{voice}; mawia: „{phrase}”",
                }
            )
            continue
        voice, phrase = rng.choice(words["voices"])
        characters.append(
            {
                "name": name,
                "role": role,
                "pronouns": pronouns,
                "age": rng.randint(19, 67),
                "description": described.get(name) or f"{'An' if trade[:1].lower() in 'aeiou' else 'A'} {trade} "
                f"with {rng.choice(words['eyes'])} eyes and {rng.choice(words['hands'])} hands.",
                "want": (f"to understand {slots['obj']} before it costs too much" if i == 0 and about.motif
                         else rng.choice(words["wants"]).format(**slots)),
                "fear": rng.choice(words["fears"]).format(**slots),
                "secret": f"{subj.capitalize()} knows more about {slots['threat']} than {subj} admits.",
                "arc": rng.choice(
                    [
                        "from caution to costly courage",
                        "from pride to honesty",
                        "from isolation to trust",
                        "from certainty to doubt and back to a better certainty",
                    ]
                ),
                "voice": f'{voice}; says "{phrase}"',
            }
        )
    return {"characters": characters}


def _after(facts: Facts) -> str:
    """A sequel's first act picks up from the prequel's last event, naming it."""
    events = facts["previously"].get("events") or []
    last = str(events[-1].get("name") or "") if events else ""
    if polish(facts):
        return f"Po wydarzeniach „{last}”:" if last else "Po wydarzeniach poprzedniej historii:"
    return f"After “{last}”:" if last else "After the events of the earlier story:"


def structure_design(facts: Facts, rng: random.Random) -> dict[str, Any]:
    lex = lexicon(facts)
    acts_in = facts["acts"]
    names = [_first(c["name"]) for c in facts["characters"]]
    hero = names[0]
    other = names[1] if len(names) > 1 else hero
    places = facts.get("places") or ["—"]
    threat = rng.choice(lex["threats"])
    about = subject_of(facts)
    motif = about.motif or threat
    titles = _words(facts)["act_titles"]
    acts = []
    for i, act in enumerate(acts_in):
        last = i == len(acts_in) - 1
        title = titles[min(i, len(titles) - 2)] if not last else titles[-2 if len(acts_in) < 5 else -1]
        place = places[i % len(places)]
        if polish(facts):
            summary = (
                f"{hero} stawia czoła konsekwencjom; {place} staje się areną rozstrzygnięcia."
                if last
                else f"{hero} wchodzi głębiej w sprawę; {other} komplikuje plan, a {threat} się zbliża."
            )
            if i == 0 and about.event:
                summary = f"{hero} {about.event}; {other} komplikuje plan, a {threat} się zbliża."
            turn = "Wszystko zostaje rozstrzygnięte." if last else f"{other} odsłania prawdę i nie ma odwrotu."
        else:
            summary = (
                f"{hero} faces the consequences at {place}, and {threat} is finally answered."
                if last
                else f"{hero} is drawn deeper at {place}; {other} complicates the plan as {threat} closes in."
            )
            if i == 0 and about.event:
                summary = f"At {place}, {hero} {about.event}; {other} complicates the plan as {threat} closes in."
            turn = (
                "The central question is answered."
                if last
                else f"{other} reveals a truth about {threat}, and there is no way back."
            )
        if i == 0 and facts.get("previously"):
            summary = f"{_after(facts)} {summary}"
        acts.append({"number": int(act["number"]), "title": title, "summary": summary, "turning_point": turn})
    if polish(facts):
        return {
            "central_question": f"Czy {hero} zdoła unieść {about.motif}?" if about.motif
            else f"Czy {hero} zdoła zapłacić cenę?",
            "ending": f"{hero} wygrywa, ale traci coś cennego.",
            "acts": acts,
        }
    return {
        "central_question": f"Will {hero} pay the price that {the(motif)} demands?",
        "ending": f"{hero} prevails, but loses something precious on the way.",
        "acts": acts,
    }


def segment_plan(facts: Facts, rng: random.Random) -> dict[str, Any]:
    lex = lexicon(facts)
    words = _words(facts)
    cast = [c["name"] for c in facts["characters"]]
    hero = cast[0]
    places = facts.get("places") or [facts.get("entry_state", {}).get("location", "—")]
    waiting = [n for n in facts.get("needs_appearance", []) if n != hero]
    segments_in = facts["segments"]
    script = facts.get("format") == "script"
    previous_place = facts.get("entry_state", {}).get("location")
    about = subject_of(facts)
    moods = style_moods(str(facts.get("style_instructions") or ""), "pl" if polish(facts) else "en")
    objects = list(lex["objects"])
    if about.motif and not polish(facts):
        objects += [about.motif] * max(1, len(objects) // 3)  # the subject's motif recurs in the plot
    out = []
    for n, seg in enumerate(segments_in):
        last_of_story = bool(facts.get("ends_story")) and n == len(segments_in) - 1
        share = max(1, -(-len(waiting) // (len(segments_in) - n))) if waiting else 0
        joining, waiting = waiting[:share], waiting[share:]
        others = [c for c in cast[1:] if c not in joining]
        extra = rng.sample(others, k=min(len(others), 1 if joining else rng.choice([1, 2])))
        present = [hero, *joining, *extra]
        place = rng.choice([p for p in places if p != previous_place] or places)
        previous_place = place
        beat_count = max(2, min(4, round(int(seg["target_words"]) / 320)))
        in_sentence = place[:4].lower() + place[4:] if place.startswith("The ") else place
        slots = {"place": in_sentence, "threat": rng.choice(lex["threats"])}
        beats = []
        pool = words["ending_beats"]
        regular = words["beats"]
        choices = rng.sample(regular, k=beat_count)
        if last_of_story:
            choices[-1] = rng.choice(pool)
        if int(seg["index"]) == 0 and about.event:  # the story opens on the event the subject names
            opening = ("{A} " + (about.event_present if script and not polish(facts) else about.event))
            choices[0] = (opening, opening)
        for k, beat in enumerate(choices):
            actor = present[k % len(present)] if k else hero
            partner = rng.choice([p for p in present if p != actor] or [p for p in cast if p != actor] or [actor])
            obj = rng.choice(objects)
            fill = {**slots, "A": _first(actor), "B": _first(partner), "obj": obj, "the_obj": the(obj)}
            text = beat if isinstance(beat, str) else beat[1 if script else 0]
            beats.append(_cap_first(text.format(**fill)) + ".")
        obj = rng.choice(objects)
        if polish(facts):
            title = rng.choice(words["segment_titles"])
            summary = f"{_first(hero)} trafia do miejsca: {place}. " + " ".join(beats[:2])
            exit_state = {
                "location": place,
                "present": present,
                "knowledge": f"{_first(hero)} wie więcej: {obj}.",
                "mood": rng.choice(moods or ["napięty", "niespokojny", "zdeterminowany", "zraniony"]),
                "open_threads": [slots["threat"]] if not last_of_story else [],
            }
        else:
            title = rng.choice(words["segment_titles"]).format(
                Obj=title_case(obj),
                Place=title_case(place),
                A=_first(hero),
                B=_first(present[-1]),
                Theme=str(rng.choice(lex["themes"])).title(),
                Time=rng.choice(["Dawn", "Midnight", "the Storm"]),
            )
            summary = f"At {place}, {beats[0][0].lower() + beats[0][1:]} " + " ".join(beats[1:2])
            exit_state = {
                "location": place,
                "present": present,
                "knowledge": f"{_first(hero)} now knows the truth about {the(obj)}.",
                "mood": rng.choice(moods or ["tense", "uneasy", "resolute", "bruised", "hopeful"]),
                "open_threads": [slots["threat"]] if not last_of_story else [],
            }
        out.append(
            {
                "title": title,
                "summary": summary,
                "beats": beats,
                "characters": present,
                "place": place,
                "exit_state": exit_state,
            }
        )
    return {"segments": out}


def _cap_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clamp(value: float) -> float:
    return round(max(0.0, min(1.0, value)), 3)


def coherence_review(facts: Facts, rng: random.Random) -> dict[str, Any]:
    """Scores from the measured facts the prompt gives, with the rubric's penalties applied."""
    segs = facts["segments"]
    pl = polish(facts)
    missing = sum(len(s.get("missing_characters", [])) for s in segs)
    planned = sum(len(s.get("planned_characters", [])) for s in segs) or 1
    off = [abs(s["word_count"] - s["target_words"]) / max(1, s["target_words"]) for s in segs]
    silent = sum(1 for s in segs if not s.get("dialogue_lines"))
    base = 0.8 + rng.uniform(-0.03, 0.05)
    scores = {
        "coherence_score": _clamp(base + rng.uniform(-0.04, 0.04)),
        "logic_score": _clamp(base + rng.uniform(-0.05, 0.03)),
        "character_consistency_score": _clamp(base + 0.05 - 0.5 * missing / planned),
        "pacing_score": _clamp(base + 0.05 - sum(off) / len(segs)),
        "dialogue_quality_score": _clamp(base - 0.3 * silent / len(segs)),
    }
    scores["overall_score"] = _clamp(sum(scores.values()) / len(scores) - 0.02)
    reasons_en = {
        "coherence_score": "Seams mostly agree on place and presence; transitions are serviceable.",
        "logic_score": "Cause and effect hold; a few leaps are left to the reader.",
        "character_consistency_score": f"{missing} planned appearance(s) missing across the window.",
        "pacing_score": f"Lengths deviate from plan by {sum(off) / len(segs):.0%} on average.",
        "dialogue_quality_score": f"{len(segs) - silent} of {len(segs)} segments carry dialogue.",
        "overall_score": "Readable and on plan; the prose is functional rather than distinctive.",
    }
    reasons_pl = {
        "coherence_score": "Szwy między segmentami w większości się zgadzają.",
        "logic_score": "Przyczyna i skutek się trzymają; kilka skrótów zostawiono czytelnikowi.",
        "character_consistency_score": f"Brakujące zaplanowane pojawienia się postaci: {missing}.",
        "pacing_score": f"Długości odbiegają od planu średnio o {sum(off) / len(segs):.0%}.",
        "dialogue_quality_score": f"Dialog ma {len(segs) - silent} z {len(segs)} segmentów.",
        "overall_score": "Czytelne i zgodne z planem; proza raczej funkcjonalna niż wyrazista.",
    }
    reasons = reasons_pl if pl else reasons_en
    flagged = []
    for s, dev in zip(segs, off, strict=True):
        issues = []
        if s.get("missing_characters"):
            names = ", ".join(s["missing_characters"])
            issues.append(f"brakuje postaci: {names}" if pl else f"planned characters missing: {names}")
        if dev > 0.2:
            issues.append("długość odbiega od planu" if pl else "length far from its target")
        if issues:
            flagged.append({"index": s["index"], "issue": "; ".join(issues), "severity": _clamp(0.4 + dev)})
    return {**{k: {"score": v, "reason": reasons[k]} for k, v in scores.items()}, "flagged_segments": flagged}


def editorial_review(facts: Facts, rng: random.Random) -> dict[str, Any]:
    checks = facts.get("checks", {})
    title = facts.get("title") or facts.get("working_title") or "Untitled"
    missing = checks.get("characters_missing") or []
    if polish(facts):
        notes = [f"Długość: {checks.get('word_count')} słów przy celu {checks.get('target_length')}."]
        if missing:
            notes.append("Brakuje postaci: " + ", ".join(missing))
        notes.append("Tekst offline: warto dopisać własne szczegóły i rytm zdań.")
        return {"title": title, "blurb": str(facts.get("premise", ""))[:400], "notes": notes}
    notes = [f"Length: {checks.get('word_count')} words against a target of {checks.get('target_length')}."]
    if missing:
        notes.append("Missing characters: " + ", ".join(missing))
    notes.append("Written by the offline engine: revise for voice and specific detail before publishing.")
    return {"title": title, "blurb": str(facts.get("premise", ""))[:400], "notes": notes}


def continuity_check(facts: Facts, rng: random.Random) -> dict[str, Any]:
    """The offline engine reads no rules, so it claims no broken one (stage 7 does not ask it; a server that uses
    it as its brain, narraforge_dev/fake_openai.py, answers with this)."""
    return {"violations": []}


BUILDERS: dict[str, Callable[[Facts, random.Random], dict[str, Any]]] = {
    "brief_interpretation": brief_interpretation,
    "world_architecture": world_architecture,
    "character_architecture": character_architecture,
    "structure_design": structure_design,
    "segment_plan": segment_plan,
    "coherence_review": coherence_review,
    "continuity_check": continuity_check,
    "editorial_review": editorial_review,
    "world_update": world_update,
}


def deterministic_plan(schema_name: str, facts: Facts, seed: str) -> dict[str, Any]:
    """The deterministic planner's reply to one planning prompt (its CONTEXT facts), seeded by `seed` (the job
    id) and the facts: what a stage falls back to, field by field, when a model's reply stays unusable."""
    digest = hashlib.sha256(f"{seed}\x00{schema_name}\x00{json.dumps(facts, sort_keys=True, default=str)}".encode())
    return BUILDERS[schema_name](facts, random.Random(digest.hexdigest()))
