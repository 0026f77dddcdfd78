"""Quality: fabric 4-point inspection, inline/end-of-line DHU, ISO 2859-1 AQL audits, traceability.

Modules: ``fabric`` (4-point scoring), ``aql`` + ``switching`` + ``audit`` (final audit),
``dhu`` (event aggregator), ``trace`` (defect/audit → bundle, operation, worker, station, time,
fabric lot), ``store`` (database records and the cutting gate), ``defect_codes`` (catalogue).
"""
