"""Stage 7's continuity check: drafts read against the project's world (issue 14, item 5).

Two checks are rules, deterministic and free: a character the world knows as dead acting or speaking (named
outside quoted speech as a speaker or the subject of a verb, in a sentence that is not about their death, memory,
grave or ghost: remembering the dead is fine), and a place of the world written under a near-miss of its name
(fixed by a rule: the world's name put back). The third, a broken locked rule, needs reading: a judging model
is asked, and a claim is kept only when its rule is one of the locked rules and its evidence is a verbatim quote
of that segment, so a model cannot invent a violation.

Each finding names the segment, the world's fact and the evidence (the sentence or quote).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEAD_ACTS = "dead_character_acts"
RENAMED_PLACE = "renamed_place"
LOCKED_RULE_BROKEN = "locked_rule_broken"
SEVERITY = {DEAD_ACTS: 0.9, LOCKED_RULE_BROKEN: 0.8, RENAMED_PLACE: 0.5}
MIN_PLACE_CHARS = 5  # shorter names are too close to ordinary words to call a near-miss a renaming
LONG_PLACE_CHARS = 8  # from this length two edits still read as the same name; below it, one
MIN_FIRST_NAME = 3  # as world_context.named_in: a person is also named by a capitalised first name this long
MIN_EVIDENCE_CHARS = 12  # a quoted "evidence" shorter than this proves nothing (it matches anywhere)
EVIDENCE_CHARS = 300
MAX_VIOLATIONS = 20

WORD_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
SENTENCE_END_RE = re.compile(r"(?<=[.!?…][\"”»'’])\s+|(?<=[.!?…])\s+|\n+")  # closing quotes stay with it
# Quoted speech: straight, curly, Polish and guillemet quotes.
QUOTE_RE = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”|„[^”“\"\n]*[”“\"]|«[^»\n]*»|»[^«\n]*«")
DASHES = "—–-"
# The opening dash of Polish-style dialogue and the speech up to the narrator's dash (or the sentence's end).
DASH_SPEECH_RE = re.compile(rf"^\s*[{DASHES}]\s*(.*?)(?:\s[{DASHES}]\s|$)")


class Violation(BaseModel):
    """One broken locked rule, as the judging model claims it."""

    model_config = ConfigDict(extra="forbid")

    index: int
    rule: str
    evidence: str


class ContinuityReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    violations: list[Violation] = Field(max_length=MAX_VIOLATIONS)


@dataclass(frozen=True)
class Finding:
    segment: int
    kind: str
    fact: str
    evidence: str
    severity: float
    subject: str  # what the check is about: the dead character's name, the world's place name, the rule
    found_name: str = ""  # a renamed place: the near-miss in the text

    def key(self) -> tuple[int, str, str, str]:
        return self.segment, self.kind, self.subject, self.found_name

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("subject", "found_name")}
        if self.kind == RENAMED_PLACE:
            out |= {"world_name": self.subject, "found_name": self.found_name}
        return out


def _set(listed: str) -> frozenset[str]:
    return frozenset(listed.split())


@dataclass(frozen=True)
class Words:
    """Per language: speech verbs, verbs a subject acts with, and the words of death and memory."""

    speech: frozenset[str]
    verbs: frozenset[str]
    past_suffixes: tuple[str, ...]
    not_verbs: frozenset[str]  # words after a name that say it is not acting now (recollection, copula)
    progressive: frozenset[str]  # "was" + -ing acts
    adverb_suffixes: tuple[str, ...]  # "Oren slowly turned": one adverb between the name and its verb
    remembrance_stems: tuple[str, ...]
    remembrance_words: frozenset[str]
    remembrance_phrases: tuple[str, ...]


EN = Words(
    speech=_set("""said says asked asks whispered whispers replied replies answered answers shouted shouts
        called calls cried cries murmured murmurs muttered mutters added adds told tells snapped yelled yells laughed
        sighed spoke speaks insisted demanded explained breathed hissed continued agreed warned begged"""),
    verbs=_set("""went goes came comes took takes stood stands ran runs sat sits spoke told gave gives held holds
        made makes saw sees knew felt got put began rose drew threw wrote brought caught found keeps kept left led met
        shook sang struck swung thought tore understood woke bent broke chose dug fought flew grew hid hung lay lit
        meant sought sold shot shut slept slid spun sprang stole stuck swore taught wept wore let hit became walks
        turns looks smiles nods laughs opens reaches"""),
    past_suffixes=("ed",),
    not_verbs=_set("had has would used could might should never always once was were is"),
    progressive=frozenset({"was", "is"}),
    adverb_suffixes=("ly",),
    remembrance_stems=("dead", "death", "died", "dying", "grave", "tomb", "burie", "burial", "funeral", "ghost",
                       "memor", "rememb", "recall", "mourn", "corpse", "murder", "drown", "epitaph", "haunt",
                       "portrait", "photograph", "elegy", "obituar"),
    remembrance_words=_set("""die dies body bodies killed kill late lost miss missed misses missing once dream
        dreams dreamed dreamt spirit spirits remains ashes buried bury former used"""),
    remembrance_phrases=(),
)
PL = Words(
    speech=_set("""powiedział powiedziała zapytał zapytała spytał spytała szepnął szepnęła odpowiedział
        odpowiedziała krzyknął krzyknęła rzekł rzekła mruknął mruknęła dodał dodała zawołał zawołała westchnął
        westchnęła odparł odparła mówi mówił mówiła pyta szepcze rzucił rzuciła"""),
    verbs=_set("""idzie stoi patrzy siedzi wchodzi wychodzi śmieje mówi pyta trzyma bierze daje otwiera
        wstaje biegnie czeka"""),
    past_suffixes=("ł", "ła", "ło", "li", "ły"),
    not_verbs=_set("był była było byli były jest miał miała kiedyś niegdyś zawsze nigdy"),
    progressive=frozenset(),
    adverb_suffixes=("o", "ie"),
    remembrance_stems=("martw", "zmar", "zgin", "śmier", "grob", "grób", "pogrzeb", "duch", "wspom", "pamię",
                       "zwłok", "uton", "cmentar", "żałob", "tęskn", "portret", "zdjęci", "nagrob", "nieboszcz",
                       "zabit", "zabił", "zamordow", "pochowa", "pochów", "trumn", "śnił", "śniła", "zabój"),
    remembrance_words=_set("ciało ciała ciałem ciele kiedyś niegdyś sen snu śnie"),
    remembrance_phrases=("nie żyje", "nie żył", "nie żyła"),
)


def words_for(language: str) -> Words:
    return PL if language == "pl" else EN


def sentences(text: str) -> list[str]:
    """The text's sentences and lines, stripped, empty ones dropped."""
    return [s.strip() for s in SENTENCE_END_RE.split(text) if s and s.strip()]


