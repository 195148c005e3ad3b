"""What the offline engine reads out of a brief: the subject's protagonist, event and motif, the style's
mood words and the tone a regeneration asks for.

A plain-text heuristic, not a parser: "A wizard apprentice discovers forbidden magic" gives the protagonist
"wizard apprentice", the event "discovered forbidden magic" and the motif "forbidden magic", so the plans
and the text are about what the author asked for. When the subject names no protagonist (no
article-led noun phrase before a verb), the engine falls back to its genre's word banks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def bag(text: str) -> frozenset[str]:
    """A word list written as one string."""
    return frozenset(text.split())


WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

STOP_EN = bag(
    "a an the of to in on at for and or but with by from into onto over under about after before is are was "
    "were be been being who whom whose that this these those it its her his their them they she he him i you "
    "we our my your as than then so not no nor only when where which while what why how all any each every "
    "some has have had must can could should would will may might do does did must up out"
)
STOP_PL = bag(
    "i a w we z ze na do od po za o u ku nad pod przed przez przy dla bez oraz lub albo ale że się to ten ta "
    "te tego tej jest są był była było być który która które którego jej jego ich nie tak jak gdy kiedy co "
    "kto gdzie czy już jeszcze tylko też by aby"
)

# English verbs a subject sentence commonly turns on: third person → (past, base).
EN_IRREGULAR = {
    "is": ("was", "be"), "has": ("had", "have"), "finds": ("found", "find"), "makes": ("made", "make"),
    "becomes": ("became", "become"), "takes": ("took", "take"), "meets": ("met", "meet"),
    "hears": ("heard", "hear"), "goes": ("went", "go"), "comes": ("came", "come"), "gets": ("got", "get"),
    "loses": ("lost", "lose"), "sees": ("saw", "see"), "falls": ("fell", "fall"), "wakes": ("woke", "wake"),
    "begins": ("began", "begin"), "leaves": ("left", "leave"), "builds": ("built", "build"),
    "keeps": ("kept", "keep"), "steals": ("stole", "steal"), "wins": ("won", "win"), "buys": ("bought", "buy"),
    "sells": ("sold", "sell"), "runs": ("ran", "run"), "flees": ("fled", "flee"), "writes": ("wrote", "write"),
    "tells": ("told", "tell"), "breaks": ("broke", "break"), "hides": ("hid", "hide"), "rides": ("rode", "ride"),
    "swears": ("swore", "swear"), "brings": ("brought", "bring"), "seeks": ("sought", "seek"),
    "inherits": ("inherited", "inherit"), "knows": ("knew", "know"), "gives": ("gave", "give"),
    "fights": ("fought", "fight"), "teaches": ("taught", "teach"), "catches": ("caught", "catch"),
    "sets": ("set", "set"), "digs": ("dug", "dig"), "forgets": ("forgot", "forget"), "speaks": ("spoke", "speak"),
}
NOT_VERBS = bag(
    "glass gas boss class bus lens news series species physics mathematics chess dress moss grass mess "
    "princess duchess countess actress waitress mistress heiress witness goddess empress sorceress priestess "
    "lioness hostess always perhaps towards its his hers ours yours theirs this thus was"
)
SHE_WORDS = bag(
    "woman girl queen widow princess mother daughter sister wife nun witch actress waitress heiress duchess "
    "countess lady aunt grandmother niece bride empress sorceress priestess mistress matriarch her herself"
)
HE_WORDS = bag(
    "man boy king widower prince father son brother husband monk uncle grandfather nephew groom emperor lord "
    "sorcerer priest patriarch his himself"
)
EN_CUT = bag("that which who whom where when because while but and if unless until as so")
PREPOSITIONS = bag(
    "across into to from through with toward towards over under after for against beyond between on in at "
    "along around behind below beneath inside outside past"
)
DETERMINERS = bag("a an the her his their its my our")

# Polish: a third-person present verb ends the protagonist's noun phrase.
PL_VERBS = bag(
    "odkrywa znajduje wraca próbuje musi dostaje ucieka szuka poznaje budzi traci dziedziczy zostaje staje "
    "ratuje walczy otrzymuje spotyka wyrusza jest ma chce postanawia planuje prowadzi ukrywa kradnie słyszy "
    "widzi przybywa trafia odnajduje zakochuje kupuje sprzedaje buduje pisze czyta zdobywa broni zaczyna "
    "przeżywa odziedziczy musi może uczy ściga tropi bada"
)
PL_VERB_SUFFIXES = ("uje", "ywa", "iwa", "ije")
PL_NOT_OBJECTS = bag("do na w we z ze od po za o u przez przed pod nad przy dla bez że iż gdy kiedy się")
PL_MASCULINE_A = bag("poeta artysta kierowca sędzia mężczyzna turysta dentysta książę wojewoda")

TONE_WORDS = {
    "hopeful": ("hope", "hopeful", "optimis", "uplift", "happy", "happier", "brighter", "warmer", "joy",
                "nadzie", "optymist", "szczęśliw", "radosn", "pogodn"),
    "dark": ("dark", "bleak", "grim", "tragic", "sad", "bitter", "somber", "sombre", "melanchol", "hopeless",
             "mroczn", "ponur", "tragiczn", "smutn", "gorzk", "posępn"),
    "funny": ("funny", "funnier", "comic", "humor", "humour", "lighter", "playful", "witty", "laugh",
              "zabawn", "śmieszn", "humor", "dowcip"),
}
CRAFT_WORDS = bag(
    "tone style voice prose sentence sentences dialogue dialogues pace pacing mood ending endings words word "
    "language register text chapter chapters paragraph paragraphs narration narrator description descriptions "
    "lots lot much many more less very but yet also please make keep use write like feel "
    "ton styl głos proza zdania zdanie dialog dialogi tempo nastrój zakończenie język tekst rozdziały dużo mało "
    "bardzo więcej mniej proszę"
)


def words_of(text: str) -> list[str]:
    return WORD_RE.findall(text or "")


def content_words(text: str, language: str = "en") -> list[str]:
    """The words that carry meaning (no stop words, no short function words), in order, lowercased, unique."""
    stop = STOP_PL if language == "pl" else STOP_EN
    seen: list[str] = []
    for word in words_of(text):
        low = word.lower()
        if low not in stop and len(low) > 2 and low not in seen:
            seen.append(low)
    return seen


def tone_of(text: str | None) -> str | None:
    """'hopeful', 'dark' or 'funny' when the text asks for that tone (English or Polish), else None."""
    low = (text or "").lower()
    hits = {tone: sum(low.count(w) for w in stems) for tone, stems in TONE_WORDS.items()}
    best = max(hits, key=lambda t: hits[t])
    return best if hits[best] else None


def style_moods(style: str | None, language: str = "en") -> list[str]:
    """The describing words of the style instructions ("Quiet, precise, melancholic" → all three), without
    the words that name the writing itself (tone, sentences, dialogue...)."""
    return [w for w in content_words(style or "", language) if w not in CRAFT_WORDS]


def _en_verb(word: str) -> tuple[str, str] | None:
    """(past, base) of an English third-person verb, or None when the word does not look like one."""
    low = word.lower()
    if low in EN_IRREGULAR:
        return EN_IRREGULAR[low]
    if low in NOT_VERBS or not low.endswith("s") or low.endswith(("ss", "us", "is", "ous")) or len(low) < 4:
        return None
    if low.endswith("ies"):
        return low[:-3] + "ied", low[:-3] + "y"
    if low.endswith(("ches", "shes", "sses", "xes", "zes")):
        return low[:-2] + "ed", low[:-2]
    base = low[:-1]
    return (base + "d" if base.endswith("e") else base + "ed"), base


@dataclass(frozen=True)
class Subject:
    """The brief's subject read for the offline engine; empty strings when a part is not there."""

    text: str
    language: str
    role: str = ""  # the protagonist as the subject names them: "wizard apprentice"
    verb: str = ""  # as written: "discovers"
    past: str = ""  # English past: "discovered" (Polish narration is in the present, so the verb as written)
    rest: str = ""  # what follows the verb: "forbidden magic"
    motif: str = ""  # the noun phrase the story turns on: "forbidden magic"
    pronouns: str | None = None
    words: list[str] = field(default_factory=list)

    @property
    def event(self) -> str:
        """The subject as something the protagonist did (no name): 'discovered forbidden magic'."""
        if not self.verb:
            return ""
        return f"{self.verb if self.language == 'pl' else self.past} {self.rest}".strip()

    @property
    def event_present(self) -> str:
        return f"{self.verb} {self.rest}".strip() if self.verb else ""


