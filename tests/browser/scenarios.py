"""What people do in the console, driven through a real Chromium.

Each scenario opens its own browser context (its own cookies: one person),
checks every page it visits with PageChecker, and writes what it finds to
the report. The console is never given a shortcut: people click the buttons
a sighted mouse user would click; keyboard use is PageChecker's part.
"""

from __future__ import annotations

import calendar
import datetime
import json
import os
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from playwright.sync_api import Browser, Page, Response

from checks import PageChecker
from report import Report

DIRECTOR = re.compile(r"^Direction de (S\d+) — (.+)$")

# The band codes of `vigie inventory fragility --format json` in the words a
# person reads (services/console/src/labels.rs says them; this is the oracle).
ACKNOWLEDGEMENTS = ["Déposé", "En cours", "Pas concerné"]
BAND_WORDS = {"low": "faible", "moderate": "modérée", "high": "élevée", "critical": "critique", "unknown": "inconnue"}


@dataclass
class Profile:
    group: str
    label: str


@dataclass
class Console:
    """The console under test and what the scenarios share."""

    url: str
    grpc: str
    vigie: str
    browser: Browser
    checker: PageChecker
    report: Report
    screenshots: Path | None

    def open(self) -> Page:
        """A new person: a fresh context (no cookie), its console errors watched."""
        context = self.browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        self.checker.watch(page)
        return page

    def visit(self, page: Page, path: str, where: str) -> Response | None:
        response = page.goto(self.url + path)
        self.checker.check(page, where, response)
        return response

    def follow(self, page: Page, act: Callable[[], None], where: str) -> Response | None:
        """Does what leads to another page (a click, a key), waits for that
        page and checks it: every step of a scenario that changes page."""
        with page.expect_navigation() as navigation:
            act()
        response = navigation.value
        self.checker.check(page, where, response)
        return response

    def arrive(self, label: str, where: str, path: str, what: str) -> Page | None:
        """A new person signs in as `label` and lands on `path` (checked), or
        the scenario fails there (`what` says where she should land)."""
        page = self.open()
        response = sign_in(self, page, label)
        if not self.report.expect(page.url.endswith(path), where, what, f"arrivée sur {page.url}"):
            page.context.close()
            return None
        self.checker.check(page, where, response)
        return page

    def screenshot(self, page: Page, name: str) -> None:
        if self.screenshots is not None:
            self.screenshots.mkdir(parents=True, exist_ok=True)
            # The keyboard walk left a focus ring somewhere: not part of the picture.
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            page.screenshot(path=str(self.screenshots / f"{name}.png"), full_page=True)

    def cli_json(self, *args: str) -> dict:
        """`vigie <args> --format json` against the same services, as the API's word."""
        command = [self.vigie, *args, "--format", "json", "--endpoint", self.grpc]
        env = {**os.environ, "LANG": "fr_FR.UTF-8"}
        for name in ("VIGIE_TOKEN", "VIGIE_AUTH", "VIGIE_OIDC_ISSUER", "VIGIE_OIDC_AUDIENCE"):
            env.pop(name, None)
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} a échoué :\n{done.stderr}")
        return json.loads(done.stdout)


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def flash_message(page: Page) -> str:
    """The message the previous action left at the top of the page, if any."""
    return page.locator(".flash").inner_text() if page.locator(".flash").count() else ""


def marked_invalid(page: Page, field: str) -> bool:
    """The field `#<field>` is marked invalid and described by its error `#<field>-error`."""
    element = page.locator(f"#{field}")
    return element.get_attribute("aria-invalid") == "true" and f"{field}-error" in (element.get_attribute("aria-describedby") or "")


def first_coordinator(profiles: list[Profile]) -> tuple[str, str] | None:
    """The network and the label of the first coordination profile of /connexion."""
    found = next((COORDINATOR.match(p.label) for p in profiles if COORDINATOR.match(p.label)), None)
    if found is None:
        return None
    return found.group(1), next(p.label for p in profiles if p.label.startswith(found.group(0)))


def coordinator_signed_in(console: Console, profiles: list[Profile], scenario: str) -> tuple[Page, str] | None:
    """The first coordinator, signed in, and her network; or `scenario` fails."""
    coordinator = first_coordinator(profiles)
    if coordinator is None:
        console.report.fail(scenario, "scénario", "aucune coordination sur /connexion")
        return None
    (network, label) = coordinator
    page = console.open()
    sign_in(console, page, label)
    return page, network


def send_file(console: Console, page: Page, field: str, path: Path, where: str) -> Response | None:
    """Chooses `path` in the file field `#<field>` and sends it (« Vérifier et importer »)."""
    page.locator(f"input#{field}").set_input_files(str(path))
    return console.follow(page, page.get_by_role("button", name="Vérifier et importer").click, where)


