-- Anthropic bills prompt-cache writes at 1.25x input and one-hour writes at
-- 2x. The catalog brings those prices to every row nobody edited, but never
-- overwrites an admin's edit: rows edited before Sluice priced cache writes
-- get the rule applied to their own input price, once, here (rounded up to
-- the micro-USD), instead of billing their writes as plain input.
UPDATE model_prices
SET cache_write_per_mtok = (input_per_mtok * 5 + 3) / 4, cache_write_1h_per_mtok = input_per_mtok * 2
WHERE customized AND cache_write_per_mtok IS NULL AND cache_write_1h_per_mtok IS NULL
  AND (provider = 'anthropic' OR (provider = 'openrouter' AND model LIKE 'anthropic/%'));
