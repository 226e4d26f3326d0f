"""factory-boy factories for customers. The derived search columns are filled as the
services fill them."""

import factory

from guanxi.customers import search_keys
from guanxi.customers.models import Account, Contact
from guanxi.platform.tests.factories import WorkspaceFactory


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    workspace = factory.SubFactory(WorkspaceFactory)
    code = factory.Sequence(lambda n: f"A{n:06d}")
    name = factory.Sequence(lambda n: f"测试科技有限公司 {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        account = model_class(*args, **kwargs)
        search_keys.apply_account_keys(account)
        account.save()
        return account


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    workspace = factory.SubFactory(WorkspaceFactory)
    code = factory.Sequence(lambda n: f"C{n:06d}")
    name = factory.Sequence(lambda n: f"联系人{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        contact = model_class(*args, **kwargs)
        search_keys.apply_contact_keys(contact)
        contact.save()
        return contact