def expect_file_marked_invalid(console: Console, page: Page, field: str, where: str) -> None:
    """After a refused upload, its file field `#<field>` is marked invalid and tied to the message."""
    console.report.expect(
        marked_invalid(page, field), where, "le champ du fichier est marqué invalide et lié au message",
        f"aria-describedby={page.locator(f'#{field}').get_attribute('aria-describedby')}",
    )


def error_lines(page: Page) -> list[str]:
    """The lines of a refused upload, white space folded."""
    return [" ".join(li.inner_text().split()) for li in page.locator("ul.import-errors li").all()]


def sign_in(console: Console, page: Page, label: str) -> Response | None:
    """Clicks the profile's button on /connexion (a form POST, then a redirect home)."""
    page.goto(console.url + "/connexion")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=label, exact=True).click()
    return navigation.value


def connexion(console: Console) -> list[Profile]:
    """The sign-in page lists every kind of demo profile; returns them."""
    where = "/connexion"
    page = console.open()
    console.visit(page, "/connexion", where)
    console.screenshot(page, "connexion")
    profiles = []
    for section in page.locator("main section").all():
        group = section.locator("h2").inner_text().strip()
        for button in section.get_by_role("button").all():
            profiles.append(Profile(group, button.inner_text().strip()))
    labels = [p.label for p in profiles]
    report = console.report
    report.expect(any(l.startswith("Fédération") for l in labels), where, "un profil Fédération", "\n".join(labels))
    report.expect(any(l.startswith("Coordination du réseau") for l in labels), where, "des profils de coordination", "\n".join(labels))
    directors = [l for l in labels if DIRECTOR.match(l)]
    report.expect(
        len(directors) >= 2, where, "des directions nommées « Direction de S000004 — … »",
        f"{len(directors)} trouvée(s) parmi :\n" + "\n".join(labels),
    )
    page.context.close()
    return profiles


def home_pages(console: Console, profiles: list[Profile]) -> None:
    """The first profile of each group signs in and lands on its own home page."""
    seen: set[str] = set()
    for profile in profiles:
        if profile.group in seen:
            continue
        seen.add(profile.group)
        where = f"accueil de « {profile.label} »"
        page = console.open()
        response = sign_in(console, page, profile.label)
        ok = console.report.expect(
            response is not None and response.status == 200 and "/connexion" not in page.url,
            where, "la connexion mène à une page d'accueil",
            f"statut {response.status if response else None}, adresse {page.url}",
        )
        if ok:
            console.checker.check(page, where, response)
            console.screenshot(page, f"accueil-{slug(profile.group)}")
        page.context.close()


def director(console: Console, profiles: list[Profile]) -> None:
    """A director sees her structure as the API describes it, acknowledges a
    deadline, and gets "introuvable" for another structure."""
    directors = [(DIRECTOR.match(p.label), p.label) for p in profiles if DIRECTOR.match(p.label)]
    if len(directors) < 2:
        console.report.fail("direction", "scénario", "moins de deux directions sur /connexion")
        return
    # S000004 is the structure the docs use as their example; else the first.
    (match, label) = next((d for d in directors if d[0].group(1) == "S000004"), directors[0])
    structure = match.group(1)
    other = next(d[0].group(1) for d in directors if d[0].group(1) != structure)
    report = console.report
    where = f"/structures/{structure} (direction)"

    page = console.arrive(label, where, f"/structures/{structure}", "la direction arrive sur « Ma structure »")
    if page is None:
        return

    expected = console.cli_json("inventory", "fragility", "--structure", structure)
    band = page.locator("#fragilite").locator("xpath=..").inner_text()
    words = BAND_WORDS.get(expected["band"], expected["band"])
    report.expect(f"Fragilité {words}" in band, where, f"la fragilité en mots (« {words} », comme l'API)", band)
    if expected.get("score") is not None:
        report.expect(
            f"score de {expected['score']} sur 100" in band, where, f"le score {expected['score']} sur 100, comme l'API", band,
        )
    shown = sorted(" ".join(e.inner_text().split()) for e in page.locator(".explanation").all())
    api = sorted(" ".join(e.split()) for e in expected["explanations"])
    report.expect(
        shown == api and bool(api), where, f"les {len(api)} explications sont celles de l'API, mot pour mot",
        "page :\n  " + "\n  ".join(shown) + "\nAPI :\n  " + "\n  ".join(api),
    )
    acknowledge(console, page, where)
    page.goto(console.url + f"/structures/{structure}")
    ask_for_help(console, page, where, structure, profiles)

    # Someone else's structure and a structure that does not exist: the same page.
    foreign = console.visit(page, f"/structures/{other}", f"/structures/{other} (structure d'une autre)")
    foreign_text = page.locator("main").inner_text()
    report.expect(
        foreign is not None and foreign.status == 404 and "introuvable" in foreign_text.lower(),
        where, f"la structure {other} d'une autre direction est « introuvable » (404)",
        f"statut {foreign.status if foreign else None} :\n{foreign_text}",
    )
    missing = page.goto(console.url + "/structures/S999999")
    report.expect(
        missing is not None and missing.status == 404 and page.locator("main").inner_text() == foreign_text.replace(other, "S999999"),
        where, "une structure hors de portée répond comme une structure inconnue",
        f"hors de portée :\n{foreign_text}\ninconnue (statut {missing.status if missing else None}) :\n{page.locator('main').inner_text()}",
    )
    page.context.close()


