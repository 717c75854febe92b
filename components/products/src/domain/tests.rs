//! The catalog's rules, exercised through what the domain offers the handlers.

use serde_json::json;
use spinshop_kit::{ApiError, ApiResult};

use super::*;

fn fields(name: &str, price: i64, stock: Option<i64>) -> ProductFields<'_> {
    ProductFields {
        name,
        price,
        stock,
        description: None,
        currency: None,
        category: None,
    }
}

fn field_of(err: &ApiError) -> String {
    err.body()["error"]["details"]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn reserve(json: serde_json::Value) -> ApiResult<ReservationRequest> {
    ReservationRequest::parse(serde_json::from_value(json).unwrap())
}

#[test]
fn names_are_trimmed_and_bounded() {
    assert_eq!(Name::parse("  Keyboard ").unwrap().as_str(), "Keyboard");
    assert_eq!(
        Name::parse(&"é".repeat(200))
            .unwrap()
            .as_str()
            .chars()
            .count(),
        200
    );
    for bad in ["", "   ", &"x".repeat(201)] {
        let err = Name::parse(bad).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(field_of(&err), "name");
    }
}

#[test]
fn prices_stock_and_quantities_have_bounds() {
    assert_eq!(Price::parse(0).unwrap().cents(), 0);
    assert!(Price::parse(MAX_PRICE).is_ok());
    assert_eq!(field_of(&Price::parse(-1).unwrap_err()), "price");
    assert!(Price::parse(MAX_PRICE + 1).is_err());
    assert!(Stock::parse(0).is_ok());
    assert_eq!(field_of(&Stock::parse(-1).unwrap_err()), "stock");
    assert!(Quantity::parse(1, "qty").is_ok());
    assert!(Quantity::parse(1000, "qty").is_ok());
    for bad in [0, -1, 1001] {
        let err = Quantity::parse(bad, "items[2].qty").unwrap_err();
        assert_eq!(err.to_string(), "items[2].qty must be between 1 and 1000");
    }
}

#[test]
fn currencies_are_three_upper_case_letters() {
    assert_eq!(Currency::parse("EUR").unwrap().as_str(), "EUR");
    for bad in ["usd", "US", "USDT", "U$D", ""] {
        assert_eq!(
            field_of(&Currency::parse(bad).unwrap_err()),
            "currency",
            "{bad}"
        );
    }
}

#[test]
fn a_new_product_takes_defaults() {
    let product = NewProduct::parse(fields("Keyboard", 999, None)).unwrap();
    assert_eq!(product.stock.units(), 0);
    assert_eq!(product.currency.as_str(), "USD");
    assert_eq!(product.description, None);
    let product = NewProduct::parse(ProductFields {
        description: Some("  "),
        currency: Some("EUR"),
        ..fields("Mouse", 1, Some(3))
    })
    .unwrap();
    assert_eq!(product.description, None, "a blank description is none");
    assert_eq!(product.currency.as_str(), "EUR");
}

#[test]
fn a_replacement_must_state_the_stock() {
    let err = NewProduct::replacement(fields("Keyboard", 999, None)).unwrap_err();
    assert_eq!(field_of(&err), "stock");
    assert!(NewProduct::replacement(fields("K", 9, Some(0))).is_ok());
}

#[test]
fn a_patch_changes_something_and_can_clear_the_description() {
    let patch = ProductPatch::parse;
    let nothing = ProductFieldsPatch::default;
    assert_eq!(patch(nothing()).unwrap_err().status(), 400);
    let cleared = patch(ProductFieldsPatch {
        description: Some(""),
        ..nothing()
    })
    .unwrap();
    assert_eq!(cleared.description, Some(None));
    let priced = patch(ProductFieldsPatch {
        price: Some(5),
        ..nothing()
    })
    .unwrap();
    assert_eq!(priced.price, Some(Price::parse(5).unwrap()));
    assert_eq!(priced.name, None);
    let negative = patch(ProductFieldsPatch {
        stock: Some(-2),
        ..nothing()
    });
    assert_eq!(field_of(&negative.unwrap_err()), "stock");
}

fn list(q: Option<&str>, available: Option<&str>, archived: Option<&str>) -> ApiResult<ListFilter> {
    ListFilter::parse(&ListQuery {
        q,
        available,
        include_archived: archived,
        ..ListQuery::default()
    })
    .map(|(filter, _)| filter)
}

#[test]
fn list_filters_parse_flags_strictly() {
    let filter = list(Some("  key "), Some("true"), None).unwrap();
    assert_eq!(filter.search.unwrap().text, "key");
    assert_eq!(filter.available, Some(true));
    assert!(!filter.include_archived);
    assert_eq!(list(Some(""), None, None).unwrap().search, None);
    assert!(list(None, None, Some("true")).unwrap().include_archived);
    assert_eq!(
        field_of(&list(None, Some("yes"), None).unwrap_err()),
        "available"
    );
    assert_eq!(
        field_of(&list(None, None, Some("1")).unwrap_err()),
        "include_archived"
    );
}

#[test]
fn reservation_lines_are_sorted_by_product() {
    let request = reserve(json!({"order_id": "12", "items": [
        {"product_id": 9, "qty": 1}, {"product_id": "3", "qty": 2}
    ]}))
    .unwrap();
    assert_eq!(request.order_id, 12);
    let ids: Vec<i64> = request.lines().iter().map(|line| line.product_id).collect();
    assert_eq!(ids, [3, 9]);
}

#[test]
fn reservations_refuse_empty_oversized_and_repeated_lines() {
    let err = reserve(json!({"order_id": 1, "items": []})).unwrap_err();
    assert_eq!(field_of(&err), "items");
    let many: Vec<_> = (1..=101)
        .map(|id| json!({"product_id": id, "qty": 1}))
        .collect();
    assert_eq!(
        field_of(&reserve(json!({"order_id": 1, "items": many})).unwrap_err()),
        "items"
    );
    let err = reserve(json!({"order_id": 1, "items": [
        {"product_id": 4, "qty": 1}, {"product_id": 5, "qty": 1}, {"product_id": 4, "qty": 2}
    ]}))
    .unwrap_err();
    assert_eq!(field_of(&err), "items[2].product_id");
    let err = reserve(json!({"order_id": 1, "items": [{"product_id": 4, "qty": 0}]})).unwrap_err();
    assert_eq!(field_of(&err), "items[0].qty");
}

#[test]
fn stock_levels_count_what_can_still_be_reserved() {
    assert_eq!(StockLevel::new(1, 10, 4, false).available, 6);
    assert_eq!(StockLevel::new(1, 10, 4, true).available, 0, "archived");
    let err = StockLevel::new(7, 3, 1, false).insufficient_for(Quantity::parse(5, "qty").unwrap());
    assert_eq!(err.status(), 409);
    assert_eq!(
        err.body()["error"]["details"],
        json!({"product_id": 7, "requested": 5, "available": 2})
    );
    assert_eq!(err.code(), "insufficient_stock");
    let err = StockLevel::new(7, 10, 6, false).below_reserved(Stock::parse(5).unwrap());
    assert_eq!(err.status(), 409);
    assert_eq!(err.body()["error"]["details"]["reserved"], 6);
}

#[test]
fn finished_reservations_accept_repeats_but_not_the_other_ending() {
    let reservation = |status| Reservation {
        order_id: 5,
        status,
        items: Vec::new(),
        created_at: String::new(),
        updated_at: String::new(),
    };
    assert!(
        reservation(ReservationStatus::Released)
            .ensure_status(ReservationStatus::Released)
            .is_ok()
    );
    let err = reservation(ReservationStatus::Committed)
        .ensure_status(ReservationStatus::Released)
        .unwrap_err();
    assert_eq!(err.code(), "invalid_state");
    assert_eq!(err.body()["error"]["details"]["status"], "committed");
    for status in [
        ReservationStatus::Reserved,
        ReservationStatus::Released,
        ReservationStatus::Committed,
    ] {
        assert_eq!(ReservationStatus::parse(status.as_str()), Some(status));
    }
}

#[test]
fn a_product_reads_as_the_view_siblings_take() {
    let product = Product {
        id: 3,
        name: "Keyboard".into(),
        description: None,
        price: 999,
        currency: "USD".into(),
        stock: 5,
        reserved: 1,
        available: true,
        archived: false,
        category: Some(CategoryRef {
            slug: "input".into(),
            name: "Input devices".into(),
        }),
        images: vec![super::image::ProductImage {
            id: 1,
            url: image_url(&"ab".repeat(32), ImageFormat::WebP),
            alt: "A keyboard".into(),
            width: 600,
            height: 600,
        }],
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
    };
    let json = serde_json::to_value(&product).unwrap();
    let view: spinshop_kit::contracts::ProductView = serde_json::from_value(json).unwrap();
    assert_eq!((view.id, view.price, view.available), (3, 999, true));
    assert_eq!(
        (view.name.as_str(), view.currency.as_str()),
        ("Keyboard", "USD")
    );
}

#[test]
fn slugs_are_lower_case_words_joined_by_hyphens() {
    for good in ["audio", "usb-c-hubs", "4k", "a", &"a".repeat(64)] {
        assert_eq!(Slug::parse(good, "slug").unwrap().as_str(), good);
    }
    for bad in [
        "",
        "Audio",
        "usb c",
        "usb--c",
        "-audio",
        "audio-",
        "au_dio",
        "caf\u{e9}",
        &"a".repeat(65),
    ] {
        let err = Slug::parse(bad, "parent").unwrap_err();
        assert_eq!(err.status(), 400, "{bad}");
        assert_eq!(field_of(&err), "parent", "{bad}");
    }
}

#[test]
fn new_categories_are_checked_field_by_field() {
    let category = NewCategory::parse("audio", "  Audio ", Some("electronics")).unwrap();
    assert_eq!(category.name.as_str(), "Audio");
    assert_eq!(category.parent.unwrap().as_str(), "electronics");
    assert_eq!(
        field_of(&NewCategory::parse("Audio", "Audio", None).unwrap_err()),
        "slug"
    );
    assert_eq!(
        field_of(&NewCategory::parse("audio", " ", None).unwrap_err()),
        "name"
    );
    let long_name = "x".repeat(101);
    assert_eq!(
        field_of(&NewCategory::parse("audio", &long_name, None).unwrap_err()),
        "name"
    );
    assert_eq!(
        field_of(&NewCategory::parse("audio", "Audio", Some("audio")).unwrap_err()),
        "parent"
    );
}

#[test]
fn a_category_patch_changes_something_and_never_parents_itself() {
    let audio = Slug::parse("audio", "slug").unwrap();
    let top = CategoryPatch::parse(&audio, None, Some(None)).unwrap();
    assert_eq!(top.parent, Some(None));
    let renamed = CategoryPatch::parse(&audio, Some("Sound"), None).unwrap();
    assert_eq!(renamed.name.unwrap().as_str(), "Sound");
    assert_eq!(renamed.parent, None);
    assert_eq!(
        CategoryPatch::parse(&audio, None, None)
            .unwrap_err()
            .status(),
        400
    );
    let own = CategoryPatch::parse(&audio, None, Some(Some("audio"))).unwrap_err();
    assert_eq!(field_of(&own), "parent");
}

#[test]
fn categories_nest_two_levels_deep_at_most() {
    let (audio, electronics) = (
        Slug::parse("audio", "slug").unwrap(),
        Slug::parse("electronics", "slug").unwrap(),
    );
    let placement = |has_children, grandparent| Placement {
        slug: &audio,
        has_children,
        parent: &electronics,
        grandparent,
    };
    assert!(placement(false, None).check().is_ok());
    for refused in [placement(true, None), placement(false, Some("shop"))] {
        let err = refused.check().unwrap_err();
        assert_eq!(err.status(), 409);
        assert_eq!(err.code(), "category_too_deep");
    }
}

#[test]
fn the_tree_puts_children_under_their_parents_in_order() {
    let category = |slug: &str, parent: Option<&str>, count| Category {
        slug: slug.into(),
        name: slug.to_uppercase(),
        parent: parent.map(String::from),
        count,
    };
    let tree = category_tree(vec![
        category("accessories", None, 1),
        category("audio", Some("electronics"), 2),
        category("electronics", None, 5),
        category("computers", Some("electronics"), 3),
    ]);
    let shape: Vec<(&str, Vec<&str>)> = tree
        .iter()
        .map(|node| {
            (
                node.category.slug.as_str(),
                node.children.iter().map(|c| c.slug.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            ("accessories", vec![]),
            ("electronics", vec!["audio", "computers"])
        ]
    );
    assert_eq!(
        serde_json::to_value(&tree[1]).unwrap()["children"][0],
        json!({"slug": "audio", "name": "AUDIO", "parent": "electronics", "count": 2})
    );
}

#[test]
fn products_name_their_category_by_slug() {
    let product = NewProduct::parse(ProductFields {
        category: Some("audio"),
        ..fields("Headphones", 1, None)
    })
    .unwrap();
    assert_eq!(product.category.unwrap().as_str(), "audio");
    let bad = NewProduct::parse(ProductFields {
        category: Some("Audio"),
        ..fields("Headphones", 1, None)
    });
    assert_eq!(field_of(&bad.unwrap_err()), "category");
    let out = ProductPatch::parse(ProductFieldsPatch {
        category: Some(None),
        ..ProductFieldsPatch::default()
    })
    .unwrap();
    assert_eq!(out.category, Some(None));
}

// Images --------------------------------------------------------------------------

use super::image::{
    ImageFormat, ImagePatch, ImagePatchFields, ImageUpload, MAX_IMAGE_BYTES, image_url, parse_alt,
    parse_image_name,
};

const PNG: &[u8] = include_bytes!("../../../../tests/fixtures/images/4x3.png");
const JPEG: &[u8] = include_bytes!("../../../../tests/fixtures/images/3x2.jpg");
const WEBP: &[u8] = include_bytes!("../../../../tests/fixtures/images/5x4.webp");
const GIF: &[u8] = include_bytes!("../../../../tests/fixtures/images/2x2.gif");
const WIDE_PNG: &[u8] = include_bytes!("../../../../tests/fixtures/images/4097x1.png");

#[test]
fn png_jpeg_and_webp_files_are_read_by_their_content() {
    for (bytes, format, width, height) in [
        (PNG, ImageFormat::Png, 4, 3),
        (JPEG, ImageFormat::Jpeg, 3, 2),
        (WEBP, ImageFormat::WebP, 5, 4),
    ] {
        let upload = ImageUpload::parse(bytes.to_vec()).unwrap();
        assert_eq!(
            (upload.format, upload.width, upload.height),
            (format, width, height)
        );
        assert_eq!(upload.sha256.len(), 64);
        assert_eq!(upload.bytes, bytes);
    }
    // The same bytes, the same key.
    assert_eq!(
        ImageUpload::parse(PNG.to_vec()).unwrap().sha256,
        ImageUpload::parse(PNG.to_vec()).unwrap().sha256
    );
}

#[test]
fn other_files_are_415_whatever_they_are_called() {
    for bytes in [GIF, b"hello, this is text".as_slice(), b"<svg></svg>"] {
        let err = ImageUpload::parse(bytes.to_vec()).unwrap_err();
        assert_eq!(err.status(), 415, "{err}");
        assert_eq!(err.code(), "unsupported_media_type");
    }
    assert_eq!(ImageUpload::parse(Vec::new()).unwrap_err().status(), 400);
}

#[test]
fn damaged_or_cut_off_files_are_422() {
    for bytes in [PNG, JPEG, WEBP] {
        for cut in [12, bytes.len() / 2, bytes.len() - 1] {
            let err = ImageUpload::parse(bytes[..cut].to_vec()).unwrap_err();
            assert_eq!(err.status(), 422, "{cut} of {} bytes: {err}", bytes.len());
            assert!(err.to_string().contains("damaged or cut short"), "{err}");
        }
    }
    // Zero padding after a JPEG's end is harmless; anything else after it is not.
    let mut padded = JPEG.to_vec();
    padded.extend([0, 0, 0]);
    assert!(ImageUpload::parse(padded).is_ok());
    let mut trailing = JPEG.to_vec();
    trailing.extend(b"junk");
    assert_eq!(ImageUpload::parse(trailing).unwrap_err().status(), 422);
}

#[test]
fn dimensions_and_size_are_bounded() {
    let err = ImageUpload::parse(WIDE_PNG.to_vec()).unwrap_err();
    assert_eq!(err.status(), 422);
    assert!(err.to_string().contains("4097×1"), "{err}");
    let mut huge = PNG.to_vec();
    huge.resize(MAX_IMAGE_BYTES + 1, 0);
    assert_eq!(ImageUpload::parse(huge).unwrap_err().status(), 413);
}

#[test]
fn alt_text_and_positions_are_checked() {
    assert_eq!(parse_alt("  A keyboard ").unwrap(), "A keyboard");
    assert_eq!(field_of(&parse_alt(&"x".repeat(301)).unwrap_err()), "alt");
    let patch = |alt: Option<&str>, position: Option<i64>| {
        ImagePatch::parse(ImagePatchFields { alt, position })
    };
    assert_eq!(patch(None, Some(99)).unwrap().position, Some(7));
    assert_eq!(patch(None, Some(0)).unwrap().position, Some(0));
    assert_eq!(field_of(&patch(None, Some(-1)).unwrap_err()), "position");
    assert_eq!(patch(Some(""), None).unwrap().alt.as_deref(), Some(""));
    assert_eq!(patch(None, None).unwrap_err().status(), 400);
}

#[test]
fn image_urls_name_the_hash_and_read_back() {
    let hash = "ab".repeat(32);
    let url = image_url(&hash, ImageFormat::Jpeg);
    assert_eq!(url, format!("/api/products/images/{hash}.jpg"));
    let name = url.rsplit('/').next().unwrap();
    assert_eq!(
        parse_image_name(name),
        Some((hash.as_str(), ImageFormat::Jpeg))
    );
    for odd in [
        format!("{hash}.gif"),
        format!("{hash}.jpeg"),
        format!("{}.png", "AB".repeat(32)),
        format!("{}.png", "ab".repeat(31)),
        hash.clone(),
        "../etc.png".to_string(),
    ] {
        assert_eq!(parse_image_name(&odd), None, "{odd}");
    }
}