def normalised(text: str) -> str:
    """Whitespace collapsed, case folded and typographic quotes made plain: how evidence is compared."""
    plain = text.translate(str.maketrans("“”„«»’‘", "\"\"\"\"\"''"))
    return " ".join(plain.split()).casefold()


SPEECH_MARK = "\x00"
QUOTE_NEAR_WORDS = 3  # a name this close to quoted speech is its speaker


def _narration(sentence: str) -> str:
    """The sentence with each quoted speech replaced by SPEECH_MARK."""
    outside = QUOTE_RE.sub(f" {SPEECH_MARK} ", sentence)
    dash = DASH_SPEECH_RE.match(outside)
    if dash:
        outside = f"{outside[: dash.start(1)]} {SPEECH_MARK} {outside[dash.end(1):]}"
    return outside


def _near_speech(before: str, after: str) -> bool:
    """Whether quoted speech stands within QUOTE_NEAR_WORDS words on either side of a name."""
    left, right = before.rsplit(SPEECH_MARK, 1), after.split(SPEECH_MARK, 1)
    return ((len(left) == 2 and len(WORD_RE.findall(left[1])) < QUOTE_NEAR_WORDS)
            or (len(right) == 2 and len(WORD_RE.findall(right[0])) < QUOTE_NEAR_WORDS))


def _about_remembrance(sentence: str, words: Words) -> bool:
    folded = sentence.casefold()
    if any(phrase in folded for phrase in words.remembrance_phrases):
        return True
    return any(w in words.remembrance_words or w.startswith(words.remembrance_stems)
               for w in (m.group().casefold() for m in WORD_RE.finditer(folded)))


