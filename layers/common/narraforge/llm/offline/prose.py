"""Prose and scripts of the offline engine: readable text built from the plan in the prompt's CONTEXT —
its characters, place, beats and states — at the requested length, in English or Polish."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from narraforge.llm.offline import grammar as gr
from narraforge.llm.offline.plans import the
from narraforge.llm.offline.subject import read_subject, style_moods, tone_of
from narraforge.llm.offline.vocab import load

VERB_RE = re.compile(r"\{v:([^|}]*)\|([^|}]*)\|([^}]*)\}")
WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
PRONOUNS = {
    "she/her": ("she", "her", "her", "herself"),
    "he/him": ("he", "him", "his", "himself"),
    "they/them": ("they", "them", "their", "themself"),
}


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


@dataclass(frozen=True)
class Person:
    name: str
    pronouns: str
    want: str
    fear: str
    person: int  # grammatical person in the narration: 1, 2 or 3

    @property
    def first(self) -> str:
        return self.name.split()[0]

    def forms(self) -> tuple[str, str, str, str]:
        """(subject, object, possessive, reflexive) as the narration refers to this character."""
        if self.person == 1:
            return "I", "me", "my", "myself"
        if self.person == 2:
            return "you", "you", "your", "yourself"
        _, obj, poss, reflexive = PRONOUNS.get(self.pronouns, PRONOUNS["they/them"])
        return self.first, obj, poss, reflexive


def _cap(sentence: str) -> str:
    sentence = re.sub(r"\s+", " ", sentence).strip()
    for i, ch in enumerate(sentence):
        if ch.isalpha():
            return sentence[:i] + ch.upper() + sentence[i + 1 :]
    return sentence


def _share(pool: list[str], index: int, count: int, keep: int = 6) -> list[str]:
    """The templates of segment `index` of `count`: the pool split into as many disjoint shares as there are
    segments, while each share keeps at least `keep` templates (so long works reuse each share evenly)."""
    shares = max(1, min(count, len(pool) // keep))
    return [t for j, t in enumerate(pool) if j % shares == index % shares]


class Writer:
    """Writes one reply. Never repeats a sentence within it; templates rotate so a story stays varied."""

    def __init__(self, facts: dict[str, Any], rng: random.Random) -> None:
        self.facts = facts
        self.rng = rng
        self.pl = facts.get("language") == "pl"
        self.is_script = facts.get("format") == "script"
        self.kind = str(facts.get("production_type", "short_story"))
        genre = str(facts.get("genre", "literary"))
        genres = load("lexicon_pl" if self.pl else "lexicon_en")["genres"]
        self.lex = genres.get(genre, genres["literary"])
        self.phrases = load("phrases_pl" if self.pl else "phrases_en")
        segment = facts.get("segment") or {}
        self.segment = segment
        bible = facts.get("bible") or {}
        cast = bible.get("cast") or [
            {"name": n, "role": "", "pronouns": "they/them"} for n in segment.get("characters", [])
        ]
        pov = str(facts.get("pov", "third_limited"))
        hero_person = 3 if self.is_script else {"first": 1, "second": 2}.get(pov, 3)
        self.cast = [
            Person(
                c["name"],
                c.get("pronouns", "they/them"),
                str(c.get("want", "")),
                str(c.get("fear", "")),
                hero_person if i == 0 else 3,
            )
            for i, c in enumerate(cast)
        ]
        names = segment.get("characters") or [c.name for c in self.cast]
        self.present = [p for p in self.cast if p.name in names] or self.cast[:1]
        self.place = str(segment.get("place") or (segment.get("entry_state") or {}).get("location") or "")
        self.senses = list(bible.get("sensory_palette") or []) + list(self.lex["senses"])
        self.used: set[str] = set()
        self.objects = rng.sample(self.lex["objects"], k=min(2, len(self.lex["objects"])))
        self.threats = rng.sample(self.lex["threats"], k=min(2, len(self.lex["threats"])))
        self.mentioned: set[str] = set()
        # Each segment draws from its own share of the fixed templates and uses each at most once, so a
        # story reuses few of them; sentences of the phrase grammar (and English image sentences) fill the rest.
        index = int(facts.get("segment_index") or 0)
        count = max(1, int(facts.get("segment_count") or 1))
        self.narration = _share(self.phrases["narration"], index, count, keep=4)
        self.lines = _share(self.phrases["dialogue"], index, count, keep=4)
        # The brief: its subject, style words and the tone a regeneration asks for.
        language = "pl" if self.pl else "en"
        self.about = read_subject(str(facts.get("subject") or ""), language)
        style = str(facts.get("style_instructions") or "")
        self.moods = style_moods(style, language)
        self.tone = tone_of(facts.get("instructions")) or tone_of(style) or "plain"
        self.index, self.count = index, count
        about = [t for t in self.phrases["subject"] if self._fits(t)]
        self.narration += rng.sample(about, k=min(3 if count <= 10 else 2, len(about)))
        self.threat_named: set[str] = set()
        rng.shuffle(self.narration)
        rng.shuffle(self.lines)
        self.decorations: set[str] = set()
        self.cursor = {name: rng.randrange(1000) for name in ("open", "act", "image")}

    def _fits(self, template: str) -> bool:
        """A subject sentence needs the parts of the brief it names."""
        needs = {
            "{role}": self.about.role and (not self.pl or (self.cast and self.cast[0].person == 3)),
            "{event}": self.about.event,
            "{event_line}": self.about.event and self.cast and self.cast[0].person == 3,
            "motif}": self.about.motif,
            "{mood}": self.moods,
        }
        return all(bool(value) for key, value in needs.items() if key in template.lower() or key in template)

    # --- choosing -------------------------------------------------------------------------------------
    def _rotate(self, key: str, options: list[str]) -> str:
        """Walk a shuffled-start rotation through the templates, so every one is used before any repeats."""
        self.cursor[key] += 1 + (self.rng.random() < 0.3)
        return options[self.cursor[key] % len(options)]

    def _pair(self) -> tuple[Person, Person]:
        a = self.rng.choice(self.present)
        others = [p for p in self.present if p is not a] or [p for p in self.cast if p is not a] or [a]
        return a, self.rng.choice(others)

    def _slots(self, a: Person, b: Person) -> dict[str, str]:
        obj = self.rng.choice(self.objects)
        if self.pl:
            place = self.place or "to miejsce"
            forms = load("lexicon_pl")["place_forms"]  # a place kind → ["in the X", "to the X"]
            kind = next((k for k in sorted(forms, key=len, reverse=True) if place.lower().startswith(k)), None)
            w_place = f"{forms[kind][0]}{place[len(kind) :]}" if kind else "na miejscu"
            do_place = f"{forms[kind][1]}{place[len(kind) :]}" if kind else "na miejsce"
            return {
                "A": a.first if a.person == 3 else "",
                "B": b.first,
                "B_first": b.first,
                "obj": obj,
                "threat": self.rng.choice(self.lex["threats"]),
                "sense": self.rng.choice(self.senses),
                "Sense": _cap(self.rng.choice(self.senses)),
                "emotion": self.rng.choice(self.phrases["emotion"]),
                "time_pl": self.rng.choice(self.phrases["time"]),
                "weather": (pl_weather := self.rng.choice(self.phrases["weather"])),
                "Weather": _cap(pl_weather),
                "want": a.want or "przetrwać",
                "fear": a.fear or "porażka",
                "w_place": w_place,
                "W_place": _cap(w_place),
                "do_place": do_place,
                "place": place,
                "mood": self.rng.choice(self.moods or ["dziwnie"]),
                "role": self.about.role,
                "event_line": f"{self.cast[0].first} {self.about.event}" if self.cast else self.about.event,
            }
        a_subj, a_obj, a_poss, a_self = a.forms()
        b_subj, b_obj, b_poss, _ = b.forms()
        sense = self.rng.choice(self.senses)
        weather = self.rng.choice(self.phrases["weather"])
        want = a.want or "to see this through"
        return {
            "A": a_subj,
            "a_obj": a_obj,
            "a_poss": a_poss,
            "a_self": a_self,
            "a_subj_lower": a_subj if a.person != 3 else PRONOUNS.get(a.pronouns, PRONOUNS["they/them"])[0],
            "B": b_subj,
            "b_obj": b_obj if b.person != 3 else b.first,
            "b_poss": b_poss if b.person != 3 else f"{b.first}'s",
            "B_first": b.first,
            "place": re.sub(r"^The ", "the ", self.place) or "the old place",
            "obj": obj,
            "the_obj": self._short(obj),
            "obj_head": self._short(obj).split()[-1],
            "sense": sense,
            "Sense": _cap(sense),
            "sense_bare": re.sub(r"^(the|a|an) ", "", sense),
            "threat": self.rng.choice(self.threats),
            "emotion": self.rng.choice(self.phrases["emotion"]),
            "time": self.rng.choice(self.phrases["time"]),
            "time_short": self.rng.choice(["dawn", "midnight", "Friday", "the tide"]),
            "weather": weather,
            "Weather": _cap(weather),
            "weather_bare": weather,
            "adj": self.rng.choice(self.phrases["adj"]),
            "want": want,
            "want_short": " ".join(want.split()[:6]),
            "fear": a.fear or "failing",
            "gesture": self._gesture(a),
            "gesture_b": self._gesture(b),
            "the_motif": the(self.about.motif) if self.about.motif else "what had happened",
            "The_motif": _cap(the(self.about.motif) if self.about.motif else "what had happened"),
            "role": self.about.role,
            "event": self.about.event,
            "mood": self.rng.choice(self.moods or ["strange"]),
        }

    def _short(self, obj: str) -> str:
        """The full phrase on first mention, then just 'the <noun>' (as a writer would)."""
        if obj not in self.mentioned:
            self.mentioned.add(obj)
            return the(obj)
        head = the(obj).split()
        nouns = [w for w in head[1:] if w not in {"of", "with", "that", "to", "in", "on", "bound", "taped"}]
        cut = next(
            (i for i, w in enumerate(head) if w in {"of", "with", "that", "taped", "bound", "in", "nobody"}), None
        )
        core = head[1:cut] if cut else head[1:]
        return "the " + (core[-1] if core else (nouns[-1] if nouns else head[-1]))

    def _gesture(self, who: Person, *, optional: bool = False) -> str:
        """A gesture with a tail; an `optional` one is skipped ("") once this reply's tails are spent."""
        _, _, poss, _ = who.forms()
        subj = who.forms()[0] if who.person != 3 else PRONOUNS.get(who.pronouns, PRONOUNS["they/them"])[0]
        base = self.rng.choice(self.phrases["gestures"]).format(poss=poss)
        tail = self._rare(self.phrases["gesture_tails"])
        if not tail:
            return "" if optional else base
        tail = tail.format(
            emotion=self.rng.choice(self.phrases["emotion"]),
            poss=poss,
            subj=subj,
            self=who.forms()[3],
            the_obj=self._short(self.rng.choice(self.objects)),
            weather_bare=self.rng.choice(self.phrases["weather"]),
        )
        return f"{base}, {tail}"

    def _fill(self, template: str, a: Person, b: Person) -> str:
        text = template
        if self.pl:
            text = VERB_RE.sub(lambda m: m.group({3: 1, 1: 2, 2: 3}[a.person]), text)
        slots = self._slots(a, b)
        if "{threat}" in text:
            slots["threat"] = self._threat(slots["threat"])
        return _cap(text.format(**slots))

    def _threat(self, threat: str) -> str:
        """The danger by its full name once per reply, then by a short reference."""
        if threat not in self.threat_named:
            self.threat_named.add(threat)
            return threat
        return self.rng.choice(self.phrases["threat_again"])

    def _sentence(self, key: str, options: list[str], a: Person | None = None, b: Person | None = None) -> str:
        """A fresh sentence from the rotation; retried with new slots if it was already written."""
        for _ in range(12):
            pa, pb = self._pair()
            sentence = self._fill(self._rotate(key, options), a or pa, b or pb)
            if sentence not in self.used:
                self.used.add(sentence)
                return sentence
        return sentence

    def _connect(self, sentence: str) -> str:
        word = self.rng.choice(self.phrases["connectors"])
        keep_cap = sentence.split()[0] in {"I"} or (
            sentence[:1].isupper() and sentence.split()[0].rstrip(",") in {p.first for p in self.cast}
        )
        body = sentence if keep_cap else sentence[:1].lower() + sentence[1:]
        return f"{word}, {body}"

    # --- building blocks ------------------------------------------------------------------------------
    def _decoration(self, options: list[str]) -> str:
        """A lead-in or tail for a spoken line, as often as the pool has blanks (else none)."""
        choice = self.rng.choice(options)
        return self._rare(options) if choice.strip() else ""

    def _rare(self, options: list[str], fallback: str = "") -> str:
        """A fixed phrase at most once per reply, from this segment's share of `options` (`fallback` once the
        share is spent): in a long work each phrase recurs in a few segments, not in every one."""
        share = _share([o for o in options if o.strip()], self.index, self.count, keep=3)
        fresh = [o for o in share if o not in self.decorations]
        if not fresh:
            return fallback
        choice = self.rng.choice(fresh)
        self.decorations.add(choice)
        return choice

    def _core_line(self, speaker: Person, listener: Person) -> tuple[str, bool]:
        """A fixed line template while this reply has unused ones (at most once each), else a grammar line."""
        if self.lines and self.rng.random() < 0.4:
            core = self.lines.pop()
            question = (
                core.split()[0]
                in {"Do", "What", "Why", "How", "Who", "Where", "Is", "Ufasz", "Co", "Kto", "Gdzie", "Jak"}
                or core.endswith("didn't you")
                or core.endswith("prawda")
            )
            return core, question
        others = [p.first for p in self.cast if p is not speaker and p is not listener and p.person == 3]
        others = others or [p.first for p in self.cast if p is not speaker and p.person == 3]
        return gr.pl_spoken(self.rng, others) if self.pl else gr.en_spoken(self.rng, others)

    def _line(self, speaker: Person, listener: Person) -> tuple[str, bool]:
        """One spoken line (without quotes) and whether it is a question."""
        for _ in range(12):
            core, question = self._core_line(speaker, listener)
            posts = (
                self.phrases["line_post"] if self.pl
                else self.phrases["line_post_question" if question else "line_post_statement"]
            )
            pre = self._decoration(self.phrases["line_pre"])
            keep = core.split()[0] in {"I", "I'm", "I'd", "I'll", "I've"} or core.startswith("{") or any(
                core.startswith(p.first) for p in self.cast
            )
            line = pre + (core[:1].lower() + core[1:] if pre and not keep else core)
            line += self._decoration(posts)
            line = self._fill(line, listener, listener).rstrip()
            line = line.replace(speaker.first + ", ", "", 1) if line.startswith(speaker.first) else line
            if line not in self.used:
                self.used.add(line)
                return line, question
        return line, question

    def _exchange(self, turns: int) -> list[str]:
        a, b = self._pair()
        out = []
        for turn in range(turns):
            speaker, listener = (a, b) if turn % 2 == 0 else (b, a)
            line, question = self._line(speaker, listener)
            out.append(self._speech(speaker, listener, line, question))
        return out

    def _speech(self, speaker: Person, listener: Person, line: str, question: bool) -> str:
        if self.pl:
            said = self.rng.choice(self.phrases["said"])
            said = VERB_RE.sub(lambda m: m.group({3: 1, 1: 2, 2: 3}[speaker.person]), said)
            who = f" {speaker.first}" if speaker.person == 3 else ""
            style = self.rng.random()
            # Polish punctuation: a statement's full stop gives way to the attribution ("— Nie wiem — mówi
            # Ola."); a question keeps its mark and is mostly left bare, so tags don't stand alone as sentences.
            if style < 0.25:
                return f"— {line}{'?' if question else '.'}"
            gesture = self._decoration(self.phrases["gestures"]) if style < 0.6 or question else ""
            if gesture:
                gesture = VERB_RE.sub(lambda m: m.group({3: 1, 1: 2, 2: 3}[speaker.person]), gesture)
                return f"— {line}{'?' if question else ''} — {said}{who} i {gesture}."
            if question:
                return f"— {line}?"
            return f"— {line} — {said}{who}."
        subj = speaker.forms()[0]
        end = "?" if question else "."
        style = self.rng.random()
        if question or style < 0.3:
            gesture = self._gesture(speaker, optional=True) if style < 0.5 else ""
            return f"{_cap(subj)} {gesture}. \u201c{line}{end}\u201d" if gesture else f"\u201c{line}{end}\u201d"
        said = self.rng.choice(self.phrases["said"])
        if " " in said:  # "said at last": a phrase, not a plain verb of saying
            said = self._rare([s for s in self.phrases["said"] if " " in s], "said")
        return f"\u201c{line},\u201d {subj} {said}."

    def _paragraph(self, sentences: int) -> str:
        return " ".join(self._narration() for _ in range(sentences))

    def _narration(self) -> str:
        roll = self.rng.random()
        if self.narration and roll < 0.3:
            a, b = self._pair()
            sentence = self._fill(self.narration.pop(), a, b)
            if self.rng.random() < 0.25:
                sentence = self._connect(sentence)
            if sentence not in self.used:
                self.used.add(sentence)
                return sentence
        if self.pl or roll < 0.65:
            return self._grammar_sentence()
        return self._image()

    def _grammar_sentence(self) -> str:
        """A narration sentence of the phrase grammar, about one of the characters present."""
        for _ in range(12):
            a, _ = self._pair()
            if self.pl:
                sentence = gr.pl_narration(self.rng, [p.first for p in self.present if p.person == 3])
            else:
                subj, _, poss, _ = a.forms()
                names = [p.first for p in self.cast if p is not a and p.person == 3]
                sentence = gr.en_narration(self.rng, subj, poss if a.person != 3 else f"{a.first}'s", names)
            if sentence not in self.used:
                self.used.add(sentence)
                return sentence
        return sentence

    def _image(self) -> str:
        """A sentence assembled from independent parts: many combinations, few repeated word pairs."""
        for _ in range(12):
            a, b = self._pair()
            parts = {k: self.rng.choice(v) for k, v in self.phrases["image_parts"].items()}
            adjectives = self.rng.sample(self.phrases["adjectives"], 3)
            nouns = self.rng.sample(self.phrases["nouns"], 2)
            parts.update(
                adj1=adjectives[0],
                adj2=adjectives[1],
                adj3=adjectives[2],
                noun1=nouns[0],
                noun2=nouns[1],
                small_place=self.rng.choice(self.phrases["places_small"]),
            )
            slots = self._slots(a, b)
            parts.update(
                A=slots["A"],
                A_poss_cap=_cap(slots["a_poss"] if a.person != 3 else f"{a.first}'s"),
                The_obj_cap=_cap(slots["the_obj"]),
            )
            sentence = _cap(self._rotate("image", self.phrases["images"]).format(**parts))
            if sentence not in self.used:
                self.used.add(sentence)
                return sentence
        return sentence

    def _beat_text(self, beat: str) -> str:
        """A planned beat as narration; in first or second person the viewpoint character's name becomes I/you."""
        hero = self.cast[0] if self.cast else None
        text = beat.strip()
        if hero and hero.person in (1, 2) and not self.pl:
            subj, obj, poss, _ = hero.forms()
            text = re.sub(rf"^{re.escape(hero.first)}\b", subj, text)
            text = re.sub(rf"\b{re.escape(hero.first)}'s\b", poss, text)
            text = re.sub(rf"\b{re.escape(hero.first)}\b", obj, text)
        return _cap(text if text.endswith((".", "!", "?")) else text + ".")

    # --- whole texts ----------------------------------------------------------------------------------
    def prose(self, target: int, *, opening: bool, closing: bool) -> str:
        beats = [b for b in self.segment.get("beats", []) if b] or [""]
        paras: list[str] = []
        words = 0
        per_beat = max(60, target // len(beats))
        period = str(self.facts.get("setting_period") or "").strip()
        if opening and period and int(self.facts.get("segment_index") or 0) == 0:
            paras.append(f"{self.place}, {period}." if self.place else f"{_cap(period)}.")  # a dateline
            words += count_words(paras[-1])
        if opening:
            paras.append(
                " ".join(self._sentence("open", self.phrases["openers"]) for _ in range(2))
                + " "
                + self._introduction()
                + self._paragraph(2)
            )
            words += count_words(paras[-1])
        for i, beat in enumerate(beats):
            if i and len(beats) > 2 and i == len(beats) // 2 + 1 and target >= 900:
                paras.append("* * *")
                paras.append(self._sentence("open", self.phrases["openers"]))
                words += count_words(paras[-1])
            goal = min(target - 40, per_beat * (i + 1))
            if beat:
                paras.append(self._beat_text(beat) + " " + self._paragraph(self.rng.randint(1, 3)))
                words += count_words(paras[-1])
            while words < goal:
                if self.rng.random() < 0.5:
                    block = "\n\n".join(self._exchange(self.rng.randint(2, 4)))
                else:
                    block = self._paragraph(self.rng.randint(3, 5))
                paras.append(block)
                words += count_words(block)
        if closing:
            final = self.facts.get("segment_index") == (self.facts.get("segment_count") or 0) - 1
            index = int(self.facts.get("segment_index") or 0)
            pool = self.phrases["closers"]
            if final:
                paras.append(self.ending())
            else:
                paras.append(self._fill(pool[index], *self._pair()) if index < len(pool) else self._grammar_sentence())
        return "\n\n".join(paras)

    def _introduction(self) -> str:
        """In the first segment, the protagonist as the subject names them ("Ada was a wizard apprentice")."""
        if int(self.facts.get("segment_index") or 0) != 0 or not self.cast:
            return ""
        pool = [t for t in self.phrases["introductions"] if self._fits(t)]
        if not pool and not self.moods:
            return ""
        pool = pool or [""]
        hero = self.cast[0]
        others = [p for p in self.cast if p is not hero] or [hero]
        template = self.rng.choice(pool)
        intro = self._fill(template, hero, self.rng.choice(others)) + " " if template else ""
        if self.moods:
            mood = self.rng.choice(self.phrases["mood_lines"])
            intro += self._fill(mood, hero, self.rng.choice(others)) + " "
        return intro

    def ending(self) -> str:
        """The story's last paragraph in the tone asked for (the instructions, else the style, else
        bittersweet): a sentence about the people and an image, drawn from several, plus the author's title."""
        hero = self.cast[0] if self.cast else self.present[0]
        others = [p for p in self.present if p is not hero] or [p for p in self.cast if p is not hero] or [hero]
        other = self.rng.choice(others)
        people, images = self.phrases["endings"][self.tone]
        parts = [self._fill(self.rng.choice(people), hero, other), self._fill(self.rng.choice(images), hero, other)]
        title = str(self.facts.get("title") or "").strip()
        if title:
            parts.append(self.phrases["title_line"].format(title=title))
        return " ".join(parts)

    def script(self, target: int) -> str:
        beats = [b for b in self.segment.get("beats", []) if b] or [""]
        blocks: list[str] = []
        words = 0
        per_beat = max(60, target // len(beats))
        for i, beat in enumerate(beats):
            blocks.append(self._scene_heading(i))
            if beat:
                blocks.append(self._direction(self._beat_text(beat)))
            goal = min(target - 10, per_beat * (i + 1))
            words = sum(count_words(b) for b in blocks)
            while words < goal:
                if self.rng.random() < 0.3:
                    actions = self.phrases["narration" if self.pl else "action"]
                    blocks.append(self._direction(self._sentence("act", actions)))
                else:
                    a, b = self._pair()
                    for turn in range(self.rng.randint(2, 4)):
                        speaker, listener = (a, b) if turn % 2 == 0 else (b, a)
                        line, question = self._line(speaker, listener)
                        blocks.append(self._cue(speaker, line + ("?" if question else ".")))
                words = sum(count_words(b) for b in blocks)
        return "\n\n".join(blocks)

    def _scene_heading(self, k: int) -> str:
        place = self.place or "—"
        number = int(self.facts.get("segment_index", 0)) + 1
        if self.kind == "screenplay":
            slot = self.rng.choice(load("phrases_en")["script_time"])  # drawn in Polish too, unused there
            if self.pl:
                return (
                    f"{self.rng.choice(['WNĘTRZE', 'PLENER'])}. {place.upper()} — {self.rng.choice(['DZIEŃ', 'NOC'])}"
                )
            return f"{self.rng.choice(['INT.', 'INT.', 'EXT.'])} {place.upper()} - {slot}"
        if self.kind == "stage_play":
            label = "SCENA" if self.pl else "SCENE"
            return f"{label} {number}.{k + 1}. ({place}.)"
        sound = self.rng.choice(self.phrases["sound"])
        a, b = self._pair()
        return self._fill(sound, a, b)

    def _direction(self, text: str) -> str:
        if self.kind == "screenplay":
            return text
        if self.kind == "stage_play":
            return f"({text})"
        return f"NARRATOR: {text}"

    def _cue(self, speaker: Person, line: str) -> str:
        name = speaker.first.upper()
        if self.kind == "screenplay":
            paren = ""
            if self.rng.random() < 0.2:
                paren = (
                    "\n("
                    + self.rng.choice(
                        ["quietly", "beat", "not looking up", "sharp"]
                        if not self.pl
                        else ["cicho", "po chwili", "ostro"]
                    )
                    + ")"
                )
            return f"{name}{paren}\n{line}"
        return f"{name}: {line}"


def write(facts: dict[str, Any], rng: random.Random) -> str:
    """The reply to a prose call, by the CONTEXT's task: draft, extend, revise or smooth_seam."""
    task = facts.get("task", "draft")
    target = max(30, int(facts.get("target_words") or 300))
    writer = Writer(facts, rng)
    if task == "smooth_seam":
        return smooth_seam(facts, writer)
    if writer.is_script:
        return writer.script(target)
    return writer.prose(target, opening=task != "extend", closing=True)


def smooth_seam(facts: dict[str, Any], writer: Writer) -> str:
    """Keep the opening and make the transition explicit with one bridging sentence in the story's terms."""
    opening = str(facts.get("opening", ""))
    if writer.is_script or not opening:
        return opening
    pool = writer.phrases["bridges"]
    index = int(facts.get("segment_index") or 0)
    # Each fixed bridge once per round of seams, a grammar sentence on every other round: no seam repeats.
    if (index // len(pool)) % 2 == 0:
        bridge = writer._fill(pool[index % len(pool)], *writer._pair())
    else:
        bridge = writer._grammar_sentence()
    return f"{bridge} {opening}"
