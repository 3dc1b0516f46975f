from django.urls import path

from erp.views import area_home

app_name = "manufacturing"

urlpatterns = [
    path("", area_home, {"area": "manufacturing"}, name="index"),
]