def _verb_like(word: str, words: Words) -> bool:
    if not word or not word[0].islower() or word in words.not_verbs:
        return False
    return (word in words.speech or word in words.verbs
            or (len(word) > 3 and word.endswith(words.past_suffixes)))


def _name_patterns(name: str, first_name_ok: bool) -> list[re.Pattern[str]]:
    """The full name (any case) and, when it names no one else, the capitalised first name."""
    patterns = [re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)]
    parts = name.split()
    if first_name_ok and len(parts) > 1 and len(parts[0]) >= MIN_FIRST_NAME and parts[0][0].isupper():
        patterns.append(re.compile(rf"(?<!\w){re.escape(parts[0])}(?!\w)"))
    return patterns


def acts_in(sentence: str, patterns: list[re.Pattern[str]], words: Words) -> bool:
    """Whether the named person acts or speaks in the sentence (named outside quoted speech, whose narration is
    not about death or memory): attributed speech, quoted speech next to the name, or the name as the subject of
    a verb."""
    outside = _narration(sentence)
    spans = [m for p in patterns for m in p.finditer(outside)]
    if not spans or _about_remembrance(outside, words):  # what the narration says, not what is said
        return False
    for match in spans:
        head, tail = outside[: match.start()], outside[match.end():]
        if tail[:1] in ("'", "’"):  # a possessive: "Oren's letter" is about them, not them acting
            continue
        after = [w.group() for w in WORD_RE.finditer(tail)][:2]
        before = WORD_RE.findall(head)[-1:]
        if after and after[0] in words.not_verbs:
            if after[0] in words.progressive and len(after) > 1 and after[1].endswith("ing"):
                return True
            continue
        if _near_speech(head, tail) or (before and before[0] in words.speech):
            return True
        nxt = after[0] if after else ""
        if _verb_like(nxt, words):
            return True
        if nxt.endswith(words.adverb_suffixes) and len(after) > 1 and _verb_like(after[1], words):
            return True
    return False


def _evidence(sentence: str) -> str:
    return sentence if len(sentence) <= EVIDENCE_CHARS else sentence[: EVIDENCE_CHARS - 1] + "…"


@dataclass(frozen=True)
class WorldFacts:
    """What the deterministic checks read of the world and the story: the dead (with whether their first name is
    theirs alone), the world's place names, and every name the world, the cast and the story's places know."""

    dead: tuple[tuple[str, bool], ...]
    places: tuple[str, ...]
    known: frozenset[str]


def world_facts(document: dict[str, Any], cast: list[dict[str, Any]], story_places: list[dict[str, Any]]) -> WorldFacts:
    people = [str(c.get("name", "")) for c in [*(document.get("characters") or []), *cast] if c.get("name")]
    dead_names = [str(c["name"]) for c in document.get("characters") or [] if c.get("status") == "dead"
                  and c.get("name")]
    firsts: dict[str, set[str]] = {}
    for name in people:
        firsts.setdefault(name.split()[0], set()).add(name.casefold())
    dead = tuple((name, len(firsts.get(name.split()[0], set())) == 1) for name in dict.fromkeys(dead_names))
    places = tuple(dict.fromkeys(str(p["name"]) for p in document.get("places") or [] if p.get("name")))
    named = [*people, *places, *(str(p.get("name", "")) for p in story_places),
             *(str(e.get("name", "")) for section in ("factions", "glossary", "history", "rules")
               for e in document.get(section) or [])]
    known = {n.casefold() for n in named if n} | {part.casefold() for n in named for part in WORD_RE.findall(n)}
    return WorldFacts(dead, places, frozenset(known))


def dead_characters_acting(index: int, text: str, facts: WorldFacts, language: str) -> list[Finding]:
    words = words_for(language)
    found = []
    for name, first_ok in facts.dead:
        patterns = _name_patterns(name, first_ok)
        for sentence in sentences(text):
            if acts_in(sentence, patterns, words):
                found.append(Finding(index, DEAD_ACTS, f"{name} is dead", _evidence(sentence),
                                     SEVERITY[DEAD_ACTS], name))
                break  # one finding per character and segment: the revision fixes them all
    return found


def edits(a: str, b: str) -> int:
    """Edits between two strings, counted on difflib's alignment (replacements count as the longer side)."""
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")


