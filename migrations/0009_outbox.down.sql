DROP TABLE users.outbox, users.outbox_sequences;
DROP TABLE orders.outbox, orders.outbox_sequences;
DROP TABLE payments.outbox, payments.outbox_sequences;
