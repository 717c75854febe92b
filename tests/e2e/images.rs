//! products' images: admins upload PNG, JPEG and WebP files (the body is the file),
//! told by their content; anything else, a damaged, oversized or too large file is
//! refused and stores nothing; the order and alt text an admin sets show in the
//! product JSON; files are served by their content hash, cached for good, stored once
//! however many products show them, and deleted with their last use.

use serde_json::{Value, json};
use spinshop_cli::migrate;
use spinshop_tests::{Response, Session, TestApp};

const PNG: &[u8] = include_bytes!("../fixtures/images/4x3.png");
const JPEG: &[u8] = include_bytes!("../fixtures/images/3x2.jpg");
const WEBP: &[u8] = include_bytes!("../fixtures/images/5x4.webp");
const GIF: &[u8] = include_bytes!("../fixtures/images/2x2.gif");
const WIDE_PNG: &[u8] = include_bytes!("../fixtures/images/4097x1.png");

fn images_path(product: i64) -> String {
    format!("/api/products/products/{product}/images")
}

fn image_path(product: i64, image: i64) -> String {
    format!("/api/products/products/{product}/images/{image}")
}

/// Uploads `bytes` to `product` as `token`'s user, with `content_type` as the header
/// (which the server does not read) and `alt` as the query.
async fn upload_as(
    app: &TestApp,
    token: Option<&str>,
    product: i64,
    bytes: &[u8],
    content_type: &str,
    alt: Option<&str>,
) -> Response {
    let path = match alt {
        Some(alt) => format!(
            "{}?alt={}",
            images_path(product),
            alt.replace(' ', "%20").replace('.', "%2E")
        ),
        None => images_path(product),
    };
    let mut request = app
        .request_to("POST", &path)
        .body(content_type, bytes.to_vec());
    if let Some(token) = token {
        request = request.bearer(token);
    }
    request.send().await
}

async fn upload(app: &TestApp, admin: &Session, product: i64, bytes: &[u8]) -> Value {
    let response = upload_as(
        app,
        admin.token(),
        product,
        bytes,
        "application/octet-stream",
        None,
    )
    .await;
    assert_eq!(response.status, 201, "upload: {}", response.text());
    response.json()
}

