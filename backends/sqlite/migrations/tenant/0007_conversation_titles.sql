-- A conversation's own title, set when a user renames it; NULL until then (and after a reset),
-- when clients show its first message instead.
ALTER TABLE conversations ADD COLUMN title TEXT;
