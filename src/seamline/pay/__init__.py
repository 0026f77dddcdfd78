"""Piece-rate pay from the same sensor facts as the hours (issue 7).

- ``rates``      rate per operation: per piece or per standard minute (Decimal)
- ``wage_floor`` guaranteed minimum wage per region (example data the factory edits)
- ``payslip``    pieces -> pay lines per day and operation, overtime premiums, defect returns, the floor

Pay depends on ``seamline.compliance`` for attendance and the regular/overtime split (same issue, one
direction only: compliance never imports pay, except its report writers).
"""