async fn product(app: &TestApp, id: i64) -> Value {
    let response = app.get(&format!("/api/products/products/{id}"), None).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

/// The ids of a product's images, in the order the product JSON lists them.
async fn image_ids(app: &TestApp, id: i64) -> Vec<i64> {
    product(app, id).await["images"]
        .as_array()
        .expect("images")
        .iter()
        .map(|image| image["id"].as_i64().expect("an image id"))
        .collect()
}

/// The positions stored for a product's images, in order: always 0, 1, ... .
async fn stored_positions(app: &TestApp, id: i64) -> Vec<i32> {
    app.db()
        .await
        .query(
            "SELECT position FROM catalog.product_images WHERE product_id = $1 ORDER BY position",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn an_admin_uploads_png_jpeg_and_webp_files_and_the_product_lists_them_in_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;

    let png = upload_as(
        &app,
        admin.token(),
        id,
        PNG,
        "image/png",
        Some("A navy keyboard"),
    )
    .await;
    assert_eq!(png.status, 201, "{}", png.text());
    let png = png.json();
    assert!(png["id"].as_i64().unwrap() > 0);
    assert_eq!(png["alt"], "A navy keyboard");
    assert_eq!(
        (png["width"].as_i64(), png["height"].as_i64()),
        (Some(4), Some(3))
    );
    let url = png["url"].as_str().unwrap();
    assert!(
        url.starts_with("/api/products/images/") && url.ends_with(".png"),
        "{url}"
    );
    // The content type sent is not what decides: a JPEG sent as text is a JPEG.
    let jpeg = upload_as(&app, admin.token(), id, JPEG, "text/plain", None).await;
    assert_eq!(jpeg.status, 201, "{}", jpeg.text());
    assert_eq!(
        jpeg.header("location"),
        jpeg.json()["url"].as_str(),
        "the answer says where the file is served"
    );
    let jpeg = jpeg.json();
    assert!(jpeg["url"].as_str().unwrap().ends_with(".jpg"));
    assert_eq!(jpeg["alt"], "");
    let webp = upload(&app, &admin, id, WEBP).await;
    assert!(webp["url"].as_str().unwrap().ends_with(".webp"));
    assert_eq!(
        (webp["width"].as_i64(), webp["height"].as_i64()),
        (Some(5), Some(4))
    );

    let shown = product(&app, id).await["images"].clone();
    assert_eq!(shown, json!([png, jpeg, webp]), "in the order they came");
    let list = app.get("/api/products/products", None).await.json();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|product| product["id"] == id)
        .expect("the product is listed");
    assert_eq!(listed["images"], shown, "the list shows them too");
    assert_eq!(stored_positions(&app, id).await, [0, 1, 2]);

    // A product without images lists none.
    let other = app.create_product(&admin, "Mouse", 499, 5).await;
    assert_eq!(product(&app, other).await["images"], json!([]));
}

#[tokio::test]
async fn images_are_served_by_their_hash_with_type_etag_and_immutable_caching() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;
    for (bytes, content_type) in [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
    ] {
        let image = upload(&app, &admin, id, bytes).await;
        let url = image["url"].as_str().unwrap();
        let hash = url.rsplit('/').next().unwrap().split('.').next().unwrap();

        let served = app.get(url, None).await;
        assert_eq!(served.status, 200, "{url}");
        assert_eq!(served.header("content-type"), Some(content_type));
        assert_eq!(served.body.as_ref(), bytes, "the bytes uploaded");
        let etag = format!("\"{hash}\"");
        assert_eq!(served.header("etag"), Some(etag.as_str()));
        assert_eq!(
            served.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(
            served.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );

        for tag in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"other\", {etag}"),
        ] {
            let again = app
                .request_to("GET", url)
                .header("if-none-match", &tag)
                .send()
                .await;
            assert_eq!(again.status, 304, "{tag}");
            assert!(again.body.is_empty());
            assert_eq!(again.header("etag"), Some(etag.as_str()));
            assert_eq!(
                again.header("cache-control"),
                Some("public, max-age=31536000, immutable")
            );
        }
        let stale = app
            .request_to("GET", url)
            .header("if-none-match", "\"something-else\"")
            .send()
            .await;
        assert_eq!(stale.status, 200);

        // The same hash under another format's extension names nothing.
        let other_extension = if url.ends_with(".png") { "webp" } else { "png" };
        let wrong = app
            .get(
                &format!("/api/products/images/{hash}.{other_extension}"),
                None,
            )
            .await;
        assert_eq!(wrong.status, 404);
    }
    for unknown in [
        format!("/api/products/images/{}.png", "0".repeat(64)),
        "/api/products/images/not-a-hash.png".to_string(),
        format!("/api/products/images/{}.gif", "0".repeat(64)),
    ] {
        let response = app.get(&unknown, None).await;
        assert_eq!(response.status, 404, "{unknown}");
        assert_eq!(response.error_code(), "not_found");
    }
    let unknown_with_etag = app
        .request_to(
            "GET",
            &format!("/api/products/images/{}.png", "0".repeat(64)),
        )
        .header("if-none-match", "*")
        .send()
        .await;
    assert_eq!(unknown_with_etag.status, 404, "no 304 for what isn't there");
}

#[tokio::test]
async fn files_that_are_no_accepted_image_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;
    let mut oversized = PNG.to_vec();
    oversized.resize(2 * 1024 * 1024 + 1, 0);
    let cases: [(&str, Vec<u8>, &str, u16, &str); 8] = [
        (
            "a GIF",
            GIF.to_vec(),
            "image/gif",
            415,
            "unsupported_media_type",
        ),
        (
            "text",
            b"just some words".to_vec(),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        // A GIF called a PNG, with a PNG's content type: its bytes decide.
        (
            "a renamed GIF",
            GIF.to_vec(),
            "image/png",
            415,
            "unsupported_media_type",
        ),
        (
            "a cut-off JPEG",
            JPEG[..JPEG.len() / 2].to_vec(),
            "image/jpeg",
            422,
            "validation_error",
        ),
        (
            "a cut-off PNG",
            PNG[..PNG.len() - 4].to_vec(),
            "image/png",
            422,
            "validation_error",
        ),
        (
            "too many pixels",
            WIDE_PNG.to_vec(),
            "image/png",
            422,
            "validation_error",
        ),
        ("nothing", Vec::new(), "image/png", 400, "validation_error"),
        (
            "over 2 MiB",
            oversized,
            "image/png",
            413,
            "payload_too_large",
        ),
    ];
    for (what, bytes, content_type, status, code) in cases {
        let response = upload_as(
            &app,
            admin.token(),
            id,
            &bytes,
            content_type,
            Some("photo.png"),
        )
        .await;
        assert_eq!(response.status, status, "{what}: {}", response.text());
        assert_eq!(response.error_code(), code, "{what}");
        assert!(
            !response.json()["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{what} says why"
        );
    }
    let wide = upload_as(&app, admin.token(), id, WIDE_PNG, "image/png", None).await;
    assert!(wide.text().contains("4097×1"), "{}", wide.text());
    let gif = upload_as(&app, admin.token(), id, GIF, "image/png", None).await;
    assert!(gif.text().contains("PNG, JPEG or WebP"), "{}", gif.text());

    let long_alt = "x".repeat(301);
    let response = upload_as(&app, admin.token(), id, PNG, "image/png", Some(&long_alt)).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_field(), "alt");

    assert_eq!(app.count("catalog.images").await, 0);
    assert_eq!(app.count("catalog.product_images").await, 0);
    assert_eq!(product(&app, id).await["images"], json!([]));
}

