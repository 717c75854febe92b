DROP SCHEMA carts CASCADE;
-- The role is shared by every database on the server; keep it while another one uses it.
DO $$
BEGIN
    DROP ROLE IF EXISTS spinshop_carts;
EXCEPTION WHEN dependent_objects_still_exist THEN
    NULL;
END
$$;
