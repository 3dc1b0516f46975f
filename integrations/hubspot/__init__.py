"""HubSpot CRM: contacts and companies both ways, deals from sales orders, and a fake HubSpot."""