#[tokio::test]
async fn only_admins_change_images_and_anyone_sees_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = app.register("carol@example.com", "password-1").await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;
    let image = upload(&app, &admin, id, PNG).await;
    let image_id = image["id"].as_i64().unwrap();

    for (token, status) in [(None, 401), (customer.token(), 403)] {
        let posted = upload_as(&app, token, id, JPEG, "image/jpeg", None).await;
        assert_eq!(posted.status, status, "{}", posted.text());
        let patched = app
            .patch(&image_path(id, image_id), &json!({"alt": "mine"}), token)
            .await;
        assert_eq!(patched.status, status);
        let deleted = app.delete(&image_path(id, image_id), token).await;
        assert_eq!(deleted.status, status);
    }
    // Nobody but the admin changed anything, and everybody sees the image.
    assert_eq!(app.count("catalog.product_images").await, 1);
    assert_eq!(app.count("catalog.images").await, 1);
    assert_eq!(product(&app, id).await["images"], json!([image]));
    let served = app.get(image["url"].as_str().unwrap(), None).await;
    assert_eq!(served.status, 200);
}

#[tokio::test]
async fn an_admin_reorders_describes_and_deletes_images_and_positions_stay_consistent() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;
    let a = upload(&app, &admin, id, PNG).await["id"].as_i64().unwrap();
    let b = upload(&app, &admin, id, JPEG).await["id"].as_i64().unwrap();
    let c = upload(&app, &admin, id, WEBP).await["id"].as_i64().unwrap();

    let patch = async |image: i64, body: Value| {
        app.patch(&image_path(id, image), &body, admin.token())
            .await
    };
    let moved = patch(c, json!({"position": 0})).await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert_eq!(moved.json()["id"], c);
    assert_eq!(image_ids(&app, id).await, [c, a, b]);
    // Past the end means last.
    assert_eq!(patch(c, json!({"position": 99})).await.status, 200);
    assert_eq!(image_ids(&app, id).await, [a, b, c]);
    assert_eq!(patch(a, json!({"position": 1})).await.status, 200);
    assert_eq!(image_ids(&app, id).await, [b, a, c]);
    assert_eq!(stored_positions(&app, id).await, [0, 1, 2]);

    let described = patch(a, json!({"alt": "  The keyboard from above "})).await;
    assert_eq!(described.status, 200);
    assert_eq!(described.json()["alt"], "The keyboard from above");
    let both = patch(b, json!({"alt": "Side view", "position": 2})).await;
    assert_eq!(both.json()["alt"], "Side view");
    assert_eq!(image_ids(&app, id).await, [a, c, b]);
    let shown = product(&app, id).await;
    assert_eq!(shown["images"][0]["alt"], "The keyboard from above");

    for (body, field) in [
        (json!({"position": -1}), Some("position")),
        (json!({"alt": "x".repeat(301)}), Some("alt")),
        (json!({}), None),
        (json!({"alt": "x", "url": "/elsewhere"}), None),
    ] {
        let refused = patch(a, body.clone()).await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.text());
        if let Some(field) = field {
            assert_eq!(refused.error_field(), field, "{body}");
        }
    }

    let deleted = app.delete(&image_path(id, c), admin.token()).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    assert_eq!(image_ids(&app, id).await, [a, b]);
    assert_eq!(stored_positions(&app, id).await, [0, 1]);
    let again = app.delete(&image_path(id, c), admin.token()).await;
    assert_eq!(again.status, 404);
    assert_eq!(
        app.count("catalog.images").await,
        2,
        "the WebP file went with its use"
    );
}

