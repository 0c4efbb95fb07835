"""Communities in a real Chromium: join, thread with a practice mention through the # picker,
reply and reaction (htmx), notification, report and moderation, 404 on a closed group; axe."""

from __future__ import annotations

import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from campus.models import Role
from communities import services
from communities.models import GroupVisibility, Membership, MembershipRole, Post, Thread
from communities.selectors import GroupAccess
from mallette.corpus import themes_load
from mallette.models import Practice, PracticeStatus, Theme
from tests.factories import TEST_PASSWORD, ManagerFactory, OrganismFactory

AXE = Axe()
SCREENS = Path("/tmp/communities-pw-out/screens")


def shot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"communities-{name}.png"), full_page=True)


def accessible(page, name: str) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


def login(page, live_server, email: str) -> None:
    page.goto(live_server.url + reverse("account_login"))
    page.get_by_label("Adresse e-mail professionnelle").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + r"/$"))


def _world():
    themes_load(theme_model=Theme)
    organism = OrganismFactory(name="CPAM du Rhône")
    other = OrganismFactory(branch=organism.branch, name="CAF de la Gironde")
    third = OrganismFactory(branch=organism.branch, name="URSSAF Bretagne")
    camille = ManagerFactory(
        organism=organism, email="camille@campus.test", first_name="Camille", last_name="Roux"
    )
    dominique = ManagerFactory(
        organism=other, email="dominique@campus.test", first_name="Dominique", last_name="Leroy"
    )
    modo = ManagerFactory(
        organism=other,
        email="modo@campus.test",
        first_name="Sacha",
        last_name="Morel",
        roles=[Role.MANAGER, Role.MODERATOR],
    )
    alex = ManagerFactory(
        organism=third, email="alex@campus.test", first_name="Alex", last_name="Petit"
    )
    theme = Theme.objects.order_by("position").first()
    practice = Practice.objects.create(
        slug="point-equipe-hebdo-navigateur",
        title="Tenir un point d’équipe hebdomadaire",
        summary="Un point court chaque semaine.",
        body="- Fixez l’heure.",
        primary_theme=theme,
        status=PracticeStatus.PUBLISHED,
    )
    practice.themes.set([theme])
    group = services.group_create(
        creator=modo,
        data={
            "name": "Managers de proximité",
            "description": "Entre pairs de toutes les branches.",
            "visibility": GroupVisibility.OPEN,
            "theme": theme,
        },
    )
    Membership.objects.create(group=group, user=dominique)
    closed = services.group_create(
        creator=modo, data={"name": "Cercle des directeurs", "visibility": GroupVisibility.CLOSED}
    )
    secret = services.thread_create(
        access=GroupAccess(
            group=closed, membership=Membership.objects.get(group=closed, user=modo)
        ),
        author=modo,
        title="Sujet confidentiel",
        body="Entre nous.",
        check=False,
    )
    assert Membership.objects.get(group=closed, user=modo).role == MembershipRole.MODERATOR
    return {
        "camille": camille,
        "dominique": dominique,
        "modo": modo,
        "alex": alex,
        "practice": practice,
        "group": group,
        "secret": secret,
    }


