-- A provider that reports impossible usage (above the request's bound, negative, fractional, not a
-- number) is booked at the call's bound; the event says so. NULL: the usage was taken as reported.
ALTER TABLE cost_events ADD COLUMN usage_anomaly TEXT CHECK (usage_anomaly IN ('over_bound', 'invalid'));