#[tokio::test]
async fn identical_bytes_are_stored_once_and_deleted_with_their_last_use() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;
    let mouse = app.create_product(&admin, "Mouse", 499, 5).await;
    let first = upload(&app, &admin, keyboard, PNG).await;
    let second = upload(&app, &admin, mouse, PNG).await;
    let twice = upload(&app, &admin, mouse, PNG).await;
    assert_eq!(first["url"], second["url"], "one file, one URL");
    assert_eq!(second["url"], twice["url"]);
    assert_ne!(second["id"], twice["id"], "each use is an image of its own");
    assert_eq!(app.count("catalog.images").await, 1);
    assert_eq!(app.count("catalog.product_images").await, 3);

    let url = first["url"].as_str().unwrap();
    let first_id = first["id"].as_i64().unwrap();
    let deleted = app
        .delete(&image_path(keyboard, first_id), admin.token())
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        app.get(url, None).await.status,
        200,
        "the mouse still shows it"
    );

    // Deleting the product (never ordered, so erased) takes its images along.
    let removed = app
        .delete(&format!("/api/products/products/{mouse}"), admin.token())
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(app.count("catalog.product_images").await, 0);
    assert_eq!(app.count("catalog.images").await, 0);
    assert_eq!(app.get(url, None).await.status, 404);
}

#[tokio::test]
async fn a_product_shows_at_most_eight_images() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;
    for _ in 0..8 {
        upload(&app, &admin, id, WEBP).await;
    }
    let ninth = upload_as(&app, admin.token(), id, JPEG, "image/jpeg", None).await;
    assert_eq!(ninth.status, 409, "{}", ninth.text());
    assert_eq!(ninth.error_code(), "too_many_images");
    assert_eq!(app.count("catalog.product_images").await, 8);
    assert_eq!(
        app.count("catalog.images").await,
        1,
        "the JPEG was not kept"
    );
    assert_eq!(stored_positions(&app, id).await, (0..8).collect::<Vec<_>>());
}

#[tokio::test]
async fn images_of_unknown_products_or_of_other_products_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;
    let mouse = app.create_product(&admin, "Mouse", 499, 5).await;
    let image = upload(&app, &admin, keyboard, PNG).await["id"]
        .as_i64()
        .unwrap();

    let nowhere = upload_as(&app, admin.token(), 999_999, PNG, "image/png", None).await;
    assert_eq!(nowhere.status, 404, "{}", nowhere.text());
    assert_eq!(
        app.count("catalog.images").await,
        1,
        "nothing kept for no product"
    );
    let not_an_id = upload_as(&app, admin.token(), 0, PNG, "image/png", None).await;
    assert_eq!(not_an_id.status, 404);

    let elsewhere = app
        .patch(
            &image_path(mouse, image),
            &json!({"alt": "x"}),
            admin.token(),
        )
        .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.text());
    assert_eq!(
        app.delete(&image_path(mouse, image), admin.token())
            .await
            .status,
        404
    );
    let odd = app
        .delete(
            &format!("/api/products/products/{keyboard}/images/abc"),
            admin.token(),
        )
        .await;
    assert_eq!(odd.status, 404);
    assert_eq!(image_ids(&app, keyboard).await, [image]);
}

#[tokio::test]
async fn the_demo_catalog_has_a_picture_for_every_product() {
    let app = TestApp::spawn().await;
    let added = migrate::load_demo_catalog(&app.superuser_url())
        .await
        .unwrap();
    assert!(added > 0);
    let list = app
        .get("/api/products/products?limit=100", None)
        .await
        .json();
    let products = list.as_array().unwrap();
    assert_eq!(products.len() as u64, added);
    for product in products {
        let images = product["images"].as_array().unwrap();
        assert_eq!(images.len(), 1, "{}", product["name"]);
        let image = &images[0];
        assert!(!image["alt"].as_str().unwrap().is_empty());
        assert_eq!(
            (image["width"].as_i64(), image["height"].as_i64()),
            (Some(600), Some(600))
        );
        let served = app.get(image["url"].as_str().unwrap(), None).await;
        assert_eq!(served.status, 200);
        assert_eq!(served.header("content-type"), Some("image/webp"));
    }
}
