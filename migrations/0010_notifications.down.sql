DO $$
BEGIN
    EXECUTE format('ALTER ROLE spinshop_notifications IN DATABASE %I RESET idle_session_timeout',
                   current_database());
END
$$;
DROP SCHEMA notify CASCADE;
-- The role is shared by every database on the server; keep it while another one uses it.
DO $$
BEGIN
    DROP ROLE IF EXISTS spinshop_notifications;
EXCEPTION WHEN dependent_objects_still_exist THEN
    NULL;
END
$$;
