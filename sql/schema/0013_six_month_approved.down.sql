ALTER TABLE positions DROP COLUMN six_month_approved;
