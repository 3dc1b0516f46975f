from django.urls import path

from erp.views import area_home

app_name = "inventory"

urlpatterns = [
    path("", area_home, {"area": "inventory"}, name="index"),
]
