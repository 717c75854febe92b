DROP TABLE orders.placements;
