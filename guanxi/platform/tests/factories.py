"""factory-boy factories for the platform's models."""

import factory
from faker import Faker

from guanxi.platform import services
from guanxi.platform.models import Role, Team, User, Workspace
from guanxi.platform.roles import DEFAULT_ROLES

fake = Faker(["zh_CN", "en_US"])
TEST_PASSWORD = "correct-horse-battery-staple-42"


class WorkspaceFactory(factory.django.DjangoModelFactory):
    """A workspace with the built-in roles (as ``workspace_create`` makes them)."""

    class Meta:
        model = Workspace
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create:
            return
        for spec in DEFAULT_ROLES:
            Role.objects.create(
                workspace=self,
                name=str(spec.name),
                code=spec.code,
                description=str(spec.description),
                is_admin=spec.is_admin,
                is_system=True,
                rights=spec.rights(),
            )


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def fix_path(self, create, extracted, **kwargs):
        if create:
            services._refresh_paths(self)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        role_code = "sales_rep"

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.LazyFunction(lambda: fake.name())
    role = factory.LazyAttribute(
        lambda o: Role.objects.in_workspace(o.workspace).get(code=o.role_code)
    )
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def persist_password(self, create, extracted, **kwargs):
        if create:
            self.save(update_fields=["password"])