def read_subject(subject: str, language: str = "en") -> Subject:
    text = str(subject or "").strip().rstrip(".!")
    tokens = text.split()
    found = content_words(text, language)
    if language == "pl":
        return _read_pl(text, tokens, found)
    return _read_en(text, tokens, found)


def _read_en(text: str, tokens: list[str], found: list[str]) -> Subject:
    clean = [t.strip(",;:") for t in tokens]
    if not clean or clean[0].lower() not in {"a", "an", "the"}:
        return Subject(text, "en", words=found)
    for i in range(2, min(len(clean), 8)):
        forms = _en_verb(clean[i])
        if forms is None:
            continue
        role = " ".join(clean[1:i])
        rest = " ".join(clean[i + 1 :])
        return Subject(text, "en", role=role, verb=clean[i].lower(), past=forms[0], rest=rest,
                       motif=_en_motif(clean[i + 1 :]), pronouns=_pronouns(clean), words=found)
    return Subject(text, "en", words=found)


def _en_motif(rest: list[str]) -> str:
    """The first noun phrase after the verb, cut before a clause or a participle: 'a map of roads'."""
    low = [w.lower() for w in rest]
    start, limit = 0, 5
    if low and (low[0] in EN_CUT or low[0] in PREPOSITIONS or low[0].endswith("ed")
                or low[0] in {"back", "away", "home"}):
        start = next((i for i, w in enumerate(low) if w in DETERMINERS and i > 0), len(low))
        limit = 2 if low[0] in EN_CUT else 3
    out: list[str] = []
    for k in range(start, len(low)):
        w = low[k]
        if (out and (w in EN_CUT or (w.endswith("ed") and len(out) >= 2))) or len(out) == limit:
            break
        out.append(rest[k])
    if out and out[0].lower() in {"her", "his", "their", "its", "my", "our"}:
        out[0] = "the"
    if out and out[-1].lower() in STOP_EN:
        out = out[:-1]
    return " ".join(out)


def _pronouns(tokens: list[str]) -> str | None:
    low = {t.lower() for t in tokens}
    if low & SHE_WORDS and not low & HE_WORDS:
        return "she/her"
    if low & HE_WORDS and not low & SHE_WORDS:
        return "he/him"
    return None


def _read_pl(text: str, tokens: list[str], found: list[str]) -> Subject:
    clean = [t.strip(",;:") for t in tokens]
    for i in range(1, min(len(clean), 6)):
        low = clean[i].lower()
        if low in PL_VERBS or (low.endswith(PL_VERB_SUFFIXES) and len(low) > 5):
            role = " ".join(clean[:i])
            role = role[:1].lower() + role[1:] if not clean[0][1:2].isupper() else role
            rest = " ".join(clean[i + 1 :])
            head = clean[0].lower()
            pronouns = "she/her" if head.endswith("a") and head not in PL_MASCULINE_A else "he/him"
            after = clean[i + 1].lower() if len(clean) > i + 1 else ""
            motif = "" if after in PL_NOT_OBJECTS else " ".join(clean[i + 1 : i + 4])
            return Subject(text, "pl", role=role, verb=low, past=low, rest=rest, motif=motif, pronouns=pronouns,
                           words=found)
    return Subject(text, "pl", words=found)
