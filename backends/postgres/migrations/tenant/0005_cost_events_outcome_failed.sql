-- A run that fails after its model produced output or usage (a stream broken off mid-reply, a later
-- call of the tool loop that failed) is booked with outcome 'failed': the provider bills those
-- tokens whether or not the reply reached the client.
ALTER TABLE cost_events DROP CONSTRAINT cost_events_outcome_check;
ALTER TABLE cost_events ADD CONSTRAINT cost_events_outcome_check CHECK (outcome IN ('ok', 'aborted', 'failed'));
