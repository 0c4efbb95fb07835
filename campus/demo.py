"""The demo organisation: a Sécurité sociale of 33 organisms, 1,000 managers and their teams.

``demo_seed`` is idempotent and seeded: the same seed always gives the same people, and a second
run on a database that already has the demo organisation creates nothing. Everything is written
with a few ``bulk_create`` calls in one transaction, so the whole seed takes a few seconds.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, Q
from django.utils.text import slugify

from campus.models import Branch, Level, Organisation, Organism, Role, Team, User

DEMO_SLUG = "secu"
DEMO_EMAIL_DOMAIN = "demo.campus.test"

DEMO_LOGINS: list[tuple[str, str]] = [
    ("Manager de proximité", "camille.martin@demo.campus.test"),
    ("Directrice", "isabelle.lefevre@demo.campus.test"),
    ("Administrateur RH", "rh.admin@demo.campus.test"),
    ("Analyste RH", "rh.analyste@demo.campus.test"),
]

BRANCHES: list[tuple[str, str]] = [
    ("maladie", "Maladie"),
    ("famille", "Famille"),
    ("retraite", "Retraite"),
    ("recouvrement", "Recouvrement"),
    ("autonomie", "Autonomie"),
]


@dataclass(frozen=True)
class _OrganismSpec:
    name: str
    branch: str
    region: str
    weight: float  # relative headcount: how many of the managers this organism gets
    national: bool = False


IDF = "Île-de-France"
ARA = "Auvergne-Rhône-Alpes"
PACA = "Provence-Alpes-Côte d’Azur"

# The general regime only: the MSA (agricultural regime) is deliberately absent.
ORGANISMS: list[_OrganismSpec] = [
    _OrganismSpec("Cnam", "maladie", IDF, 0.9, national=True),
    _OrganismSpec("CPAM du Rhône", "maladie", ARA, 1.5),
    _OrganismSpec("CPAM de Paris", "maladie", IDF, 1.6),
    _OrganismSpec("CPAM des Bouches-du-Rhône", "maladie", PACA, 1.4),
    _OrganismSpec("CPAM de la Haute-Garonne", "maladie", "Occitanie", 1.2),
    _OrganismSpec("CPAM de la Gironde", "maladie", "Nouvelle-Aquitaine", 1.2),
    _OrganismSpec("CPAM de Loire-Atlantique", "maladie", "Pays de la Loire", 1.1),
    _OrganismSpec("CPAM du Bas-Rhin", "maladie", "Grand Est", 1.0),
    _OrganismSpec("CPAM d’Ille-et-Vilaine", "maladie", "Bretagne", 1.0),
    _OrganismSpec("CPAM de la Seine-Saint-Denis", "maladie", IDF, 1.3),
    _OrganismSpec("CPAM de l’Hérault", "maladie", "Occitanie", 1.0),
    # CGSS run every branch overseas; the model needs one branch, Maladie is their largest.
    _OrganismSpec("CGSS de la Martinique", "maladie", "Martinique", 0.7),
    _OrganismSpec("CGSS de La Réunion", "maladie", "La Réunion", 0.8),
    _OrganismSpec("Cnaf", "famille", IDF, 0.8, national=True),
    _OrganismSpec("CAF de la Gironde", "famille", "Nouvelle-Aquitaine", 1.1),
    _OrganismSpec("CAF du Nord", "famille", "Hauts-de-France", 1.3),
    _OrganismSpec("CAF de Paris", "famille", IDF, 1.2),
    _OrganismSpec("CAF du Rhône", "famille", ARA, 1.1),
    _OrganismSpec("CAF des Bouches-du-Rhône", "famille", PACA, 1.1),
    _OrganismSpec("CAF de la Haute-Garonne", "famille", "Occitanie", 1.0),
    _OrganismSpec("CAF de Loire-Atlantique", "famille", "Pays de la Loire", 0.9),
    _OrganismSpec("CAF de la Moselle", "famille", "Grand Est", 0.9),
    _OrganismSpec("CAF de la Seine-Maritime", "famille", "Normandie", 0.9),
    _OrganismSpec("Cnav", "retraite", IDF, 1.0, national=True),
    _OrganismSpec("Carsat Bretagne", "retraite", "Bretagne", 0.9),
    _OrganismSpec("Carsat Rhône-Alpes", "retraite", ARA, 1.0),
    _OrganismSpec("Carsat Hauts-de-France", "retraite", "Hauts-de-France", 1.0),
    _OrganismSpec("Urssaf Caisse nationale", "recouvrement", IDF, 0.8, national=True),
    _OrganismSpec("Urssaf Île-de-France", "recouvrement", IDF, 1.3),
    _OrganismSpec("Urssaf Provence-Alpes-Côte d’Azur", "recouvrement", PACA, 1.0),
    _OrganismSpec("Urssaf Auvergne-Rhône-Alpes", "recouvrement", ARA, 1.0),
    _OrganismSpec("CNSA", "autonomie", IDF, 0.5, national=True),
    # Ucanss serves every branch; the model needs one, so it sits with the largest.
    _OrganismSpec("Ucanss", "maladie", IDF, 0.5, national=True),
]

DEMO_ORGANISM = "CPAM du Rhône"  # Camille Martin and Isabelle Lefèvre work here
HR_ORGANISM = "Ucanss"


def _words(text: str) -> list[str]:
    """Names written as text blocks: one per line would make these lists 300 lines long."""
    return text.split()


# (first name, "f" or "m"): titles and job names agree with it.
FIRST_NAMES: list[tuple[str, str]] = [
    (name, "f")
    for name in _words(
        "Marie Nathalie Isabelle Sylvie Catherine Christine Sandrine Valérie Véronique Stéphanie "
        "Céline Sophie Aurélie Émilie Julie Caroline Laetitia Virginie Séverine Karine Élodie "
        "Audrey Hélène Anne Claire Florence Delphine Patricia Martine Françoise Brigitte Corinne "
        "Laurence Agnès Pascale Mélanie Amandine Camille Manon Léa Chloé Sarah Laura Pauline "
        "Marion Anaïs Justine Clémence Lucie Charlotte Élise Inès Fatima Samia Nadia Yasmina "
        "Béatrice Mathilde Margaux Noémie Gaëlle Maëlle Solène Estelle"
    )
] + [
    (name, "m")
    for name in _words(
        "Jean Pierre Michel Philippe Alain Patrick Nicolas Christophe Stéphane Laurent Frédéric "
        "Éric Olivier David Sébastien Julien Thierry Pascal Vincent Franck Jérôme Didier Bruno "
        "Hervé Guillaume Thomas Alexandre Antoine Maxime Romain Mathieu Benoît Cédric Arnaud "
        "Fabrice Yannick Gilles Denis Emmanuel François Jean-Pierre Jean-Marc Jean-Luc Hugo "
        "Lucas Kévin Anthony Jérémy Loïc Gaël Damien Florian Mehdi Karim Rachid Samir Yves "
        "Bernard Serge Régis Grégory Ludovic"
    )
]

LAST_NAMES: list[str] = [
    *_words(
        "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel "
        "Lefèvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine "
        "Rousseau Vincent Muller Faure André Mercier Blanc Guérin Boyer Garnier Chevalier "
        "François Legrand Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel "
        "Mathieu Masson Marchand Duval Denis Dumont Lemaire Noël Meyer Dufour Meunier Brun "
        "Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Gérard Roche Renard "
        "Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas "
        "Lacroix Olivier Bourgeois Benoît Rey Leclerc Payet Rolland Leclercq Guillaume Lecomte "
        "Lopez Dupuy Guillot Hubert Berger Carpentier Sanchez Dupuis Moulin Deschamps Huet "
        "Vasseur Perez Boucher Fleury Royer Klein Jacquet Adam Poirier Marty Aubry Guyot Carré "
        "Charpentier Ménard Maillard Baron Bertin Bailly Hervé Schneider Fernandez Collet Léger "
        "Bouvier Prévost Millet Perrot Cousin Germain Breton Besson Langlois Rémy Pelletier "
        "Lévêque Perrier Leblanc Barré Lebrun Marchal Weber Mallet Hamon Boulanger Jacob "
        "Monnier Michaud Guichard Étienne Grondin Tessier Chauvin Lemaître Bénard Hoarau Mahé "
        "Diallo Haddad Benali Nguyen Traoré"
    ),
    "Le Gall",
    "Le Goff",
    "Da Silva",
    "Le Roux",
]

# (masculine, feminine) forms.
DIRECTOR_TITLES = {
    False: ("Directeur", "Directrice"),
    True: ("Directeur général", "Directrice générale"),
}
DEPUTY_TITLE = ("Directeur adjoint", "Directrice adjointe", "Direction adjointe")
HR_DIRECTOR_TITLE = (
    "Directeur des ressources humaines",
    "Directrice des ressources humaines",
    "Direction des ressources humaines",
)
# (masculine title, feminine title, name of the unit they lead)
STRATEGIC_TITLES: list[tuple[str, str, str]] = [
    ("Agent comptable", "Agente comptable", "Agence comptable"),
    HR_DIRECTOR_TITLE,
    (
        "Sous-directeur de la relation client",
        "Sous-directrice de la relation client",
        "Sous-direction relation client",
    ),
    (
        "Sous-directeur de la production",
        "Sous-directrice de la production",
        "Sous-direction production",
    ),
    ("Directeur des opérations", "Directrice des opérations", "Direction des opérations"),
    (
        "Directeur de la performance et du pilotage",
        "Directrice de la performance et du pilotage",
        "Direction performance et pilotage",
    ),
]

MIDDLE_TITLES: dict[str, list[str]] = {
    "maladie": [
        "Responsable de la gestion des prestations",
        "Responsable du département indemnités journalières",
        "Responsable du service accueil",
        "Responsable du département relation client",
        "Responsable du service lutte contre la fraude",
        "Responsable du département gestion du risque",
        "Responsable du service relations avec les professionnels de santé",
        "Responsable du pôle affiliation et droits",
        "Responsable du service comptabilité",
    ],
    "famille": [
        "Responsable de la gestion des prestations",
        "Responsable du service accueil",
        "Responsable du département action sociale",
        "Responsable du pôle prestations familiales",
        "Responsable du pôle solidarité et insertion",
        "Responsable du service contrôle",
        "Responsable du département relation allocataires",
        "Responsable du service aides au logement",
    ],
    "retraite": [
        "Responsable du département carrières",
        "Responsable de la gestion des prestations",
        "Responsable du pôle retraite",
        "Responsable du service action sociale retraite",
        "Responsable du département risques professionnels",
        "Responsable du service accueil retraite",
    ],
    "recouvrement": [
        "Responsable du pôle recouvrement amiable",
        "Responsable du service contentieux",
        "Responsable du département contrôle",
        "Responsable du pôle gestion des comptes",
        "Responsable du service relation cotisants",
        "Responsable du pôle travailleurs indépendants",
    ],
    "national": [
        "Responsable du département études et statistiques",
        "Responsable du pôle pilotage",
        "Responsable du département financement",
        "Responsable du service juridique",
        "Responsable du département systèmes d’information",
        "Responsable du service communication",
        "Responsable du pôle ressources humaines",
    ],
}

PROXIMITY_TITLES: dict[str, list[str]] = {
    "maladie": [
        "Manager de l’équipe relation client téléphonique",
        "Manager de l’équipe indemnités journalières",
        "Manager de l’équipe accueil physique",
        "Manager de l’équipe remboursement des soins",
        "Manager de l’équipe affiliation",
        "Manager de l’équipe complémentaire santé solidaire",
        "Manager de l’équipe invalidité",
        "Responsable d’unité frais de santé",
    ],
    "famille": [
        "Manager de l’équipe relation client téléphonique",
        "Manager de l’équipe accueil physique",
        "Manager de l’équipe prestations familiales",
        "Manager de l’équipe aides au logement",
        "Manager de l’équipe revenu de solidarité active",
        "Manager de l’équipe prime d’activité",
        "Responsable d’unité gestion des droits",
        "Manager de l’équipe travail social",
    ],
    "retraite": [
        "Manager de l’équipe carrières",
        "Manager de l’équipe liquidation retraite",
        "Manager de l’équipe relation client téléphonique",
        "Manager de l’équipe retraite progressive",
        "Manager de l’équipe tarification des risques professionnels",
        "Responsable d’unité action sociale",
    ],
    "recouvrement": [
        "Manager de l’équipe recouvrement amiable",
        "Manager de l’équipe gestion des comptes employeurs",
        "Manager de l’équipe travailleurs indépendants",
        "Manager de l’équipe relation cotisants",
        "Manager de l’équipe contentieux",
        "Responsable d’unité inspection du recouvrement",
    ],
    "national": [
        "Manager de l’équipe études statistiques",
        "Manager de l’équipe paie",
        "Manager de l’équipe achats et marchés",
        "Manager de l’équipe support informatique",
        "Manager de l’équipe développement applicatif",
        "Manager de l’équipe comptabilité",
        "Manager de l’équipe gestion administrative du personnel",
        "Manager de l’équipe formation",
    ],
}

COLLABORATOR_TITLES: dict[str, list[tuple[str, str]]] = {
    "maladie": [
        ("Technicien de l’Assurance Maladie", "Technicienne de l’Assurance Maladie"),
        ("Conseiller service à l’usager", "Conseillère service à l’usager"),
        ("Gestionnaire des prestations", "Gestionnaire des prestations"),
    ],
    "famille": [
        ("Gestionnaire conseil allocataires", "Gestionnaire conseil allocataires"),
        ("Conseiller services aux allocataires", "Conseillère services aux allocataires"),
        ("Travailleur social", "Travailleuse sociale"),
    ],
    "retraite": [
        ("Technicien retraite", "Technicienne retraite"),
        ("Conseiller retraite", "Conseillère retraite"),
        ("Gestionnaire carrières", "Gestionnaire carrières"),
    ],
    "recouvrement": [
        ("Gestionnaire du recouvrement", "Gestionnaire du recouvrement"),
        ("Gestionnaire de comptes cotisants", "Gestionnaire de comptes cotisants"),
        ("Conseiller cotisants", "Conseillère cotisants"),
    ],
    "national": [
        ("Chargé d’études", "Chargée d’études"),
        ("Gestionnaire administratif", "Gestionnaire administrative"),
        ("Développeur", "Développeuse"),
        ("Chargé de mission", "Chargée de mission"),
    ],
}
ASSISTANT_TITLES = [
    ("Assistant de direction", "Assistante de direction"),
    ("Assistant administratif", "Assistante administrative"),
]

PROXIMITY_TEAM_SIZE = (5, 12)
ASSISTANTS_PER_MIDDLE = (0, 2)
CAMILLE_TEAM_SIZE = 8
CAMILLE_TITLE = "Manager de l’équipe relation client téléphonique"
BATCH_SIZE = 2000


class DemoResetRefused(Exception):
    """The organisation to delete holds people who are not demo people: never delete them."""


def demo_min_managers() -> int:
    """One director per organism plus a full chain (strategic, middle, proximity) for Camille."""
    return len(ORGANISMS) + 3


def demo_seed(*, seed: int = 2026, managers: int = 1000) -> dict[str, int]:
    """Create the demo organisation unless it already has people; return the row counts.

    ``counts["created"]`` is 1 when this call created the data, 0 when it found it in place.
    """
    if managers < demo_min_managers():
        raise ValueError(f"managers must be at least {demo_min_managers()}, got {managers}")
    with transaction.atomic():
        # The row lock makes a concurrent second run wait, then find the people and stop.
        organisation, _ = Organisation.objects.select_for_update().get_or_create(
            slug=DEMO_SLUG,
            defaults={
                "name": settings.CAMPUS_ORGANISATION_NAME,
                "feedback_min_responses": 5,
                "analytics_min_people": 10,
            },
        )
        if organisation.people.exists():
            return {**demo_counts(organisation), "created": 0}
        organisms = _structure_create(organisation)
        # Demo data, not secrets: a seeded PRNG is what makes two runs identical.
        rng = random.Random(seed)  # noqa: S311
        _people_create(organisation, organisms, rng, managers)
        from communities.demo import demo_groups_seed

        demo_groups_seed(organisation)
        from boosts.demo import demo_boosts_seed

        demo_boosts_seed(organisation)
        return {**demo_counts(organisation), "created": 1}


def demo_counts(organisation: Organisation) -> dict[str, int]:
    people = organisation.people.aggregate(
        people=Count("pk"),
        managers=Count("pk", filter=Q(roles__contains=[Role.MANAGER])),
        collaborators=Count("pk", filter=Q(roles__contains=[Role.COLLABORATOR])),
        hr=Count("pk", filter=Q(roles__overlap=[Role.HR_ADMIN, Role.HR_ANALYST])),
        **{
            level.value: Count("pk", filter=Q(roles__contains=[Role.MANAGER], level=level))
            for level in Level
        },
    )
    return {
        "branches": organisation.branches.count(),
        "organisms": organisation.organisms.count(),
        "teams": Team.objects.filter(organism__organisation=organisation).count(),
        **people,
    }


def demo_delete() -> int:
    """Delete the demo organisation and everyone in it; return the number of people deleted.

    Refuses (:class:`DemoResetRefused`) when the organisation holds anyone whose address is not
    a demo one: on a real deployment whose organisation happens to be "secu", nothing is lost.
    """
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().filter(slug=DEMO_SLUG).first()
        if organisation is None:
            return 0
        people = User.objects.filter(organisation=organisation)
        demo_address = Q(email__iendswith=f"@{DEMO_EMAIL_DOMAIN}") | Q(
            email__iendswith=f".{DEMO_EMAIL_DOMAIN}"
        )
        if people.exclude(demo_address).exists():
            raise DemoResetRefused(
                "L’organisation « secu » contient des personnes qui ne sont pas des comptes de "
                "démonstration : elle n’est pas supprimée."
            )
        # User.organisation and User.organism are PROTECT: people go first. Cutting the links
        # between people and teams up front spares the collector thousands of SET NULL updates.
        # Boost.host is PROTECT (a host cannot vanish from a boost): the demo boosts go first.
        from boosts.models import Boost

        Boost.objects.filter(organisation=organisation).delete()
        teams = Team.objects.filter(organism__organisation=organisation)
        teams.update(manager=None, parent=None)
        people.update(manager=None, team=None)
        deleted = people.count()
        people.delete()
        Organism.objects.filter(organisation=organisation).delete()  # cascades to teams
        organisation.delete()  # cascades to branches
        return deleted


def _structure_create(organisation: Organisation) -> list[Organism]:
    branches = {}
    for code, name in BRANCHES:
        branches[code], _ = Branch.objects.update_or_create(
            organisation=organisation, code=code, defaults={"name": name}
        )
    organisms = []
    for spec in ORGANISMS:
        organism, _ = Organism.objects.update_or_create(
            organisation=organisation,
            code=slugify(spec.name),
            defaults={"name": spec.name, "branch": branches[spec.branch], "region": spec.region},
        )
        organisms.append(organism)
    # An organisation without people can only hold empty teams: clear them so codes are free.
    Team.objects.filter(organism__in=organisms).delete()
    return organisms


def _budgets(managers: int) -> list[int]:
    """Managers per organism, proportional to its weight (largest remainder, no randomness)."""
    budgets = [1] * len(ORGANISMS)
    demo_index = next(i for i, spec in enumerate(ORGANISMS) if spec.name == DEMO_ORGANISM)
    budgets[demo_index] += 3  # Camille needs a strategic and a middle manager above her
    rest = managers - sum(budgets)
    total = sum(spec.weight for spec in ORGANISMS)
    shares = [spec.weight * rest / total for spec in ORGANISMS]
    floors = [int(share) for share in shares]
    by_remainder = sorted(range(len(ORGANISMS)), key=lambda i: floors[i] - shares[i])
    for i in by_remainder[: rest - sum(floors)]:
        floors[i] += 1
    return [budget + extra for budget, extra in zip(budgets, floors, strict=True)]


def _split(others: int) -> tuple[int, int, int]:
    """(strategic, middle, proximity) counts for an organism with ``others`` non-directors.

    About 10 % strategic (2 to 4), then 29 % of the rest middle: ~100 / 250 / 620 for 1,000.
    """
    if others <= 3:
        strategic = min(1, others)
        middle = min(1, others - strategic)
        return strategic, middle, others - strategic - middle
    strategic = max(1, min(4, round(others * 0.10)))
    if others >= 12:
        strategic = max(2, strategic)
    middle = max(1, round((others - strategic) * 0.29))
    return strategic, middle, others - strategic - middle


def _unit_name(title: str) -> str:
    """The unit a title leads: "Responsable du service accueil" gives "Service accueil"."""
    unit = re.sub(r"^(Responsable|Manager) (du |de la |de l’|des |d’)", "", title)
    return unit[:1].upper() + unit[1:]


class _Builder:
    """Builds the unsaved people and teams in memory, in a fixed order, from one seeded RNG."""

    def __init__(self, rng: random.Random, password: str) -> None:
        self.rng = rng
        self.password = password
        self.emails: set[str] = {email for _, email in DEMO_LOGINS}
        self.unit_names: Counter[tuple[int, str]] = Counter()

    def email(self, first_name: str, last_name: str, domain: str) -> str:
        local = f"{slugify(first_name)}.{slugify(last_name)}"
        email, n = f"{local}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        return email

    def name(self) -> tuple[str, str, bool]:
        first_name, gender = self.rng.choice(FIRST_NAMES)
        return first_name, self.rng.choice(LAST_NAMES), gender == "f"

    def team(self, organism: Organism, code: str, name: str, parent: Team | None) -> Team:
        # Several teams of an organism may do the same job: number the second one onwards.
        self.unit_names[(organism.pk, name)] += 1
        n = self.unit_names[(organism.pk, name)]
        return Team(
            organism=organism, code=code, name=name if n == 1 else f"{name} ({n})", parent=parent
        )

    def manager(
        self,
        organism: Organism,
        level: Level,
        titles: tuple[str, str],
        boss: User | None,
        team: Team | None,
    ) -> User:
        first_name, last_name, feminine = self.name()
        return User(
            email=self.email(first_name, last_name, f"{organism.code}.{DEMO_EMAIL_DOMAIN}"),
            first_name=first_name,
            last_name=last_name,
            organisation_id=organism.organisation_id,
            organism=organism,
            team=team,
            manager=boss,
            level=level,
            job_title=titles[1] if feminine else titles[0],
            roles=[Role.MANAGER],
            password=self.password,
        )

    def collaborator(
        self, organism: Organism, boss: User, team: Team, titles: list[tuple[str, str]]
    ) -> User:
        first_name, last_name, feminine = self.name()
        title = self.rng.choice(titles)
        return User(
            email=self.email(first_name, last_name, f"{organism.code}.{DEMO_EMAIL_DOMAIN}"),
            first_name=first_name,
            last_name=last_name,
            organisation_id=organism.organisation_id,
            organism=organism,
            team=team,
            manager=boss,
            job_title=title[1] if feminine else title[0],
            roles=[Role.COLLABORATOR],
            password=make_password(None),
        )


def _rename(user: User, first_name: str, last_name: str, email: str, job_title: str) -> None:
    """Turn a generated person into a demo account (the random draws stay the same)."""
    user.first_name = first_name
    user.last_name = last_name
    user.email = email
    user.job_title = job_title


def _people_create(
    organisation: Organisation, organisms: list[Organism], rng: random.Random, managers: int
) -> None:
    # One hash for every demo login: hashing 1,000 times would take minutes.
    builder = _Builder(rng, make_password(settings.CAMPUS_DEMO_PASSWORD))
    levels: dict[Level, list[tuple[User, Team]]] = {level: [] for level in Level}
    collaborators: list[User] = []
    camille: User | None = None
    hr_boss: tuple[User, Team] | None = None

    for spec, organism, budget in zip(ORGANISMS, organisms, _budgets(managers), strict=True):
        pool = "national" if spec.national else spec.branch
        n_strategic, n_middle, n_proximity = _split(budget - 1)

        top_team = builder.team(
            organism, "direction", "Direction générale" if spec.national else "Direction", None
        )
        director = builder.manager(
            organism, Level.DIRECTOR, DIRECTOR_TITLES[spec.national], None, None
        )
        if spec.name == DEMO_ORGANISM:
            _rename(director, "Isabelle", "Lefèvre", DEMO_LOGINS[1][1], "Directrice")
        top_team.manager = director
        levels[Level.DIRECTOR].append((director, top_team))

        strategic_titles = [DEPUTY_TITLE] + builder.rng.sample(STRATEGIC_TITLES, 3)
        if spec.name == HR_ORGANISM:  # the HR accounts report to a DRH
            strategic_titles = [HR_DIRECTOR_TITLE, DEPUTY_TITLE, *STRATEGIC_TITLES[2:4]]
        strategic = []
        for i in range(n_strategic):
            masculine, feminine, unit = strategic_titles[i]
            user = builder.manager(
                organism, Level.STRATEGIC, (masculine, feminine), director, top_team
            )
            team = builder.team(organism, f"strat-{i + 1}", unit, top_team)
            team.manager = user
            strategic.append((user, team))
        if spec.name == HR_ORGANISM:
            hr_boss = strategic[0] if strategic else (director, top_team)

        middle = []
        for i in range(n_middle):
            boss, boss_team = strategic[i % n_strategic]
            title = builder.rng.choice(MIDDLE_TITLES[pool])
            user = builder.manager(organism, Level.MIDDLE, (title, title), boss, boss_team)
            team = builder.team(organism, f"inter-{i + 1}", _unit_name(title), boss_team)
            team.manager = user
            middle.append((user, team))
            assistants = builder.rng.randint(*ASSISTANTS_PER_MIDDLE)
            collaborators += [
                builder.collaborator(organism, user, team, ASSISTANT_TITLES)
                for _ in range(assistants)
            ]

        proximity = []
        for i in range(n_proximity):
            boss, boss_team = middle[i % n_middle]
            title = builder.rng.choice(PROXIMITY_TITLES[pool])
            team_size = builder.rng.randint(*PROXIMITY_TEAM_SIZE)
            is_camille = spec.name == DEMO_ORGANISM and camille is None
            if is_camille:
                title, team_size = CAMILLE_TITLE, CAMILLE_TEAM_SIZE
            user = builder.manager(organism, Level.PROXIMITY, (title, title), boss, boss_team)
            if is_camille:
                camille = user
                _rename(user, "Camille", "Martin", DEMO_LOGINS[0][1], title)
            team = builder.team(organism, f"prox-{i + 1}", _unit_name(title), boss_team)
            team.manager = user
            proximity.append((user, team))
            titles = COLLABORATOR_TITLES[pool]
            collaborators += [
                builder.collaborator(organism, user, team, titles) for _ in range(team_size)
            ]

        levels[Level.STRATEGIC] += strategic
        levels[Level.MIDDLE] += middle
        levels[Level.PROXIMITY] += proximity

    # Dependency order: a level's people need their n+1 and the n+1's team to have a key.
    directors = levels[Level.DIRECTOR]
    User.objects.bulk_create([user for user, _ in directors])
    Team.objects.bulk_create([team for _, team in directors])
    for user, team in directors:  # a director sits in the team they lead
        user.team = team
    User.objects.bulk_update([user for user, _ in directors], ["team"])
    for level in (Level.STRATEGIC, Level.MIDDLE, Level.PROXIMITY):
        User.objects.bulk_create([user for user, _ in levels[level]], batch_size=BATCH_SIZE)
        Team.objects.bulk_create([team for _, team in levels[level]], batch_size=BATCH_SIZE)

    assert hr_boss is not None  # Ucanss is in ORGANISMS and always has a director
    boss, boss_team = hr_boss
    ucanss = boss.organism
    collaborators += [
        User(
            email=DEMO_LOGINS[2][1],
            first_name="Julien",
            last_name="Roussel",
            organisation=organisation,
            organism=ucanss,
            team=boss_team,
            manager=boss,
            job_title="Administrateur RH du campus",
            roles=[Role.HR_ADMIN],
            is_staff=True,
            is_superuser=True,  # the Django admin is fully usable in the demo
            password=builder.password,
        ),
        User(
            email=DEMO_LOGINS[3][1],
            first_name="Sophie",
            last_name="Garnier",
            organisation=organisation,
            organism=ucanss,
            team=boss_team,
            manager=boss,
            job_title="Analyste RH",
            roles=[Role.HR_ANALYST],
            password=builder.password,
        ),
    ]
    User.objects.bulk_create(collaborators, batch_size=BATCH_SIZE)
