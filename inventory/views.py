"""Inventory pages."""

from django.http import HttpRequest, HttpResponse

from erp.views import area_home


def index(request: HttpRequest) -> HttpResponse:
    return area_home(request, "inventory")
