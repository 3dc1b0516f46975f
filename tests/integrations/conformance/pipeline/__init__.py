"""Pipeline: a minimal CRM (contacts in and out, deals out), for the CRM part of the conformance kit."""
