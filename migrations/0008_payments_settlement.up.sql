-- payments: whether orders has heard of each charge. A charge is recorded before
-- orders is told (paid, or payment failed); a request that dies in between (the
-- database or orders gone, the instance stopped) leaves the charge unsettled, and a
-- later payment request takes it over and tells orders.
ALTER TABLE payments.payments
    -- when orders acknowledged the charge's outcome
    ADD COLUMN settled_at  TIMESTAMPTZ,
    -- when a later request last took the unsettled charge over
    ADD COLUMN settling_at TIMESTAMPTZ;
UPDATE payments.payments SET settled_at = updated_at;
CREATE INDEX payments_unsettled_idx ON payments.payments (created_at) WHERE settled_at IS NULL;
