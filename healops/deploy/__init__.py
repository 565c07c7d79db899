"""Deploying Heal-Ops: building the function zips and applying ``terraform/`` with tflocal."""