def acknowledge(console: Console, page: Page, where: str) -> None:
    """Indicates a follow-up on the first deadline (one it does not show yet)
    and finds it shown after the round trip through the services."""
    rows = page.locator("#echeances").locator("xpath=..").locator("tbody tr")
    if rows.count() == 0:
        console.report.fail(where, "une échéance à indiquer", "aucune échéance n'est listée pour cette structure")
        return
    row = rows.first
    title = " ".join(row.locator("th").inner_text().split())
    before = row.locator("td").nth(1).inner_text().strip()
    choice = next(c for c in ACKNOWLEDGEMENTS if c not in before)
    console.follow(page, row.get_by_role("button", name=re.compile(f"^{choice}")).click, f"{where} après « {choice} »")
    after = page.locator("#echeances").locator("xpath=..").locator("tbody tr").filter(has=page.locator("th", has_text=title))
    status = after.first.locator("td").nth(1).inner_text() if after.count() else "(ligne disparue)"
    console.report.expect(
        choice in status, where, f"l'échéance « {title} » passe de « {before} » à « {choice} »", f"suivi affiché : {status!r}",
    )


def ask_for_help(console: Console, page: Page, where: str, structure: str, profiles: list[Profile]) -> None:
    """The help form: an empty one shows its errors tied to their fields; a
    filled one reaches the facilitation service, and the facilitator it was
    offered to sees the request on her own home page."""
    report = console.report
    form = page.locator("form[action$='/aide']")
    response = console.follow(page, form.get_by_role("button", name="Envoyer la demande").click, f"{where} (demande d'aide vide)")
    select = page.locator("select#function")
    report.expect(
        response is not None and response.status == 422
        and marked_invalid(page, "function")
        and page.locator("#function-error").is_visible()
        and "description-error" in (page.locator("textarea#description").get_attribute("aria-describedby") or ""),
        where, "une demande vide est refusée, chaque erreur liée à son champ",
        f"statut {response.status if response else None}, select aria-invalid={select.get_attribute('aria-invalid')}",
    )

    option = select.locator("option").nth(1)
    function_label = option.inner_text().strip()
    select.select_option(value=option.get_attribute("value"))
    page.locator("textarea#description").fill(
        "Personne d'autre que moi ne sait faire cette tâche ; nous aimerions être deux (essai du navigateur)."
    )
    console.follow(page, page.locator("form[action$='/aide']").get_by_role("button", name="Envoyer la demande").click, f"{where} (demande d'aide envoyée)")
    flash = flash_message(page)
    offered = re.search(r"proposée à (.+?)\.?$", flash.strip())
    if not report.expect(
        offered is not None, where, f"la demande d'aide ({function_label}) est proposée à un conseiller",
        f"message affiché : {flash!r}",
    ):
        return
    name = offered.group(1)
    facilitator = next((p for p in profiles if p.label.startswith(f"{name} — ")), None)
    if not report.expect(facilitator is not None, where, f"{name} est un profil de /connexion", name):
        return
    other = console.open()
    response = sign_in(console, other, facilitator.label)
    seen_where = f"accueil de « {facilitator.label} »"
    console.checker.check(other, seen_where, response)
    rows = other.locator("tbody tr").filter(has=other.locator("th", has_text=structure)).filter(has_text="demande de la structure")
    report.expect(
        rows.count() >= 1, seen_where, f"le conseiller voit la demande d'aide de {structure}",
        other.locator("main").inner_text()[:2000],
    )
    other.context.close()


