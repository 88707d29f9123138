"""The cost estimate of a plan: what ``vigie estimate`` and the plans routes share.

- :mod:`.pricing`: the price and equipment catalogues (with a user's overrides), a plan priced;
- :mod:`.dqe`: the DQE itself, pure: priced lines in lots, totals, financing;
- :mod:`.workbook`: the XLSX workbook an AMO puts in a tender file (formulas, French labels);
- :mod:`.files`: the estimate written as XLSX, CSV or JSON, all or nothing.
"""
