"""The console's OIDC sign-in in a real browser (`vigie dev` with an OIDC
issuer and `--oidc-client-id`, the testkit's issuer signing in a structure
manager without a form): the browser follows the redirects to the issuer and
back, lands on her structure, signs out through the issuer's end-session
endpoint to the goodbye page; an answer without a sign-in under way gets
« Connexion expirée ». Every page reached is audited like the others."""

from __future__ import annotations

import re

from scenarios import Console


def sign_in_and_out(console: Console) -> None:
    report = console.report
    page = console.open()
    # /connexion → the issuer → /connexion/retour → / → her structure.
    response = page.goto(console.url + "/connexion")
    where = "structure (connexion OIDC)"
    if not report.expect(
        re.search(r"/structures/S\d+$", page.url) is not None and page.url.startswith(console.url),
        where, "la connexion OIDC mène à « Ma structure »", f"arrivée sur {page.url}",
    ):
        page.context.close()
        return
    console.checker.check(page, where, response)
    report.expect(
        "Connecté·e :" in page.locator("header").inner_text(), where, "le nom de la personne dans l'en-tête",
        page.locator("header").inner_text(),
    )

    # Sign out: the console, then the issuer, then back to /deconnexion.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(re.escape(console.url) + r"/deconnexion$"))
    where = "/deconnexion (après la déconnexion OIDC)"
    response = page.goto(console.url + "/deconnexion")
    console.checker.check(page, where, response)
    report.expect(
        page.locator("h1").inner_text() == "Vous êtes déconnecté·e", where, "la page d'au revoir",
        page.locator("h1").inner_text(),
    )
    page.context.close()

    # An answer for no sign-in under way: a clear page, a way back.
    page = console.open()
    where = "/connexion/retour (sans connexion en cours)"
    response = console.visit(page, "/connexion/retour?code=x&state=y", where)
    report.expect(
        response is not None and response.status == 400 and page.locator("h1").inner_text() == "Connexion expirée",
        where, "« Connexion expirée » (400)", f"{response.status if response else None} {page.locator('h1').inner_text()}",
    )
    report.expect(
        page.get_by_role("link", name="Se connecter").count() == 1, where, "un lien pour se connecter", page.content()[:200],
    )
    page.context.close()
