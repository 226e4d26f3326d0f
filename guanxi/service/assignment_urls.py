"""The service's assignment pages (under /service/, names in the ``service:`` namespace)."""

from django.urls import path

from . import assignment_views as views

urlpatterns = [
    path("queues/", views.queue_list, name="queue_list"),
    path("queues/<int:pk>/", views.queue_edit, name="queue_edit"),
    path("agents/", views.agent_list, name="agent_list"),
    path("agents/<int:user_id>/", views.agent_edit, name="agent_edit"),
    path("board/", views.board, name="board"),
    path("board/<int:queue_id>/assign/", views.board_assign, name="board_assign"),
    path("availability/", views.availability, name="availability"),
    path("availability/widget/", views.availability_widget, name="availability_widget"),
    path("cases/<int:pk>/dispatch/", views.case_dispatch, name="case_dispatch"),
    path("dispatches/", views.dispatch_list, name="dispatch_list"),
    path("dispatches/<int:pk>/complete/", views.dispatch_complete, name="dispatch_complete"),
    path("dispatches/<int:pk>/cancel/", views.dispatch_cancel, name="dispatch_cancel"),
]
