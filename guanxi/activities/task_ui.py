"""What the task part adds to the shared UI: "my day" on the start page, the notification
bell in the top bar, the "Open tasks" section of a customer's 360° page (loaded with htmx
after the page), and the side navigation entries."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.customers import sections
from guanxi.platform import home, permissions
from guanxi.platform.navigation import NavItem, register

from .objects import TASK

ACTIVITIES = _("Activities")


def _can_read_tasks(user) -> bool:
    return permissions.can(user, TASK, "read")


def _tasks_panel_url(object_key: str, record) -> str:
    kind = "accounts" if object_key == sections.ACCOUNT else "contacts"
    return reverse("activities:customer_tasks_panel", args=[kind, record.pk])


sections.register(
    sections.Section(
        key="activities.open_tasks",
        title=_("Open tasks"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=85,
        lazy_url=_tasks_panel_url,
        allowed=_can_read_tasks,
    )
)


def _my_day(request):
    from .task_views import my_day_context

    return my_day_context(request)


home.register(
    home.HomePanel(
        key="activities.my_day",
        template="activities/myday_panel.html",
        loader=_my_day,
        order=10,
        wide=True,
        stylesheets=("css/tasks.css",),
    )
)
home.register_widget(
    home.TopbarWidget(
        key="activities.notifications",
        url_name="activities:notification_bell",
        order=10,
    )
)


def _is_manager(user) -> bool:
    from .task_views import is_manager

    return is_manager(user)


for order, label, url_name, allowed in (
    (200, _("My day"), "activities:my_day", _can_read_tasks),
    (201, _("My tasks"), "activities:task_list", _can_read_tasks),
    (202, _("Team tasks"), "activities:task_team", _is_manager),
    (203, _("Calendar"), "activities:calendar", _can_read_tasks),
    (204, _("Notifications"), "activities:notification_list", None),
):
    register(
        NavItem(section=ACTIVITIES, label=label, url_name=url_name, order=order, allowed=allowed)
    )
