DROP TABLE catalog.product_images;
DROP FUNCTION catalog.forget_unshown_image();
DROP TABLE catalog.images;