def facilitator(console: Console, profiles: list[Profile]) -> None:
    """A facilitator lands on their home, accepts a proposal offered to them,
    and records an intervention with the keyboard only: a first try without
    the duration shows the error next to its field and keeps what was chosen;
    the second is recorded."""
    report = console.report
    proposals = console.cli_json("facilitation", "proposals")
    offered = next((p for p in proposals if p["status"] == "offered" and p["facilitator_name"]), None)
    if not report.expect(offered is not None, "accompagnement", "une proposition offerte à un conseiller", json.dumps(proposals)[:2000]):
        return
    name = offered["facilitator_name"]
    profile = next((p for p in profiles if p.label.startswith(f"{name} — ")), None)
    if not report.expect(profile is not None, "accompagnement", f"{name} est un profil de /connexion", name):
        return
    where = f"/accompagnement ({profile.label})"
    page = console.arrive(profile.label, where, "/accompagnement", "le conseiller arrive sur « Accompagnement »")
    if page is None:
        return

    # Accept with the keyboard: focus the button, press Enter.
    accept = page.locator(f"form:has(input[name='request_id'][value='{offered['request_id']}'])").get_by_role(
        "button", name=re.compile("^Accepter"))
    accept.focus()
    console.follow(page, lambda: page.keyboard.press("Enter"), f"{where} après « Accepter »")
    flash = flash_message(page)
    report.expect("Vous avez accepté" in flash, where, "l'acceptation est confirmée", flash)

    link = page.locator(f"a[href='/accompagnement/demandes/{offered['request_id']}']")
    if not report.expect(link.count() == 1, where, "un lien pour noter l'intervention", page.locator("main").inner_text()[:2000]):
        page.context.close()
        return
    link.focus()
    form_where = f"/accompagnement/demandes/{offered['request_id']}"
    console.follow(page, lambda: page.keyboard.press("Enter"), form_where)
    for label in ["Accompagnement individuel", "Atelier collectif", "Lieu d’activité", "Réseaux sociaux communication"]:
        report.expect(page.get_by_text(label, exact=True).count() >= 1, form_where, f"le vocabulaire du CRA : « {label} »", "absent")

    def choose(selector: str, presses: int) -> None:
        page.locator(selector).focus()
        for _ in range(presses):
            page.keyboard.press("ArrowDown")

    # First try: everything but the duration.
    choose("#beneficiary", 1)  # « un besoin interne »
    choose("#person", 1)  # the first member of the structure
    choose("#autonomy-before", 2)  # 1 — avec guidage
    choose("#autonomy-after", 4)  # 3 — autonome
    page.locator("#theme-bureautique").focus()
    page.keyboard.press("Space")
    page.locator("form[action^='/accompagnement/demandes/'] button[type=submit]").focus()
    response = console.follow(page, lambda: page.keyboard.press("Enter"), f"{form_where} (sans durée)")
    minutes = page.locator("#minutes")
    report.expect(
        response is not None and response.status == 422
        and marked_invalid(page, "minutes")
        and page.locator("#minutes-error").is_visible()
        and page.locator("#beneficiary").input_value() == "internal"
        and page.locator("#autonomy-after").input_value() == "3"
        and page.locator("#theme-bureautique").is_checked(),
        form_where, "sans durée : l'erreur est liée au champ, rien de ce qui était choisi n'est perdu",
        f"statut {response.status if response else None}, minutes aria-invalid={minutes.get_attribute('aria-invalid')}",
    )
    minutes.focus()
    page.keyboard.type("45")
    console.follow(page, lambda: page.keyboard.press("Enter"), f"{where} après l'intervention")  # submits the form from the text field
    flash = flash_message(page)
    report.expect("Intervention notée : 45 min" in flash, where, "l'intervention est enregistrée", flash)
    page.context.close()


TRAINER = re.compile(r"^Formateur·rice du réseau (.+)$")


