-- Limits an operator set for one tenant over its plan's (PATCH /api/tenants/:id): a JSON object
-- of limit name to positive integer; a name that is missing takes the plan's value.
ALTER TABLE tenants ADD COLUMN limit_overrides TEXT NOT NULL DEFAULT '{}';
