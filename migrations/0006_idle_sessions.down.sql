DO $$
DECLARE
    service_role TEXT;
BEGIN
    FOREACH service_role IN ARRAY ARRAY['spinshop_users', 'spinshop_products',
                                        'spinshop_orders', 'spinshop_payments',
                                        'spinshop_carts'] LOOP
        EXECUTE format('ALTER ROLE %I IN DATABASE %I RESET idle_session_timeout',
                       service_role, current_database());
    END LOOP;
END
$$;
