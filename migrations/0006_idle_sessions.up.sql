-- The connection budget. Spin pools up to 64 connections per service and never
-- closes one, so five services may hold more connections than a default Postgres
-- allows (100); a service whose pool is small then waits for a slot that another
-- service's idle connection sits on. Here the server closes a service's connection
-- once it has been idle for 200 ms, so the pools shrink to what they use and the
-- slots go where the load is. Spin's pool hands its connections out in turn (first
-- in, first out): under steady traffic each is reused every pool-size / rate
-- seconds, so a timeout of seconds would never fire; at 200 ms a pool keeps about as
-- many connections as it hands out in 200 ms. The pool drops a closed connection
-- when it next hands one out, and kit::db meets a connection closed in a handler's
-- hands on a `SELECT` or a `BEGIN`, which it repeats on a new one.
-- Set per role and per database: other databases on the server keep their own.
DO $$
DECLARE
    service_role TEXT;
BEGIN
    FOREACH service_role IN ARRAY ARRAY['spinshop_users', 'spinshop_products',
                                        'spinshop_orders', 'spinshop_payments',
                                        'spinshop_carts'] LOOP
        EXECUTE format('ALTER ROLE %I IN DATABASE %I SET idle_session_timeout = %L',
                       service_role, current_database(), '200ms');
    END LOOP;
END
$$;
