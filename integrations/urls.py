from django.urls import path

from erp.views import area_home

app_name = "integrations"

urlpatterns = [
    path("", area_home, {"area": "integrations"}, name="index"),
]