def test_community_scenario(browser, live_server, transactional_db):
    w = _world()
    ctx = {"locale": "fr-FR", "viewport": {"width": 1280, "height": 900}}
    errors: list[str] = []

    def new_page():
        p = browser.new_context(**ctx).new_page()
        p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        p.on("pageerror", lambda e: errors.append(str(e)))
        return p

    # Camille joins the group and starts a thread citing a practice through the # picker.
    a = new_page()
    login(a, live_server, "camille@campus.test")
    a.goto(live_server.url + reverse("communities:index"))
    accessible(a, "index")
    shot(a, "index")
    a.get_by_role("link", name="Managers de proximité").first.click()
    a.get_by_label("J’ai lu la charte du groupe").check()
    a.get_by_role("button", name="Rejoindre le groupe").click()
    expect(a.get_by_text("Bienvenue dans le groupe")).to_be_visible()
    accessible(a, "group")
    shot(a, "group")
    a.get_by_role("link", name="Lancer une discussion").click()
    a.get_by_label("Titre de la discussion").fill("Vos rituels d’équipe ?")
    body = a.get_by_label("Votre message")
    body.fill("Chez nous ça marche bien : ")
    body.press_sequentially("#point", delay=30)
    option = a.locator(".picker-option", has_text="Tenir un point d’équipe hebdomadaire")
    expect(option).to_be_visible()
    accessible(a, "picker")
    shot(a, "picker")
    # Keyboard path: an option is active as soon as the list opens, arrows move the choice
    # (wrapping around) and Enter cites it without submitting the form.
    expect(a.locator('.picker-option[aria-selected="true"]')).to_have_count(1)
    for _ in range(a.locator(".picker-option").count()):
        if option.get_attribute("aria-selected") == "true":
            break
        body.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    body.press("Enter")
    expect(a.locator(".picker")).to_be_hidden()
    expect(body).to_have_value(re.compile(rf"#pratique-{w['practice'].pk} $"))
    expect(a).to_have_url(re.compile(r"/nouvelle-discussion/$"))
    a.get_by_role("button", name="Publier la discussion").click()
    expect(a.get_by_role("heading", level=1)).to_have_text("Vos rituels d’équipe ?")
    expect(a.get_by_role("link", name="#Tenir un point d’équipe hebdomadaire")).to_be_visible()
    accessible(a, "thread")
    thread = Thread.objects.get(title="Vos rituels d’équipe ?")

    # Dominique replies (htmx) and reacts.
    b = new_page()
    login(b, live_server, "dominique@campus.test")
    b.goto(live_server.url + reverse("communities:thread", args=[thread.pk]))
    b.get_by_label("Votre message").fill("Un point de **15 minutes** le lundi, debout.")
    b.get_by_role("button", name="Publier ma réponse").click()
    expect(b.get_by_role("status").filter(has_text="Votre réponse est publiée.")).to_be_visible()
    expect(b.locator(".post-body strong", has_text="15 minutes")).to_be_visible()
    expect(b.get_by_label("Votre message")).to_have_value("")
    first = b.locator(f"#message-{thread.posts.order_by('pk').first().pk}")
    first.get_by_role("button", name="Merci").click()
    expect(first.get_by_role("button", name=re.compile("Merci"))).to_have_attribute(
        "aria-pressed", "true"
    )
    accessible(b, "thread-reply")
    shot(b, "thread-reply")

    # Camille is notified, and reports nothing; she reports Dominique's reply to test moderation.
    a.goto(live_server.url + reverse("communities:index"))
    expect(a.get_by_text("2 nouvelles")).to_be_visible()
    a.get_by_role("link", name=re.compile("Notifications")).click()
    expect(a.get_by_role("link", name=re.compile("Dominique Leroy a répondu"))).to_be_visible()
    expect(a.get_by_role("link", name=re.compile("a réagi à votre message"))).to_be_visible()
    accessible(a, "notifications")
    shot(a, "notifications")
    reply = Post.objects.get(body__startswith="Un point de")
    a.goto(live_server.url + reverse("communities:thread", args=[thread.pk]))
    a.locator(f"#message-{reply.pk}").get_by_role("link", name=re.compile("Signaler")).click()
    a.get_by_label("Propos blessants ou irrespectueux").check()
    accessible(a, "report")
    a.get_by_role("button", name="Envoyer le signalement").click()
    expect(a.get_by_text("le message est signalé")).to_be_visible()

    # The moderator hides it with a reason.
    m = new_page()
    login(m, live_server, "modo@campus.test")
    m.goto(live_server.url + reverse("communities:moderation"))
    expect(m.get_by_text("1 message signalé")).to_be_visible()
    accessible(m, "moderation")
    shot(m, "moderation")
    m.get_by_role("link", name="Masquer ce message").click()
    m.get_by_label("Motif, communiqué à l’auteur").fill(
        "Merci de reformuler sans viser une personne."
    )
    m.get_by_role("button", name="Masquer le message").click()
    expect(m.get_by_text("Aucun signalement à traiter.")).to_be_visible()
    a.goto(live_server.url + reverse("communities:thread", args=[thread.pk]))
    expect(a.get_by_text("Message masqué par la modération.")).to_be_visible()
    shot(a, "thread-hidden")

    assert errors == []  # no console or CSP error so far (the 404 below logs one on purpose)

    # A manager of another organism cannot read the closed group's thread.
    c = new_page()
    login(c, live_server, "alex@campus.test")
    response = c.goto(live_server.url + reverse("communities:thread", args=[w["secret"].pk]))
    assert response.status == 404
    expect(c.get_by_text("Sujet confidentiel")).to_have_count(0)
    response = c.goto(live_server.url + reverse("communities:search") + "?q=confidentiel")
    expect(c.get_by_text(re.compile(r"^0 messages? trouvés?"))).to_be_visible()
    accessible(c, "search")