def trainer(console: Console, profiles: list[Profile]) -> None:
    """A trainer lands on the sessions, enrols a person of her network (a
    first try without the person shows the error next to its field), then
    records the completion; the API counts the enrolment."""
    report = console.report
    profile = next((p for p in profiles if TRAINER.match(p.label)), None)
    if not report.expect(profile is not None, "formations", "un profil de formateur·rice", ""):
        return
    network = TRAINER.match(profile.label).group(1)
    structures = console.cli_json("inventory", "fragility")
    person = next(
        (h for s in structures if s["network"] == network for f in s["functions"] for h in f["holders"]), None)
    sessions = console.cli_json("training", "sessions")
    session = next((s for s in sessions if s["enrolled"] < s["capacity"]), None)
    if not report.expect(person is not None and session is not None, "formations", "une personne du réseau et une session libre", ""):
        return
    where = f"/formations ({profile.label})"
    page = console.arrive(profile.label, where, "/formations", "la formatrice arrive sur « Formations »")
    if page is None:
        return
    rows = page.locator("#sessions").locator("xpath=..").locator("tbody tr")
    report.expect(rows.count() == len(sessions), where, f"les {len(sessions)} sessions de l'API", f"{rows.count()} lignes")

    page.locator("select#session").select_option(value=session["session_id"])
    response = console.follow(page, page.get_by_role("button", name="Inscrire", exact=True).click, f"{where} (sans personne)")
    field = page.locator("input#person")
    report.expect(
        response is not None and response.status == 422 and marked_invalid(page, "person")
        and page.locator("select#session").input_value() == session["session_id"],
        where, "sans personne : l'erreur est liée au champ, la session reste choisie",
        f"statut {response.status if response else None}",
    )
    field.fill(person)
    console.follow(page, page.get_by_role("button", name="Inscrire", exact=True).click, f"{where} après l'inscription")
    flash = flash_message(page)
    report.expect(person in flash and "inscrite" in flash, where, f"{person} est inscrite", flash)
    after = next(s for s in console.cli_json("training", "sessions") if s["session_id"] == session["session_id"])
    report.expect(after["enrolled"] == session["enrolled"] + 1, where, "l'API compte l'inscription", json.dumps(after))

    page.locator("select#session").select_option(value=session["session_id"])
    page.locator("input#person").fill(person)
    console.follow(page, page.get_by_role("button", name="Noter la formation suivie", exact=True).click, f"{where} après « formation suivie »")
    flash = flash_message(page)
    report.expect("formation terminée" in flash, where, "la formation est notée comme suivie", flash)
    page.context.close()


def director_levels(console: Console, profiles: list[Profile]) -> None:
    """The director of S000004 sets a colleague's level on a function nobody
    holds: a first try without the level shows the error next to its field;
    after saving, the page's score is the API's new one."""
    report = console.report
    label = next((p.label for p in profiles if p.label.startswith("Direction de S000004 — ")), None)
    if not report.expect(label is not None, "niveaux", "la direction de S000004", ""):
        return
    where = "/structures/S000004 (niveaux)"
    before = console.cli_json("inventory", "fragility", "--structure", "S000004")
    function = (before["orphan_functions"] or before["spof_functions"] or [None])[0]
    holders = next((f["holders"] for f in before["functions"] if f["code"] == function), [])
    page = console.open()
    sign_in(console, page, label)
    people = [o.get_attribute("value") for o in page.locator("select#holding-person option").all()]
    person = next((p for p in people if p and p not in holders), None)
    if not report.expect(function is not None and person is not None, where, "une fonction fragile et une personne", f"{function} {people}"):
        page.context.close()
        return
    page.locator("select#holding-function").select_option(value=function)
    page.locator("select#holding-person").select_option(value=person)
    response = console.follow(page, page.get_by_role("button", name="Enregistrer le niveau").click, f"{where} (sans niveau)")
    level = page.locator("select#holding-level")
    report.expect(
        response is not None and response.status == 422 and marked_invalid(page, "holding-level")
        and page.locator("select#holding-person").input_value() == person,
        where, "sans niveau : l'erreur est liée au champ, la personne reste choisie",
        f"statut {response.status if response else None}",
    )
    level.select_option(value="3")
    console.follow(page, page.get_by_role("button", name="Enregistrer le niveau").click, f"{where} après l'enregistrement")
    after = console.cli_json("inventory", "fragility", "--structure", "S000004")
    band = page.locator("#fragilite").locator("xpath=..").inner_text()
    report.expect(
        after.get("score") is not None and f"score de {after['score']} sur 100" in band
        and person in next((f["holders"] for f in after["functions"] if f["code"] == function), []),
        where, f"la page montre le nouveau score de l'API ({before.get('score')} → {after.get('score')})", band,
    )
    page.context.close()


def report_due_in_a_week() -> tuple[str, str]:
    """A financial year end whose financial report (year end + 6 months, a
    month end staying a month end) falls due in about a week; and today."""
    today = datetime.date.today()
    due = today + datetime.timedelta(days=7)
    year, month = (due.year, due.month - 6) if due.month > 6 else (due.year - 1, due.month + 6)
    day = min(due.day, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day).isoformat(), today.isoformat()


