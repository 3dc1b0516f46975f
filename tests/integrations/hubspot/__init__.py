"""Tests of the HubSpot connector and its fake."""
