"""The Shopify connector (connector.py), its wire-format mapping (mapping.py) and a local fake (fake.py)."""