def director_grants(console: Console, profiles: list[Profile]) -> None:
    """The director of S000004 records an application to a funder, then the
    grant won: without its financial year end first (the error next to its
    field, the choices kept), then whole; the page shows the report due.
    Her network's coordinator sees the funder's programme on the network
    page (« Subventions du réseau »)."""
    report = console.report
    label = next((p.label for p in profiles if p.label.startswith("Direction de S000004 — ")), None)
    if not report.expect(label is not None, "subventions", "la direction de S000004", ""):
        return
    where = "/structures/S000004 (subventions)"
    funder, title = "Région Bretagne", "Jardins partagés du quartier"
    page = console.open()
    sign_in(console, page, label)
    page.locator("#application-funder").fill(funder)
    page.locator("#application-title").fill(title)
    page.locator("#application-amount").fill("15 000")
    console.follow(page, page.get_by_role("button", name="Enregistrer la candidature").click, f"{where} après la candidature")
    grants = page.locator("table.grants").inner_text() if page.locator("table.grants").count() else ""
    report.expect(title in grants and "déposée" in grants, where, "la candidature est dans le tableau", grants)

    choice = f"{funder} — {title}"
    page.locator("select#decision-grant").select_option(label=choice)
    page.locator("select#decision-outcome").select_option(value="won")
    page.locator("#decision-amount").fill("12 500")
    response = console.follow(page, page.get_by_role("button", name="Enregistrer la décision").click, f"{where} (décision sans fin d'exercice)")
    year_end_field = page.locator("#decision-year-end")
    report.expect(
        response is not None and response.status == 422 and marked_invalid(page, "decision-year-end")
        and page.locator("select#decision-outcome").input_value() == "won",
        where, "sans fin d'exercice : l'erreur est liée au champ, la décision reste choisie",
        f"statut {response.status if response else None}",
    )
    year_end, _ = report_due_in_a_week()
    year_end_field.fill(year_end)
    console.follow(page, page.get_by_role("button", name="Enregistrer la décision").click, f"{where} après la décision")
    duties = page.locator("table.duties").inner_text() if page.locator("table.duties").count() else ""
    report.expect(
        "compte rendu financier" in duties and funder in duties, where,
        "le compte rendu financier dû au financeur est listé", duties,
    )
    console.screenshot(page, "subventions-direction")

    # « Marquer comme envoyé » on the report's row, then « Annuler »: each
    # answer page passes the four checks.
    row = page.locator("table.duties tbody tr").filter(has_text=title)
    console.follow(page, row.get_by_role("button", name=re.compile("^Marquer comme envoyé")).click, f"{where} (compte rendu marqué envoyé)")
    row = page.locator("table.duties tbody tr").filter(has_text=title)
    state = row.inner_text() if row.count() else ""
    report.expect(
        "Envoyé le" in state and row.get_by_role("button", name=re.compile("^Annuler")).count() == 1,
        where, "le compte rendu est « Envoyé le … », avec « Annuler »", state,
    )
    console.screenshot(page, "subventions-envoye")
    console.follow(page, row.get_by_role("button", name=re.compile("^Annuler")).click, f"{where} (envoi annulé)")
    row = page.locator("table.duties tbody tr").filter(has_text=title)
    report.expect(
        row.get_by_role("button", name=re.compile("^Marquer comme envoyé")).count() == 1,
        where, "« Annuler » remet le compte rendu à envoyer", row.inner_text() if row.count() else "",
    )
    page.context.close()

    network = console.cli_json("inventory", "fragility", "--structure", "S000004").get("network", "")
    coordinator_label = next((p.label for p in profiles if p.label.startswith(f"Coordination du réseau {network} — ")), None)
    if not report.expect(coordinator_label is not None, where, f"la coordination du réseau {network}", ""):
        return
    page = console.open()
    sign_in(console, page, coordinator_label)
    where = f"/reseaux/{network} (subventions)"
    console.visit(page, f"/reseaux/{network}#subventions", where)
    funders = page.locator("table.funders").inner_text() if page.locator("table.funders").count() else ""
    report.expect(title in funders and "100,0" in funders, where, "le programme du financeur et son taux de réussite", funders)
    page.locator("#subventions").scroll_into_view_if_needed()
    console.screenshot(page, "subventions-reseau")
    page.context.close()


COORDINATOR = re.compile(r"^Coordination du réseau (\S+) — ")


