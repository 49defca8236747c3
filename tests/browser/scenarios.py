"""What people do in the console, driven through a real Chromium.

Each scenario opens its own browser context (its own cookies: one person),
checks every page it visits with PageChecker, and writes what it finds to
the report. The console is never given a shortcut: people click the buttons
a sighted mouse user would click; keyboard use is PageChecker's part.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

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

    page = console.open()
    response = sign_in(console, page, label)
    if not report.expect(
        page.url.endswith(f"/structures/{structure}"), where, "la direction arrive sur « Ma structure »",
        f"arrivée sur {page.url}",
    ):
        page.context.close()
        return
    console.checker.check(page, where, response)

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
    with page.expect_navigation() as navigation:
        row.get_by_role("button", name=re.compile(f"^{choice}")).click()
    response = navigation.value
    console.checker.check(page, f"{where} après « {choice} »", response)
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
    with page.expect_navigation() as navigation:
        form.get_by_role("button", name="Envoyer la demande").click()
    response = navigation.value
    console.checker.check(page, f"{where} (demande d'aide vide)", response)
    select = page.locator("select#function")
    report.expect(
        response is not None and response.status == 422
        and select.get_attribute("aria-invalid") == "true"
        and "function-error" in (select.get_attribute("aria-describedby") or "")
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
    with page.expect_navigation() as navigation:
        page.locator("form[action$='/aide']").get_by_role("button", name="Envoyer la demande").click()
    console.checker.check(page, f"{where} (demande d'aide envoyée)", navigation.value)
    flash = page.locator(".flash").inner_text() if page.locator(".flash").count() else ""
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


COORDINATOR = re.compile(r"^Coordination du réseau (\S+) — ")


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
    coordinator = next((COORDINATOR.match(p.label) for p in profiles if COORDINATOR.match(p.label)), None)
    if coordinator is None:
        report.fail("import (coordination)", "scénario", "aucune coordination sur /connexion")
        return
    network = coordinator.group(1)
    where = f"/reseaux/{network}/import (coordination)"
    page = console.open()
    sign_in(console, page, next(p.label for p in profiles if p.label.startswith(coordinator.group(0))))
    response = console.visit(page, f"/reseaux/{network}/import", where)
    if not report.expect(response is not None and response.status == 200, where, "la page d'import s'ouvre", f"statut {response.status if response else None}"):
        page.context.close()
        return
    console.screenshot(page, "import-coordination")
    with tempfile.TemporaryDirectory() as work:
        book, places = workbook_with_three_errors(console, network, Path(work))
        page.locator("input#fichiers").set_input_files(str(book))
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Vérifier et importer").click()
        response = navigation.value
    console.checker.check(page, f"{where} (classeur avec 3 erreurs)", response)
    items = [" ".join(li.inner_text().split()) for li in page.locator("ul.import-errors li").all()]
    found = [any(item.startswith(place) for item in items) for place in places]
    report.expect(
        response is not None and response.status == 422 and len(items) == 3 and all(found),
        where, "les 3 erreurs du classeur sont listées, chacune « inventaire.xlsx/FEUILLE:LIGNE: … »",
        f"statut {response.status if response else None}\nattendu : {places}\naffiché :\n  " + "\n  ".join(items),
    )
    field = page.locator("input#fichiers")
    report.expect(
        field.get_attribute("aria-invalid") == "true" and "fichiers-error" in (field.get_attribute("aria-describedby") or ""),
        where, "le champ du fichier est marqué invalide et lié au message", f"aria-describedby={field.get_attribute('aria-describedby')}",
    )
    console.screenshot(page, "import-erreurs")
    page.context.close()
