SELECT id, name, parent_specialty, subspecialty, experience_categories, is_service_term, is_nights,
       is_rural, is_non_clinical, is_team_based, capacity, capacity_by_term, cohorts, excludable, tags,
       six_month_approved
  FROM positions
 WHERE allocation_run = %(allocation_run)s
 ORDER BY name, id