def coordinator(console: Console, profiles: list[Profile]) -> None:
    """A network's coordinator lands on her network's page, which lists the
    structures the API gives; she filters them by band with the keyboard
    only, and sets the network's reminder policy (an error shown next to its
    field first; the webhook secret never shown back)."""
    found = first_coordinator(profiles)
    if found is None:
        console.report.fail("coordination", "scénario", "aucun profil de coordination sur /connexion")
        return
    (network, label) = found
    report = console.report
    where = f"/reseaux/{network} (coordination)"
    page = console.arrive(label, where, f"/reseaux/{network}", "la coordination arrive sur la page de son réseau")
    if page is None:
        return

    api = console.cli_json("inventory", "fragility", "--network", network)
    caption = page.locator("table.structures caption").inner_text()
    report.expect(
        f"({len(api)})" in caption, where, f"le tableau compte les {len(api)} structures que l'API donne pour le réseau",
        caption,
    )

    # The filter form, with the keyboard only: the band of the first row.
    first_band = page.locator("table.structures tbody tr").first.locator("td").first.inner_text().strip()
    options = [o.inner_text().strip() for o in page.locator("select#bande option").all()]
    if not report.expect(first_band in options, where, f"la fragilité « {first_band} » est un choix du filtre", str(options)):
        page.context.close()
        return
    page.locator("select#bande").focus()
    for _ in range(options.index(first_band)):
        page.keyboard.press("ArrowDown")
    # Band → function → minimum score → sort → the button.
    for _ in range(4):
        page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement && document.activeElement.innerText")
    report.expect(focused == "Afficher", where, "Tab mène du filtre au bouton « Afficher »", repr(focused))
    console.follow(page, lambda: page.keyboard.press("Enter"), f"{where} filtrée au clavier")
    bands = {c.inner_text().strip() for c in page.locator("table.structures tbody tr td:first-of-type").all()}
    code = next((k for k, v in BAND_WORDS.items() if v == first_band), first_band)
    expected = sum(1 for s in api if s["band"] == code)
    report.expect(
        "bande=" in page.url and bands == {first_band}
        and f"({expected})" in page.locator("table.structures caption").inner_text(),
        where, f"le filtre garde les {expected} structures de fragilité « {first_band} », et elles seules",
        f"adresse {page.url}, fragilités affichées {sorted(bands)}",
    )

    # The reminder policy: an unknown time zone is refused next to its field.
    page.goto(console.url + f"/reseaux/{network}#rappels")
    secret = "secret-du-navigateur-assez-long"
    page.locator("#policy-referent_name").fill("Référente du navigateur")
    page.locator("#policy-timezone").fill("Mars/Olympus")
    page.locator("#policy-webhook_secret").fill(secret)
    response = console.follow(page, page.get_by_role("button", name="Enregistrer les rappels").click, f"{where} (rappels refusés)")
    zone = page.locator("#policy-timezone")
    report.expect(
        response is not None and response.status == 422 and marked_invalid(page, "policy-timezone")
        and page.locator("#policy-timezone-error").is_visible()
        and page.locator("#policy-referent_name").input_value() == "Référente du navigateur",
        where, "un fuseau inconnu est refusé à côté de son champ, le reste de la saisie gardé",
        f"statut {response.status if response else None}, aria-invalid={zone.get_attribute('aria-invalid')}",
    )
    zone.fill("America/Cayenne")
    page.locator("#policy-webhook_url").fill("https://hooks.example.invalid/navigateur")
    page.locator("#policy-webhook_secret").fill(secret)
    console.follow(page, page.get_by_role("button", name="Enregistrer les rappels").click, f"{where} (rappels enregistrés)")
    stored = console.cli_json("alerts", "policy", "--network", network)
    report.expect(
        stored.get("timezone") == "America/Cayenne" and stored.get("webhook_secret_set") is True
        and page.locator("#policy-timezone").input_value() == "America/Cayenne"
        and secret not in page.content(),
        where, "les rappels sont enregistrés, relus de l'API, et le secret n'est jamais réaffiché",
        json.dumps(stored, ensure_ascii=False),
    )
    page.context.close()


def cli(console: Console, *args: str) -> str:
    """`vigie <args>` against the same services (offline commands ignore the endpoint)."""
    command = [console.vigie, *args]
    env = {**os.environ, "LANG": "fr_FR.UTF-8"}
    for name in ("VIGIE_TOKEN", "VIGIE_AUTH", "VIGIE_OIDC_ISSUER", "VIGIE_OIDC_AUDIENCE"):
        env.pop(name, None)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} a échoué :\n{done.stderr}")
    return done.stdout


