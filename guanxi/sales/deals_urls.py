"""The deals part's pages, under ``/sales/``."""

from django.urls import path

from . import deals_pipelines_views as pipelines_views
from . import deals_views as views

urlpatterns = [
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/board/", views.board, name="deal_board"),
    path("deals/board/column/<int:stage_id>/", views.board_column, name="deal_board_column"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/picker/", views.customer_picker, name="deal_customer_picker"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:deal_id>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/reassign/", views.deal_reassign, name="deal_reassign"),
    path("deals/<int:deal_id>/<str:outcome>/", views.deal_close, name="deal_close"),
    path("pipelines/", pipelines_views.settings_page, name="pipeline_settings"),
]
