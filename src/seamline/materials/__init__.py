"""Cutting, bundle tickets, materials and WIP: every bundle and every metre of fabric accounted for.

Modules: ``bom`` (bills of materials), ``ledger`` (lots received, issued, consumed, returned;
shortages), ``cutting`` (lays and bundles), ``lots`` (split and merge orders into production lots),
``packing`` (cartons), ``routing`` (bundle routing and WIP ageing, the ingest projection's state),
``tickets`` (PDF tickets and labels with QR codes), ``store`` (database), ``service`` (use cases).
See docs/materials.md.
"""