def workbook_with_three_errors(console: Console, network: str, work: Path) -> tuple[Path, list[str]]:
    """The network's inventory (CLI export) with one error in each of three
    sheets, as a workbook (`vigie inventory template --from`); returns it and
    the places the page must name."""
    import csv

    folder = work / "jeu"
    cli(console, "inventory", "export", "--network", network, "--out", str(folder), "--endpoint", console.grpc)

    def rows(name: str) -> list[list[str]]:
        with open(folder / name, newline="", encoding="utf-8") as f:
            return list(csv.reader(f))

    def write(name: str, content: list[list[str]]) -> None:
        with open(folder / name, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(content)

    structures = rows("structures.csv")
    structures[1][1] = ""  # an empty name
    write("structures.csv", structures)
    people = rows("people.csv")
    people.append(["PX1", "S999999", "Inconnu", "director", "", ""])  # an unknown structure
    write("people.csv", people)
    functions = rows("functions.csv")
    functions[1][2] = "9"  # a criticality out of 1–3
    write("functions.csv", functions)
    book = work / "inventaire.xlsx"
    cli(console, "inventory", "template", "--from", str(folder), "--out", str(book))
    return book, ["inventaire.xlsx/structures:2: ", f"inventaire.xlsx/people:{len(people)}: ", "inventaire.xlsx/functions:2: "]


def coordinator_import(console: Console, profiles: list[Profile]) -> None:
    """A coordinator opens her network's import page, sends a workbook with
    three errors and sees every one as FILE:LINE, the field marked invalid."""
    import tempfile

    report = console.report
    signed_in = coordinator_signed_in(console, profiles, "import (coordination)")
    if signed_in is None:
        return
    (page, network) = signed_in
    where = f"/reseaux/{network}/import (coordination)"
    response = console.visit(page, f"/reseaux/{network}/import", where)
    if not report.expect(response is not None and response.status == 200, where, "la page d'import s'ouvre", f"statut {response.status if response else None}"):
        page.context.close()
        return
    console.screenshot(page, "import-coordination")
    with tempfile.TemporaryDirectory() as work:
        book, places = workbook_with_three_errors(console, network, Path(work))
        response = send_file(console, page, "fichiers", book, f"{where} (classeur avec 3 erreurs)")
    items = error_lines(page)
    found = [any(item.startswith(place) for item in items) for place in places]
    report.expect(
        response is not None and response.status == 422 and len(items) == 3 and all(found),
        where, "les 3 erreurs du classeur sont listées, chacune « inventaire.xlsx/FEUILLE:LIGNE: … »",
        f"statut {response.status if response else None}\nattendu : {places}\naffiché :\n  " + "\n  ".join(items),
    )
    expect_file_marked_invalid(console, page, "fichiers", where)
    console.screenshot(page, "import-erreurs")
    page.context.close()


def coordinator_grants_import(console: Console, profiles: list[Profile]) -> None:
    """A coordinator opens « Importer des subventions » from her network's
    page and sends a sheet with one bad amount: the error listed as
    FILE:LINE, the field marked invalid; then the corrected sheet: the
    summary. Every page passes the four checks (axe, keyboard…)."""
    import tempfile

    report = console.report
    signed_in = coordinator_signed_in(console, profiles, "import des subventions")
    if signed_in is None:
        return
    (page, network) = signed_in
    where = f"/reseaux/{network}/subventions/import (coordination)"
    response = console.follow(page, page.get_by_role("link", name=re.compile("^Importer des subventions")).click, where)
    if not report.expect(response is not None and response.status == 200 and page.url.endswith("/subventions/import"), where, "la page d'import des subventions s'ouvre depuis la page du réseau", page.url):
        page.context.close()
        return
    console.screenshot(page, "subventions-import")
    structure = next(
        (s.get("structure_id", "") for s in console.cli_json("inventory", "fragility") if s.get("network") == network),
        "",
    )
    header = "structure,financeur,intitulé,montant demandé,issue,montant accordé,fin d'exercice\n"
    good = f"{structure},Fondation des navigateurs,Atelier clavier,3000,,,\n"
    with tempfile.TemporaryDirectory() as work:
        sheet = Path(work) / "subventions.csv"
        sheet.write_text(header + good + f"{structure},Fondation des navigateurs,Atelier souris,beaucoup,,,\n", encoding="utf-8")
        response = send_file(console, page, "fichier", sheet, f"{where} (une ligne fausse)")
        items = error_lines(page)
        report.expect(
            response is not None and response.status == 422 and len(items) == 1 and items[0].startswith("subventions.csv:3: "),
            where, "l'erreur est listée « subventions.csv:3: … »",
            f"statut {response.status if response else None}\naffiché :\n  " + "\n  ".join(items),
        )
        expect_file_marked_invalid(console, page, "fichier", where)
        console.screenshot(page, "subventions-import-erreurs")
        sheet.write_text(header + good, encoding="utf-8")
        send_file(console, page, "fichier", sheet, f"{where} (corrigé)")
        body = page.locator("main").inner_text()
        report.expect("Import terminé (subventions.csv) : 1 ligne(s) créée(s)" in body, where, "le résumé de l'import", body[:400])
    page.context.close()
