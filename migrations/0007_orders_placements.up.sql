-- orders: placements under way. An order's id is drawn, and its stock reserved at
-- products, before the order is stored. The placement is recorded first, so one that
-- dies halfway (the database gone, a sibling hanging, the instance stopped) leaves a
-- trace: storing the order deletes the placement in the same transaction, and a
-- placement that outlives its request is taken over by a later one, which gives back
-- whatever stock it may hold.
CREATE TABLE orders.placements (
    -- the id the order will have; products keys the reservation by it
    order_id     BIGINT PRIMARY KEY,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- set when the placement is given up and its stock released: from then on its
    -- order can't be stored
    abandoned_at TIMESTAMPTZ
);
CREATE INDEX placements_started_idx ON orders.placements (started_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON orders.placements TO spinshop_orders;
