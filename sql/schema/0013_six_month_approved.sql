-- VIC_PGY2 allows a six-month term (two consecutive terms of about 26 weeks in one post) only
-- on a post that meets the state strategy's conditions (1)-(3): its specialty has two
-- subspecialty components, it is tied to a diploma or certificate, and the vocational college
-- requires a six-month placement. Those are facts about the post, kept here; condition (4),
-- categories A, B and C in the remaining terms, is checked per line by the planner.
ALTER TABLE positions ADD COLUMN six_month_approved boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN positions.six_month_approved IS
    'VIC_PGY2: a six-month term may be built on this post (two subspecialty components, tied to a '
    'diploma or certificate, six months required by the college)';
