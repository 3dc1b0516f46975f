
urlpatterns: list = []  # CSV import and export pages (inventory/views_io.py)
