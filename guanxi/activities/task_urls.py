"""Task, "my day", notification and calendar pages. Included under ``/activities/``."""

from django.urls import path, re_path

from . import calendar_views, task_views

urlpatterns = [
    path("tasks/", task_views.my_tasks, name="task_list"),
    path("tasks/team/", task_views.team_tasks, name="task_team"),
    path("tasks/new/", task_views.task_create, name="task_create"),
    path("tasks/quick-add/", task_views.task_quick_add, name="task_quick_add"),
    path("tasks/<int:pk>/", task_views.task_edit, name="task_edit"),
    re_path(
        r"^tasks/(?P<pk>[0-9]+)/(?P<action>complete|cancel|reopen)/$",
        task_views.task_action,
        name="task_action",
    ),
    re_path(
        r"^tasks/(?P<kind>accounts|contacts)/(?P<pk>[0-9]+)/$",
        task_views.customer_tasks_panel,
        name="customer_tasks_panel",
    ),
    path("my-day/", task_views.my_day, name="my_day"),
    path("notifications/", task_views.notification_list, name="notification_list"),
    path("notifications/bell/", task_views.notification_bell, name="notification_bell"),
    path(
        "notifications/read-all/", task_views.notifications_read_all, name="notifications_read_all"
    ),
    path("notifications/<int:pk>/read/", task_views.notification_read, name="notification_read"),
    path("calendar/", calendar_views.calendar_page, name="calendar"),
    path("calendar/feed/", calendar_views.calendar_feed, name="calendar_feed"),
    path(
        "calendar/<slug:prefix>.<slug:secret>.ics",
        calendar_views.calendar_ics,
        name="calendar_ics",
    ),
]
