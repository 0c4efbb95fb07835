from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from campus.models import Branch, Job, Level, Organisation, Organism, Role, Team, User

TEST_PASSWORD = "correct-horse-battery-42"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = "Sécurité sociale"
    slug = "secu"


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("organisation", "code")

    organisation = factory.SubFactory(OrganisationFactory)
    code = "maladie"
    name = "Maladie"


class OrganismFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organism

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    code = factory.Sequence(lambda n: f"cpam-{n}")
    name = factory.Sequence(lambda n: f"CPAM n°{n}")
    region = "Auvergne-Rhône-Alpes"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organism = factory.SubFactory(OrganismFactory)
    code = factory.Sequence(lambda n: f"equipe-{n}")
    name = factory.Sequence(lambda n: f"Équipe {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@campus.test")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    organism = factory.SubFactory(OrganismFactory)
    organisation = factory.SelfAttribute("organism.organisation")
    password = factory.LazyFunction(lambda: make_password(TEST_PASSWORD))
    roles: list[str] = []


class ManagerFactory(UserFactory):
    level = Level.PROXIMITY
    roles = [Role.MANAGER]


class CollaboratorFactory(UserFactory):
    roles = [Role.COLLABORATOR]
    password = factory.LazyFunction(lambda: make_password(None))


class HrAdminFactory(UserFactory):
    roles = [Role.HR_ADMIN]
    is_staff = True
    is_superuser = True


class HrAnalystFactory(UserFactory):
    roles = [Role.HR_ANALYST]


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    owner = factory.SubFactory(UserFactory)
    organisation = factory.SelfAttribute("owner.organisation")
    kind = "test"
    title = "Traitement de test"
    task_name = "campus.tasks.ping"
