-- How many workers earlier rounds already hold (after earlier_rounds.sql), to explain a round
-- left with no worker.
SELECT count(*) FROM earlier_round_allocations
