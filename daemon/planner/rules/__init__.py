"""The planner's rules: one module per named constraint of SPEC §5, and their registry.

Semantics shared by every rule (the independent checker, ``daemon.checks.planner``, implements
the same text separately):

- Shares are of the year's term weeks (52), leave not deducted; percentages are exact integer
  comparisons (25% of 52 weeks admits 13).
- Service = ``is_service_term`` or ``is_nights`` (SPEC: "service (nights/relief) term").
- Specialty names compare case-insensitively, whole name ("Emergency Medicine" is not
  "Medicine"); an empty subspecialty belongs to no subspecialty for the 25% cap. For PGY2's
  long terms in different subspecialties a post with none counts as its parent specialty;
  a post with no specialty at all counts towards no distinct one.
- Cohorts HMO3 / PGY3 and later select no template with a state (the always-on rules only).
- With ALLOW_6_MONTH_TERMS, one position in two consecutive terms of 24-28 weeks together is
  one 6-month term for the term counts (``>= k terms of >= 10 weeks``, exactly k terms, the
  four-term service exception); caps that count terms of a kind (service, rural, non-clinical)
  count both. Any other repeat of a position is barred. Under VIC_PGY2 a 6-month term needs
  ``six_month_approved``, A, B and C outside it, and is exempt from the 25% subspecialty cap.
- Template settings with a slot (NSW's five terms and one service term) are replaced by an
  explicit NUM_TERMS=k / MAX_SERVICE_TERMS=k; everything else accumulates.
"""

from daemon.planner.rules.base import LineVars, Rule, Shortfall
from daemon.planner.rules.registry import RuleSet, meaning, resolve, valid_names

__all__ = ["LineVars", "Rule", "RuleSet", "Shortfall", "meaning", "resolve", "valid_names"]
