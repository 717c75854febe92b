DROP INDEX payments.payments_unsettled_idx;
ALTER TABLE payments.payments DROP COLUMN settled_at, DROP COLUMN settling_at;