def _prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def near_miss(candidate: str, name: str, known: frozenset[str], language: str) -> bool:
    """Whether `candidate` reads as the world's `name` respelt: close to it and about as long, yet not any name
    the story knows, and (in Polish) not merely the name declined ("Saltmerze" is Saltmere in the locative)."""
    a, b = candidate.casefold(), name.casefold()
    if a == b or a in known or len(a) < MIN_PLACE_CHARS or len(b) < MIN_PLACE_CHARS:
        return False
    if abs(len(a) - len(b)) > 1 or (language == "pl" and _prefix(a, b) >= len(b) - 2):
        return False
    return edits(a, b) <= (2 if len(b) >= LONG_PLACE_CHARS else 1)


def _candidates(sentence: str, name: str) -> list[str]:
    """The runs of as many words as the name has, capitalised where the name is (a leading article aside)."""
    parts = name.split()
    tokens = list(WORD_RE.finditer(sentence))
    found = []
    for start in range(len(tokens) - len(parts) + 1):
        run = tokens[start: start + len(parts)]
        if any(sentence[a.end(): b.start()].strip() for a, b in pairwise(run)):
            continue
        ok = all(w.group()[0].isupper() or not p[0].isupper() or (i == 0 and w.group().casefold() == p.casefold())
                 for i, (w, p) in enumerate(zip(run, parts, strict=True)))
        if ok and run[-1].group()[0].isupper():
            found.append(sentence[run[0].start(): run[-1].end()])
    return found


def renamed_places(index: int, text: str, facts: WorldFacts, language: str) -> list[Finding]:
    found: dict[str, Finding] = {}
    for sentence in sentences(text):
        for name in facts.places:
            for candidate in _candidates(sentence, name):
                if candidate not in found and near_miss(candidate, name, facts.known, language):
                    found[candidate] = Finding(index, RENAMED_PLACE, f"the place is called {name} in the world",
                                               _evidence(sentence), SEVERITY[RENAMED_PLACE], name, candidate)
    return list(found.values())


def check(texts: list[str], facts: WorldFacts, language: str) -> list[Finding]:
    """The deterministic checks over every segment's text, in segment order."""
    return [f for index, text in enumerate(texts)
            for f in (*dead_characters_acting(index, text, facts, language),
                      *renamed_places(index, text, facts, language))]


def restore_place(text: str, finding: Finding) -> str:
    """The near-miss replaced by the world's name wherever it stands in the text; a word the two share keeps
    the text's own case ("the Glass Reff" becomes "the Glass Reef")."""
    kept = " ".join(f if f.casefold() == w.casefold() else w
                    for f, w in zip(finding.found_name.split(), finding.subject.split(), strict=True))
    return re.sub(rf"(?<!\w){re.escape(finding.found_name)}(?!\w)", lambda _: kept, text)


def locked_rule_findings(reply: ContinuityReply, window: list[int], texts: list[str],
                         rules: list[str]) -> list[Finding]:
    """The judge's claims that hold: a segment of the window, a locked rule as listed, and evidence quoted
    verbatim from that segment's text (whitespace and case aside). Anything else is dropped, never reported."""
    by_rule = {normalised(r): r for r in rules}
    kept: dict[tuple[int, str], Finding] = {}
    for claim in reply.violations:
        rule = by_rule.get(normalised(claim.rule))
        evidence = normalised(claim.evidence).strip("\"' ")
        if (claim.index not in window or rule is None or len(evidence) < MIN_EVIDENCE_CHARS
                or evidence not in normalised(texts[claim.index])):
            continue
        kept.setdefault((claim.index, rule), Finding(claim.index, LOCKED_RULE_BROKEN, f"locked rule: {rule}",
                                                     _evidence(claim.evidence.strip()),
                                                     SEVERITY[LOCKED_RULE_BROKEN], rule))
    return list(kept.values())


def still_broken(finding: Finding, text: str, rechecked: set[tuple[int, str, str, str]]) -> bool:
    """After revision: a rule-checked finding stands while the check still finds it; a locked rule's while its
    evidence is still in the segment (no model is asked again)."""
    if finding.kind == LOCKED_RULE_BROKEN:
        return normalised(finding.evidence).rstrip("…") in normalised(text)
    return finding.key() in rechecked
